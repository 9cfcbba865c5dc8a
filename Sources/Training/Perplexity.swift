// Sliding-window perplexity exactly as the transformers guide "Perplexity of fixed-length models"
// defines it (formats.md §10.1): windows of `context` tokens advance by `stride`; a window scores the
// tokens no earlier window scored, except its own first token, which has no history inside the
// window. With stride == context every window scores context − 1 tokens. The mean is the exact
// per-token mean Σ NLL / N (not the guide's window-weighted approximation).
import Glibc
import Models

/// The windows of an evaluation: token range and the first scored index of each.
public struct PerplexityPlan: Sendable, Equatable {
    public struct Window: Sendable, Equatable {
        public let begin: Int
        public let end: Int
        /// Absolute index of the first scored token (≥ begin + 1).
        public let firstTarget: Int
        public var scored: Int { end - firstTarget }
    }

    public let context: Int
    public let stride: Int
    public let windows: [Window]

    public init(tokenCount n: Int, context: Int, stride: Int) {
        precondition(context >= 2 && stride >= 1 && stride <= context, "PerplexityPlan: context \(context), stride \(stride)")
        self.context = context
        self.stride = stride
        var w: [Window] = []
        var prevEnd = 0
        var begin = 0
        while begin < n {
            let end = min(begin + context, n)
            let first = max(prevEnd, begin + 1)
            if first < end { w.append(Window(begin: begin, end: end, firstTarget: first)) }
            prevEnd = end
            if end == n { break }
            begin += stride
        }
        windows = w
    }

    public var tokensScored: Int { windows.reduce(0) { $0 + $1.scored } }
}

/// Accumulated per-token negative log-likelihoods.
public struct PerplexityResult: Sendable {
    public var tokensScored = 0
    public var sumNLL = 0.0
    public var sumSquaredNLL = 0.0
    public var seconds = 0.0
    /// Per-token NLL in scoring order (kept for position-bucket statistics).
    public var nll: [Double] = []
    /// Position of each scored token inside its window.
    public var positions: [Int] = []

    public init() {}

    public var meanNLL: Double { tokensScored > 0 ? sumNLL / Double(tokensScored) : .nan }
    public var perplexity: Double { exp(meanNLL) }
    /// Standard error of the mean NLL.
    public var meanNLLStandardError: Double {
        guard tokensScored > 1 else { return .nan }
        let m = meanNLL
        let v = max(0, sumSquaredNLL / Double(tokensScored) - m * m)
        return (v / Double(tokensScored - 1)).squareRoot()
    }
    /// Standard error of the perplexity (delta method, as llama-perplexity prints it).
    public var perplexityStandardError: Double { perplexity * meanNLLStandardError }
    public var tokensPerSecond: Double { seconds > 0 ? Double(tokensScored) / seconds : 0 }

    /// Adds the NLLs of consecutive scored tokens of one window, the first at `firstPosition` inside it.
    public mutating func add(_ values: [Double], firstPosition: Int) {
        for (i, v) in values.enumerated() {
            sumNLL += v
            sumSquaredNLL += v * v
            nll.append(v)
            positions.append(firstPosition + i)
        }
        tokensScored += values.count
    }
}

/// Runs `model` over every window of `plan`; `progress(windowsDone, tokensDone)` is called after each.
public func evaluatePerplexity(model: CausalLanguageModel, tokens: [Int], plan: PerplexityPlan,
                               progress: (Int, Int) -> Void = { _, _ in }) -> PerplexityResult {
    var result = PerplexityResult()
    let start = monotonicSeconds()
    for (i, w) in plan.windows.enumerated() {
        let window = Array(tokens[w.begin..<w.end])
        let nll = model.windowNLL(window, firstTarget: w.firstTarget - w.begin)
        result.add(nll, firstPosition: w.firstTarget - w.begin)
        result.seconds = monotonicSeconds() - start
        progress(i + 1, result.tokensScored)
    }
    return result
}

/// Seconds from a monotonic clock.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

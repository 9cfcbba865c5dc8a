// Next-token selection from a row of logits: greedy (argmax) at temperature 0, otherwise temperature
// scaling, nucleus (top-p) truncation and a draw from the renormalised distribution with a seeded
// generator. Follows transformers' `TemperatureLogitsWarper` → `TopPLogitsWarper` → multinomial order
// (transformers `generation/logits_process.py` @ v5.17.0): the nucleus is the smallest set of most
// probable tokens whose mass reaches top_p, and it always holds the most probable token.
import Glibc
import TensorCore

/// How the next token is chosen.
public struct SamplingOptions: Sendable, Equatable {
    /// Softmax temperature; 0 means greedy (argmax), which ignores `topP` and the seed.
    public var temperature: Double
    /// Nucleus mass in (0, 1]; 1 keeps every token.
    public var topP: Double
    /// Seed of the generator the draws come from (same seed, same model, same prompt → same tokens).
    public var seed: UInt64

    /// Options; `temperature` ≥ 0 and finite, `topP` in (0, 1].
    public init(temperature: Double = 0, topP: Double = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topP = topP
        self.seed = seed
    }

    /// True when these options pick the argmax.
    public var isGreedy: Bool { temperature == 0 }
}

/// Picks token ids from logits rows; owns the random generator, so successive calls continue one stream.
public struct TokenSampler: Sendable {
    /// The options the sampler was made with.
    public let options: SamplingOptions
    /// The generator state (advanced by every non-greedy draw).
    public private(set) var rng: SeededRNG
    /// Per-token probabilities and ids of the last non-greedy step (reused to avoid allocation).
    private var probabilities: [Double] = []
    private var order: [Int] = []

    /// A sampler; traps on options outside their ranges (callers validate user input first).
    public init(_ options: SamplingOptions) {
        precondition(options.temperature >= 0 && options.temperature.isFinite, "TokenSampler: temperature \(options.temperature)")
        precondition(options.topP > 0 && options.topP <= 1, "TokenSampler: top-p \(options.topP)")
        self.options = options
        rng = SeededRNG(seed: options.seed)
    }

    /// The next token for `logits` [V] (one row; V > 0).
    public mutating func sample(_ logits: [Float]) -> Int {
        precondition(!logits.isEmpty, "TokenSampler.sample: empty logits")
        if options.isGreedy { return TokenSampler.argmax(logits) }
        return logits.withUnsafeBufferPointer { draw($0) }
    }

    /// The index of the largest logit; the lowest index among equal maxima (as `torch.argmax`). NaN
    /// logits never win.
    public static func argmax(_ logits: [Float]) -> Int {
        var best = 0
        var bestValue = logits[0]
        for i in logits.indices.dropFirst() {
            let x = logits[i]
            if x > bestValue || (bestValue.isNaN && !x.isNaN) {
                best = i
                bestValue = x
            }
        }
        return best
    }

    /// Temperature, nucleus and one draw.
    private mutating func draw(_ logits: UnsafeBufferPointer<Float>) -> Int {
        let v = logits.count
        let invT = 1 / options.temperature
        var maxLogit = -Double.infinity
        for x in logits where Double(x) > maxLogit { maxLogit = Double(x) }
        guard maxLogit.isFinite else { return TokenSampler.argmax(Array(logits)) }
        if probabilities.count != v { probabilities = [Double](repeating: 0, count: v) }
        var total = 0.0
        for i in 0..<v {
            let e = Double(logits[i]).isNaN ? 0 : exp((Double(logits[i]) - maxLogit) * invT)
            probabilities[i] = e
            total += e
        }
        // The candidate list: every token, or the nucleus in descending probability (ties: lower id first).
        var keptMass = total
        var count = v
        if options.topP < 1 {
            // Only tokens with p ≥ τ = (1 − top_p)·Σp/V can be in the nucleus: the others hold less than
            // (1 − top_p)·Σp together, so the rest reach top_p·Σp first. Sorting just those is exact.
            let tau = (1 - options.topP) * total / Double(v)
            order.removeAll(keepingCapacity: true)
            for i in 0..<v where probabilities[i] >= tau { order.append(i) }
            let p = probabilities
            order.sort { p[$0] > p[$1] || (p[$0] == p[$1] && $0 < $1) }
            var mass = 0.0
            count = 0
            for id in order {
                mass += p[id]
                count += 1
                if mass >= options.topP * total { break }
            }
            keptMass = mass
        }
        let u = rng.nextDouble() * keptMass
        var acc = 0.0
        for j in 0..<count {
            let id = options.topP < 1 ? order[j] : j
            acc += probabilities[id]
            if u < acc { return id }
        }
        // Rounding left u at the very top: the last candidate with nonzero probability.
        for j in stride(from: count - 1, through: 0, by: -1) {
            let id = options.topP < 1 ? order[j] : j
            if probabilities[id] > 0 { return id }
        }
        return options.topP < 1 ? order[0] : 0
    }
}

// Per-token scores of a teacher and a student on the same targets, and their summaries: perplexity of
// each (± standard error), the student/teacher perplexity ratio with a paired standard error, the mean
// KL(teacher ‖ student), top-1 agreement, and the same by position inside the window.
import Glibc
import Training

/// Mean and standard error of a sample, accumulated one value at a time.
public struct MeanEstimate: Sendable, Equatable {
    /// Values added.
    public private(set) var count = 0
    /// Their sum.
    public private(set) var sum = 0.0
    /// The sum of their squares.
    public private(set) var sumOfSquares = 0.0

    /// An empty sample.
    public init() {}

    /// Adds one value.
    public mutating func add(_ x: Double) {
        count += 1
        sum += x
        sumOfSquares += x * x
    }

    /// The sample mean (NaN when empty).
    public var mean: Double { count > 0 ? sum / Double(count) : .nan }
    /// Standard error of the mean (values treated as independent).
    public var standardError: Double {
        guard count > 1 else { return .nan }
        let m = mean
        return (max(0, sumOfSquares / Double(count) - m * m) / Double(count - 1)).squareRoot()
    }
}

/// Teacher and student scores of every scored token, in scoring order.
public struct TokenScores: Sendable {
    /// Teacher NLLs (with their positions inside the window).
    public var teacher = PerplexityResult()
    /// Student NLLs of the same targets.
    public var student = PerplexityResult()
    /// KL(p_teacher ‖ p_student) of each target's predictive distribution, in nats.
    public var kl: [Double] = []
    /// Whether teacher and student put their highest logit on the same token.
    public var agree: [Bool] = []

    /// No tokens yet.
    public init() {}

    /// Tokens scored.
    public var count: Int { kl.count }
    /// Position inside the window of each scored target (the number of tokens of context it had).
    public var positions: [Int] { teacher.positions }

    /// Appends the scores of consecutive targets of one window, the first at `firstPosition`.
    public mutating func add(teacherNLL: [Double], studentNLL: [Double], kl: [Double], agree: [Bool], firstPosition: Int) {
        precondition(teacherNLL.count == studentNLL.count && kl.count == teacherNLL.count && agree.count == kl.count,
                     "TokenScores.add: \(teacherNLL.count)/\(studentNLL.count)/\(kl.count)/\(agree.count) values")
        teacher.add(teacherNLL, firstPosition: firstPosition)
        student.add(studentNLL, firstPosition: firstPosition)
        self.kl += kl
        self.agree += agree
    }

    /// Appends all of `other`'s tokens (to pool several texts).
    public mutating func append(_ other: TokenScores) {
        for i in 0..<other.count {
            add(teacherNLL: [other.teacher.nll[i]], studentNLL: [other.student.nll[i]], kl: [other.kl[i]], agree: [other.agree[i]],
                firstPosition: other.positions[i])
        }
    }

    /// The summary of the tokens whose index passes `include` (all by default).
    public func summary(where include: (Int) -> Bool = { _ in true }) -> ScoreSummary {
        var t = PerplexityResult(), s = PerplexityResult()
        var diff = MeanEstimate(), klMean = MeanEstimate()
        var agreed = 0
        for i in 0..<count where include(i) {
            t.add([teacher.nll[i]], firstPosition: teacher.positions[i])
            s.add([student.nll[i]], firstPosition: teacher.positions[i])
            diff.add(student.nll[i] - teacher.nll[i])
            klMean.add(kl[i])
            if agree[i] { agreed += 1 }
        }
        return ScoreSummary(tokens: t.tokensScored, teacher: PerplexityFigure(t), student: PerplexityFigure(s),
                            ratio: exp(diff.mean), ratioStandardError: exp(diff.mean) * diff.standardError,
                            meanKL: klMean.mean, klStandardError: klMean.standardError,
                            top1Agreement: t.tokensScored > 0 ? Double(agreed) / Double(t.tokensScored) : .nan)
    }

    /// Summaries by position bucket.
    public func summaries(by buckets: PositionBuckets) -> [(bucket: PositionBuckets.Bucket, summary: ScoreSummary)] {
        let pos = positions
        return buckets.buckets.map { b in (b, summary { b.range.contains(pos[$0]) }) }
    }
}

/// Perplexity of one model on a set of tokens.
public struct PerplexityFigure: Sendable, Equatable {
    /// Mean negative log-likelihood, nats per token.
    public let meanNLL: Double
    /// Its standard error.
    public let meanNLLStandardError: Double
    /// exp(meanNLL).
    public let perplexity: Double
    /// Standard error of the perplexity (delta method, as llama-perplexity prints it).
    public let perplexityStandardError: Double

    /// The figures of an accumulated result.
    public init(_ r: PerplexityResult) {
        meanNLL = r.meanNLL
        meanNLLStandardError = r.meanNLLStandardError
        perplexity = r.perplexity
        perplexityStandardError = r.perplexityStandardError
    }
}

/// Teacher vs student on a set of tokens.
public struct ScoreSummary: Sendable, Equatable {
    /// Tokens summarised.
    public let tokens: Int
    /// The teacher's perplexity.
    public let teacher: PerplexityFigure
    /// The student's perplexity.
    public let student: PerplexityFigure
    /// Student perplexity / teacher perplexity = exp(mean(NLL_s − NLL_t)).
    public let ratio: Double
    /// Standard error of the ratio from the paired per-token differences (delta method).
    public let ratioStandardError: Double
    /// Mean KL(teacher ‖ student) per token, nats.
    public let meanKL: Double
    /// Standard error of the mean KL.
    public let klStandardError: Double
    /// Fraction of tokens on which the two models' argmax agree.
    public let top1Agreement: Double
}

/// Ranges of positions inside the window: 1–63, 64–127, 128–255, … (doubling) up to the context length.
public struct PositionBuckets: Sendable, Equatable {
    /// One bucket: targets at positions `range` (position = tokens of context before the target).
    public struct Bucket: Sendable, Equatable {
        /// Positions included.
        public let range: Range<Int>
        /// "64–127"
        public var label: String { "\(range.lowerBound)–\(range.upperBound - 1)" }
    }

    /// The buckets, in position order.
    public let buckets: [Bucket]

    /// Buckets covering positions 1 ..< context; the first ends at `firstEdge`, each next one is twice as wide.
    public init(context: Int, firstEdge: Int = 64) {
        precondition(context >= 2 && firstEdge >= 2, "PositionBuckets: context \(context), first edge \(firstEdge)")
        var edges = [1]
        var e = firstEdge
        while e < context {
            edges.append(e)
            e *= 2
        }
        edges.append(context)
        buckets = zip(edges, edges.dropFirst()).map { Bucket(range: $0..<$1) }
    }
}

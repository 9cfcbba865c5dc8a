// The comparison engine: teacher and student run on the same sliding windows (PerplexityPlan, as
// `t2r perplexity` evaluates); for every scored target it records both NLLs, KL(teacher ‖ student)
// between the full next-token distributions, and whether their argmax agree. Logits are computed
// `rowsPerBlock` rows at a time for both models, so [T, Vocab] matrices never exist whole (the
// vocabulary is 49,152 for SmolLM2).
import Models
import Ops
import TensorCore
import Tokenization
import Training

/// A teacher/student pair that do not fit together.
public struct ComparisonError: T2RError {
    /// What does not fit.
    public let problem: String
    /// An error saying `problem`.
    public init(_ problem: String) { self.problem = problem }
    /// Bad input (exit code 65).
    public var category: ErrorCategory { .badInput }
    /// The message.
    public var description: String { problem }
}

/// Scores a teacher and a student on the same tokens.
public enum ModelComparison {
    /// Scores every window of `plan` over `tokens` with both models. `progress(windowsDone, tokensDone)`
    /// is called after each window.
    public static func score(teacher: ComparableModel, student: ComparableModel, tokens: [Int], plan: PerplexityPlan,
                             rowsPerBlock: Int = 128, progress: (Int, Int) -> Void = { _, _ in }) throws -> TokenScores {
        guard teacher.vocabSize == student.vocabSize else {
            throw ComparisonError("the teacher's vocabulary has \(teacher.vocabSize) tokens and the student's \(student.vocabSize); "
                + "a comparison needs a student made from this teacher (same tokenizer and vocabulary)")
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= teacher.vocabSize }) {
            throw ComparisonError("token id \(bad) is outside the vocabulary 0..<\(teacher.vocabSize)")
        }
        var scores = TokenScores()
        for (i, w) in plan.windows.enumerated() {
            let window = Array(tokens[w.begin..<w.end])
            let first = w.firstTarget - w.begin
            let ht = teacher.hiddenStates(window), hs = student.hiddenStates(window)
            // Row r of the hidden states predicts token r + 1.
            var r = first - 1
            while r < window.count - 1 {
                let e = min(window.count - 1, r + max(1, rowsPerBlock))
                let targets = Array(window[(r + 1)...e])
                let block = compareRows(teacher: teacher.logits(ht.rows(r..<e)), student: student.logits(hs.rows(r..<e)), targets: targets)
                scores.add(teacherNLL: block.teacherNLL, studentNLL: block.studentNLL, kl: block.kl, agree: block.agree,
                           firstPosition: r + 1)
                r = e
            }
            progress(i + 1, scores.count)
        }
        return scores
    }

    /// Per-row NLL of `targets` under both logits [N, Vocab], KL(softmax(teacher) ‖ softmax(student)) and argmax agreement.
    public static func compareRows(teacher: Tensor, student: Tensor, targets: [Int])
        -> (teacherNLL: [Double], studentNLL: [Double], kl: [Double], agree: [Bool]) {
        precondition(teacher.shape == student.shape && teacher.rowCount == targets.count,
                     "compareRows: teacher \(Shape.describe(teacher.shape)), student \(Shape.describe(student.shape)), \(targets.count) targets")
        let n = targets.count, v = teacher.lastDim
        let nllT = negativeLogLikelihood(logits: teacher, targets: targets)
        let nllS = negativeLogLikelihood(logits: student, targets: targets)
        var kl = [Double](repeating: 0, count: n)
        var agree = [Bool](repeating: false, count: n)
        kl.withUnsafeMutableBufferPointer { klb in
            agree.withUnsafeMutableBufferPointer { ab in
                let klp = klb.baseAddress!, ap = ab.baseAddress!
                parallelFor(n) { i in
                    let t = teacher.rows(i..<(i + 1)), s = student.rows(i..<(i + 1))
                    klp[i] = klDivergenceForwardBackward(dStudent: nil, student: s, teacher: t, temperature: 1, scale: 1)
                    ap[i] = argmax(t.pointer, v) == argmax(s.pointer, v)
                }
            }
        }
        return (nllT, nllS, kl, agree)
    }

    /// Index of the first largest of n floats.
    static func argmax(_ x: UnsafePointer<Float>, _ n: Int) -> Int {
        let m = vectorMax(x, n)
        for i in 0..<n where x[i] == m { return i }
        return 0
    }
}

extension ModelComparison {
    /// Checks that two tokenizers have the same vocabulary (same size, same token string at every id), so a
    /// text tokenized by the teacher's means the same to the student.
    public static func checkSameVocabulary(teacher: BPETokenizer, student: BPETokenizer, teacherPath: String, studentPath: String) throws {
        guard teacher.vocabularySize == student.vocabularySize else {
            throw ComparisonError("the tokenizer of \(studentPath) has \(student.vocabularySize) tokens and that of \(teacherPath) "
                + "\(teacher.vocabularySize); a comparison needs a student made from this teacher")
        }
        for id in 0..<teacher.vocabularySize where teacher.token(for: id) != student.token(for: id) {
            throw ComparisonError("the tokenizers of \(teacherPath) and \(studentPath) differ at id \(id) "
                + "(\(teacher.token(for: id).map { "\"\($0)\"" } ?? "none") vs \(student.token(for: id).map { "\"\($0)\"" } ?? "none")); "
                + "a comparison needs a student made from this teacher")
        }
    }
}

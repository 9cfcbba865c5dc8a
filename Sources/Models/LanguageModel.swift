// What perplexity evaluation and comparison need from a model: per-token negative log-likelihoods of a
// window of tokens given the tokens before them in the same window. Teacher and student both conform.

public protocol CausalLanguageModel: AnyObject, Sendable {
    var vocabSize: Int { get }
    /// nll[i] = −log p(tokens[firstTarget + i] | tokens[0 ..< firstTarget + i]) for every target from
    /// `firstTarget` (≥ 1) to the end of the window. The window is one sequence starting at position 0.
    func windowNLL(_ tokens: [Int], firstTarget: Int) -> [Double]
}

extension TeacherModel: CausalLanguageModel {
    public var vocabSize: Int { config.vocabSize }

    public func windowNLL(_ tokens: [Int], firstTarget: Int) -> [Double] {
        precondition(firstTarget >= 1 && firstTarget <= tokens.count, "windowNLL: firstTarget \(firstTarget) for \(tokens.count) tokens")
        let hidden = forward(tokens: tokens, batch: 1)
        // Logits only for the rows that predict a scored token (as llama.cpp's perplexity does).
        return negativeLogLikelihood(hidden: hidden.rows((firstTarget - 1)..<(tokens.count - 1)),
                                     targets: Array(tokens[firstTarget...]))
    }
}

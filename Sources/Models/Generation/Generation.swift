// Autoregressive generation: prefill the prompt in one forward pass, then sample one token, feed it,
// and repeat until a stop token (EOS) or the token budget. Tokens are handed to a callback as they are
// chosen (for streaming); the library prints nothing.
import TensorCore

/// What to generate.
public struct GenerationOptions: Sendable, Equatable {
    /// Most tokens to generate (choosing a stop token ends generation earlier).
    public var maxNewTokens: Int
    /// How each token is chosen.
    public var sampling: SamplingOptions
    /// Ids that end the generation (the tokenizer's / config's EOS ids); they are not passed to the callback.
    public var stopTokens: Set<Int>

    /// Options; `maxNewTokens` ≥ 0.
    public init(maxNewTokens: Int, sampling: SamplingOptions = SamplingOptions(), stopTokens: Set<Int> = []) {
        self.maxNewTokens = maxNewTokens
        self.sampling = sampling
        self.stopTokens = stopTokens
    }
}

/// Why generation ended.
public enum GenerationStopReason: Sendable, Equatable {
    /// A stop token (its id) was chosen.
    case stopToken(Int)
    /// `maxNewTokens` tokens were generated.
    case maxTokens
    /// The callback asked to stop.
    case cancelled
}

/// The outcome of `generate`.
public struct GenerationResult: Sendable, Equatable {
    /// Tokens of the prompt.
    public var promptTokens: Int
    /// The generated ids passed to the callback, in order (no stop token).
    public var tokens: [Int]
    /// Why it ended.
    public var stopReason: GenerationStopReason
    /// Per-sequence state bytes at the end (`IncrementalDecoder.stateBytes`).
    public var stateBytes: Int
    /// Tokens the model consumed (prompt + fed generated tokens).
    public var positions: Int
}

/// Generates a continuation of `prompt` (≥ 1 token, every id < vocabSize) with `model`.
///
/// The prompt is fed in one forward pass; each chosen token is passed to `onToken` and then fed back
/// (except the last one, whose successor is never needed). `onToken` returns false to stop early.
public func generate(model: GenerativeLanguageModel, prompt: [Int], options: GenerationOptions,
                     onToken: (Int) -> Bool) -> GenerationResult {
    precondition(!prompt.isEmpty, "generate: empty prompt")
    precondition(options.maxNewTokens >= 0, "generate: maxNewTokens \(options.maxNewTokens)")
    var result = GenerationResult(promptTokens: prompt.count, tokens: [], stopReason: .maxTokens, stateBytes: 0, positions: 0)
    guard options.maxNewTokens > 0 else { return result }
    let decoder = model.makeDecoder(capacity: prompt.count + options.maxNewTokens - 1)
    var sampler = TokenSampler(options.sampling)
    var logits = decoder.feed(prompt)
    while true {
        let next = sampler.sample(logits)
        if options.stopTokens.contains(next) {
            result.stopReason = .stopToken(next)
            break
        }
        result.tokens.append(next)
        if !onToken(next) {
            result.stopReason = .cancelled
            break
        }
        if result.tokens.count >= options.maxNewTokens { break }
        logits = decoder.feed([next])
    }
    result.stateBytes = decoder.stateBytes
    result.positions = decoder.position
    return result
}

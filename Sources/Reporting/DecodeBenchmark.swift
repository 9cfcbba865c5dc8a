// Decoding speed and memory at several context lengths: the model consumes (prefills) a prompt up to
// each length in turn, then decodes `steps` tokens one at a time (T = 1, with the LM head, as a
// generator would), each timed on its own. The teacher decodes with its KV cache, whose size and
// per-token attention cost grow with the context; the student decodes with its recurrent GSA state,
// constant in size. The tokens are the text's own (teacher forcing), so both models see the same input.
import Training

/// One measured context length.
public struct DecodePoint: Sendable, Equatable {
    /// Tokens already in the state when the timed steps start (the requested length, or the previous length + steps
    /// when that is further).
    public let context: Int
    /// Median milliseconds per decoded token (one forward of T = 1 plus the LM head).
    public let millisecondsPerToken: Double
    /// Bytes of the decoding state (KV cache and/or recurrent state) at `context` tokens.
    public let stateBytes: Int
    /// Seconds spent consuming the prompt up to `context` (from the previous length).
    public let prefillSeconds: Double

    /// Decoded tokens per second (1000 / ms per token).
    public var tokensPerSecond: Double { millisecondsPerToken > 0 ? 1000 / millisecondsPerToken : 0 }
}

/// Times incremental decoding of one model.
public enum DecodeBenchmark {
    /// Measures `model` at each of `contexts` (ascending, distinct, ≥ 1). `tokens` supplies the input and
    /// is repeated when shorter than max(contexts) + steps. `progress(lengthsDone)` after each length.
    public static func run(model: ComparableModel, tokens: [Int], contexts: [Int], steps: Int,
                           progress: (Int) -> Void = { _ in }) -> [DecodePoint] {
        precondition(!tokens.isEmpty && steps >= 1, "DecodeBenchmark: \(tokens.count) tokens, \(steps) steps")
        precondition(zip(contexts, contexts.dropFirst()).allSatisfy { $0 < $1 } && (contexts.first ?? 1) >= 1,
                     "DecodeBenchmark: contexts must be ascending and ≥ 1: \(contexts)")
        guard !contexts.isEmpty else { return [] }
        // Where the sequence ends: each length starts at max(length, previous start + steps).
        let end = contexts.reduce(0) { max($0, $1) + steps }
        let decoder = model.makeDecoder(capacity: end)
        func token(_ p: Int) -> Int { tokens[p % tokens.count] }
        var points: [DecodePoint] = []
        for (i, context) in contexts.enumerated() {
            let start = monotonicSeconds()
            // Prefill in chunks of 512 so the activations of a long prompt stay small.
            while decoder.position < context {
                let end = min(context, decoder.position + 512)
                _ = decoder.advance((decoder.position..<end).map(token))
            }
            let prefill = monotonicSeconds() - start
            // A length closer than `steps` to the previous one starts where the previous steps ended.
            let actual = decoder.position, bytes = decoder.stateBytes
            var times: [Double] = []
            for _ in 0..<steps {
                let t0 = monotonicSeconds()
                let hidden = decoder.advance([token(decoder.position)])
                _ = model.logits(hidden)
                times.append(monotonicSeconds() - t0)
            }
            times.sort()
            let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
            points.append(DecodePoint(context: actual, millisecondsPerToken: median * 1000, stateBytes: bytes, prefillSeconds: prefill))
            progress(i + 1)
        }
        return points
    }
}

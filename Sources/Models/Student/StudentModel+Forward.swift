// The student's forward pass for evaluation and generation: whole windows through the chunked GSA
// form, or a few tokens at a time continuing a `StudentState` (recurrent form; the state's size does
// not grow with the context). Mixer outputs can be captured for stage-1 diagnostics.
import Ops
import TensorCore

/// Per-layer outputs a student forward can keep.
public struct StudentCapture: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// The mixer output added to the residual (after o_proj): [B·T, D] per layer.
    public static let mixerOutputs = StudentCapture(rawValue: 1)
}

extension StudentModel {
    /// Runs the student over `tokens` ([B, T] flattened) and returns the final-normed hidden states
    /// [B·T, D]. With a `state`, continues its sequences (GSA slot states, softmax caches) and advances it.
    public func forward(tokens: [Int], batch: Int, state: StudentState? = nil, capture: StudentCapture = [],
                        mixerOutputs: UnsafeMutablePointer<[Tensor]>? = nil) -> Tensor {
        forwardLock.withLock { _ in forwardLocked(tokens: tokens, batch: batch, state: state, capture: capture, mixerOutputs: mixerOutputs) }
    }

    private func forwardLocked(tokens: [Int], batch: Int, state: StudentState?, capture: StudentCapture,
                               mixerOutputs: UnsafeMutablePointer<[Tensor]>?) -> Tensor {
        let c = config
        precondition(batch > 0 && tokens.count % batch == 0, "forward: \(tokens.count) tokens for batch \(batch)")
        if let state { precondition(state.batch == batch, "forward: state batch \(state.batch) != \(batch)") }
        let T = tokens.count / batch, n = tokens.count, d = c.hiddenSize
        let x = Tensor(uninitialized: [n, d]), h = Tensor(uninitialized: [n, d]), y = Tensor(uninitialized: [n, d])
        let gu = Tensor(uninitialized: [n, 2 * c.intermediateSize]), act = Tensor(uninitialized: [n, c.intermediateSize])
        let gsaActs = (0..<c.numLayers).contains { !c.isSoftmaxLayer($0) } ? GSAMixerActivations(model: self, batch: batch, length: T) : nil
        let smActs = c.hybrid != nil ? SoftmaxMixerActivations(model: self, batch: batch, length: T) : nil
        embeddingForward(x, ids: tokens, table: value(.embeddings))
        let eps = Float(c.normEps)
        for l in 0..<c.numLayers {
            rmsNormForward(h, x, weight: value(.attnNorm(l)), eps: eps)
            if c.isSoftmaxLayer(l) {
                softmaxMixerForward(l, h: h, y: y, smActs!, state: state)
            } else {
                gsaMixerForward(l, h: h, y: y, gsaActs!, state: state)
            }
            if capture.contains(.mixerOutputs) { mixerOutputs?.pointee.append(y.copy()) }
            addInPlace(x, y)
            rmsNormForward(h, x, weight: value(.mlpNorm(l)), eps: eps)
            linearForward(gu, h, gateUp(l))
            swigluForward(act, gateUp: gu)
            linearForward(x, act, value(.downProj(l)), accumulate: true)
        }
        state?.position += T
        rmsNormForward(x, x, weight: value(.finalNorm), eps: eps)
        return x
    }

    /// logits: [N, Vocab] = hidden: [N, D] · lm_headᵀ.
    public func logits(_ hidden: Tensor) -> Tensor {
        let out = Tensor(uninitialized: [hidden.rowCount, config.vocabSize])
        linearForward(out, hidden, lmHead)
        return out
    }

    /// −log p(targets[r] | …) per row of `hidden`, logits computed block by block.
    public func negativeLogLikelihood(hidden: Tensor, targets: [Int], rowsPerBlock: Int = 256) -> [Double] {
        var out: [Double] = []
        var r = 0
        while r < targets.count {
            let e = min(targets.count, r + rowsPerBlock)
            out += Ops.negativeLogLikelihood(logits: logits(hidden.rows(r..<e)), targets: Array(targets[r..<e]))
            r = e
        }
        return out
    }
}

extension StudentModel: CausalLanguageModel {
    public func windowNLL(_ tokens: [Int], firstTarget: Int) -> [Double] {
        precondition(firstTarget >= 1 && firstTarget <= tokens.count, "windowNLL: firstTarget \(firstTarget) for \(tokens.count) tokens")
        let hidden = forward(tokens: tokens, batch: 1)
        return negativeLogLikelihood(hidden: hidden.rows((firstTarget - 1)..<(tokens.count - 1)), targets: Array(tokens[firstTarget...]))
    }
}

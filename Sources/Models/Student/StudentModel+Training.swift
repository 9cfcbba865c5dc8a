// The student's training forward (keeping every activation its backward needs, allocated once per
// batch shape and reused) and the backward: the literal reverse of the forward, accumulating gradients
// into the trainable tensors of the ParameterBuffer only (frozen tensors cost no gradient work beyond
// what the input gradient needs).
import Ops
import TensorCore

/// Everything one training step keeps, for B sequences of T tokens.
public final class StudentTrainingActivations: @unchecked Sendable {
    public let batch: Int
    public let length: Int
    public internal(set) var tokens: [Int] = []
    /// xs[l]: the residual entering layer l; xs[L]: the last layer's output.
    let xs: [Tensor]
    let h1: [Tensor]  // attn_norm outputs
    let rstd1: [Tensor]
    let mixerOut: Tensor  // scratch [N, D]
    let gsa: [GSAMixerActivations?]
    let softmax: [SoftmaxMixerActivations?]
    let xMid: [Tensor]  // residual after the mixer
    let h2: [Tensor]  // mlp_norm outputs
    let rstd2: [Tensor]
    let gateUp: [Tensor]  // [N, 2I]
    let act: [Tensor]  // [N, I]
    /// Final-normed hidden states [N, D] (the LM head input).
    public let hidden: Tensor
    let rstdFinal: Tensor
    // Backward scratch, reused every step.
    let gsaGrads: GSAMixerGradients?
    let dx: Tensor, dAct: Tensor, dGU: Tensor, dh: Tensor

    public init(model m: StudentModel, batch: Int, length: Int) {
        let c = m.config, n = batch * length, d = c.hiddenSize, L = c.numLayers
        self.batch = batch
        self.length = length
        xs = (0...L).map { _ in Tensor(zeros: [n, d]) }
        h1 = (0..<L).map { _ in Tensor(zeros: [n, d]) }
        rstd1 = (0..<L).map { _ in Tensor(zeros: [n]) }
        mixerOut = Tensor(zeros: [n, d])
        gsa = (0..<L).map { c.isSoftmaxLayer($0) ? nil : GSAMixerActivations(model: m, batch: batch, length: length) }
        softmax = (0..<L).map { c.isSoftmaxLayer($0) ? SoftmaxMixerActivations(model: m, batch: batch, length: length) : nil }
        xMid = (0..<L).map { _ in Tensor(zeros: [n, d]) }
        h2 = (0..<L).map { _ in Tensor(zeros: [n, d]) }
        rstd2 = (0..<L).map { _ in Tensor(zeros: [n]) }
        gateUp = (0..<L).map { _ in Tensor(zeros: [n, 2 * c.intermediateSize]) }
        act = (0..<L).map { _ in Tensor(zeros: [n, c.intermediateSize]) }
        hidden = Tensor(zeros: [n, d])
        rstdFinal = Tensor(zeros: [n])
        gsaGrads = gsa.contains { $0 != nil } ? GSAMixerGradients(model: m, batch: batch, length: length) : nil
        dx = Tensor(zeros: [n, d])
        dAct = Tensor(zeros: [n, c.intermediateSize])
        dGU = Tensor(zeros: [n, 2 * c.intermediateSize])
        dh = Tensor(zeros: [n, d])
    }
}

extension StudentModel {
    /// Training forward over `tokens` ([B, T] flattened); fills `a` and returns `a.hidden`.
    @discardableResult
    public func forwardTraining(tokens: [Int], _ a: StudentTrainingActivations) -> Tensor {
        let c = config, eps = Float(c.normEps)
        precondition(tokens.count == a.batch * a.length, "forwardTraining: \(tokens.count) tokens for activations of \(a.batch)×\(a.length)")
        a.tokens = tokens
        embeddingForward(a.xs[0], ids: tokens, table: value(.embeddings))
        for l in 0..<c.numLayers {
            rmsNormForward(a.h1[l], rstd: a.rstd1[l], a.xs[l], weight: value(.attnNorm(l)), eps: eps)
            if let s = a.softmax[l] {
                softmaxMixerForward(l, h: a.h1[l], y: a.mixerOut, s)
            } else {
                gsaMixerForward(l, h: a.h1[l], y: a.mixerOut, a.gsa[l]!)
            }
            addInto(a.xMid[l], a.xs[l], a.mixerOut)
            rmsNormForward(a.h2[l], rstd: a.rstd2[l], a.xMid[l], weight: value(.mlpNorm(l)), eps: eps)
            linearForward(a.gateUp[l], a.h2[l], gateUp(l))
            swigluForward(a.act[l], gateUp: a.gateUp[l])
            a.xs[l + 1].assign(a.xMid[l])
            linearForward(a.xs[l + 1], a.act[l], value(.downProj(l)), accumulate: true)
        }
        rmsNormForward(a.hidden, rstd: a.rstdFinal, a.xs[c.numLayers], weight: value(.finalNorm), eps: eps)
        return a.hidden
    }

    /// Backward of `forwardTraining` from dHidden: [N, D] (the gradient at the LM head input).
    public func backward(_ a: StudentTrainingActivations, dHidden: Tensor) {
        let c = config
        let (dx, dAct, dGU, dh) = (a.dx, a.dAct, a.dGU, a.dh)
        dx.zero()
        // hidden = RMSNorm(xs[L]) · w_final
        rmsNormBackward(dx: dx, dw: grad(.finalNorm), dy: dHidden, x: a.xs[c.numLayers], weight: value(.finalNorm), rstd: a.rstdFinal)
        for l in stride(from: c.numLayers - 1, through: 0, by: -1) {
            // x_{l+1} = xMid + act · W_downᵀ
            dAct.zero()
            linearBackward(dx: dAct, dw: grad(.downProj(l)), dy: dx, x: a.act[l], w: value(.downProj(l)))
            dGU.zero()
            swigluBackward(dGateUp: dGU, dOut: dAct, gateUp: a.gateUp[l])
            dh.zero()
            matmulAB(dh, dGU, gateUp(l))
            let inter = c.intermediateSize
            if let gg = grad(.gateProj(l)) { linearWeightGradient(gg, dy: dGU.pointer, dyStride: 2 * inter, col: 0, x: a.h2[l]) }
            if let gu = grad(.upProj(l)) { linearWeightGradient(gu, dy: dGU.pointer, dyStride: 2 * inter, col: inter, x: a.h2[l]) }
            // h2 = RMSNorm(xMid); dx (residual) flows on unchanged
            rmsNormBackward(dx: dx, dw: grad(.mlpNorm(l)), dy: dh, x: a.xMid[l], weight: value(.mlpNorm(l)), rstd: a.rstd2[l])
            // xMid = xs[l] + mixer(h1)
            dh.zero()
            if let s = a.softmax[l] {
                softmaxMixerBackward(l, dy: dx, h: a.h1[l], s, dh: dh)
            } else {
                gsaMixerBackward(l, dy: dx, h: a.h1[l], a.gsa[l]!, dh: dh, scratch: a.gsaGrads)
            }
            rmsNormBackward(dx: dx, dw: grad(.attnNorm(l)), dy: dh, x: a.xs[l], weight: value(.attnNorm(l)), rstd: a.rstd1[l])
        }
        if let de = grad(.embeddings) { embeddingBackward(dTable: de, dOut: dx, ids: a.tokens) }

    }

    /// LM head over a block of rows: logits = hidden · Wᵀ.
    public func headForward(_ logits: Tensor, hidden: Tensor) { linearForward(logits, hidden, lmHead) }

    /// Backward of `headForward`: dHidden += dLogits · W; dW += dLogitsᵀ · hidden (if trainable).
    public func headBackward(dHidden: Tensor, dLogits: Tensor, hidden: Tensor) {
        linearBackward(dx: dHidden, dw: lmHeadGrad, dy: dLogits, x: hidden, w: lmHead)
    }
}

/// out = a + b elementwise.
func addInto(_ out: Tensor, _ a: Tensor, _ b: Tensor) {
    let o = out.pointer, x = a.pointer, y = b.pointer
    parallelRanges(out.count) { r in for i in r { o[i] = x[i] + y[i] } }
}

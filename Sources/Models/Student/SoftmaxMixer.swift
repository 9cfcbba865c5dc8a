// The softmax-attention mixer of the layers a hybrid student keeps (fla.layers.attn.Attention, gsa.md
// §14): [q | k | v] = h·Wᵀ, rotate-half RoPE with attn.rope_theta, causal GQA attention with scale
// head_dim^-0.5 and the optional window, then o_proj — the teacher's computation, so converted weights
// behave exactly as in the teacher. With a state, keys and values go into its cache.
import Ops
import TensorCore

/// What the softmax mixer keeps for its backward.
public final class SoftmaxMixerActivations: @unchecked Sendable {
    public let batch: Int
    public let length: Int
    let P: Tensor  // [N, Wq + 2·Wkv], q and k after RoPE
    let attn: Tensor  // [N, Wq] attention output (o_proj input)

    public init(model m: StudentModel, batch: Int, length: Int) {
        let w = m.softmaxWidths, n = batch * length
        self.batch = batch
        self.length = length
        P = Tensor(zeros: [n, w.q + 2 * w.kv])
        attn = Tensor(zeros: [n, w.q])
    }
}

extension StudentModel {
    func softmaxGeometry(batch: Int, length: Int, offset: Int) -> AttentionGeometry {
        let h = config.hybrid!
        return AttentionGeometry(batch: batch, queryLength: length, heads: h.numHeads, kvHeads: h.numKVHeads,
                                 headDim: config.softmaxHeadDim, queryOffset: offset, window: h.windowSize)
    }

    /// Forward of softmax layer `l` on h: [N, D] into y: [N, D].
    public func softmaxMixerForward(_ l: Int, h: Tensor, y: Tensor, _ a: SoftmaxMixerActivations, state: StudentState? = nil) {
        precondition(config.isSoftmaxLayer(l), "softmaxMixerForward: layer \(l) is a GSA layer")
        let w = softmaxWidths, T = a.length, B = a.batch, stride = w.q + 2 * w.kv
        let p0 = state?.position ?? 0
        linearForward(a.P, h, fusedProjection(l))
        rope!.reserve(p0 + T)
        rope!.apply(a.P.pointer, rows: B * T, rowStride: stride, heads: config.hybrid!.numHeads + config.hybrid!.numKVHeads) { p0 + $0 % T }
        var keys = UnsafePointer(a.P.pointer + w.q), values = UnsafePointer(a.P.pointer + w.q + w.kv)
        var kvStride = stride, kvBatch = T * stride
        if let state {
            precondition(p0 + T <= state.capacity, "softmax layer \(l): cache capacity \(state.capacity) exceeded at \(p0 + T)")
            let kc = state.keys[l]!, vc = state.values[l]!
            for b in 0..<B {
                for t in 0..<T {
                    let row = a.P.pointer + (b * T + t) * stride
                    (kc.pointer + (b * state.capacity + p0 + t) * w.kv).update(from: row + w.q, count: w.kv)
                    (vc.pointer + (b * state.capacity + p0 + t) * w.kv).update(from: row + w.q + w.kv, count: w.kv)
                }
            }
            keys = UnsafePointer(kc.pointer)
            values = UnsafePointer(vc.pointer)
            kvStride = w.kv
            kvBatch = state.capacity * w.kv
        }
        causalAttentionForward(AttentionOperands(out: a.attn.pointer, outRowStride: w.q, q: a.P.pointer, qRowStride: stride,
                                                 keys: keys, values: values, kvRowStride: kvStride, kvBatchStride: kvBatch),
                               softmaxGeometry(batch: B, length: T, offset: p0), scratch: scratch)
        linearForward(y, a.attn, value(.oProj(l)))
    }

    /// Backward of `softmaxMixerForward` (stateless form).
    public func softmaxMixerBackward(_ l: Int, dy: Tensor, h: Tensor, _ a: SoftmaxMixerActivations, dh: Tensor?) {
        let w = softmaxWidths, T = a.length, B = a.batch, stride = w.q + 2 * w.kv
        let dAttn = Tensor(zeros: a.attn.shape)
        linearBackward(dx: dAttn, dw: grad(.oProj(l)), dy: dy, x: a.attn, w: value(.oProj(l)))
        let dP = Tensor(zeros: a.P.shape)
        causalAttentionBackward(
            AttentionOperands(out: a.attn.pointer, outRowStride: w.q, q: a.P.pointer, qRowStride: stride,
                              keys: a.P.pointer + w.q, values: a.P.pointer + w.q + w.kv, kvRowStride: stride, kvBatchStride: T * stride),
            dOut: dAttn.pointer, dOutRowStride: w.q,
            AttentionGradients(dq: dP.pointer, dqRowStride: stride, dk: dP.pointer + w.q, dv: dP.pointer + w.q + w.kv,
                               dkvRowStride: stride, dkvBatchStride: T * stride),
            softmaxGeometry(batch: B, length: T, offset: 0), scratch: scratch)
        rope!.applyBackward(dP.pointer, rows: B * T, rowStride: stride, heads: config.hybrid!.numHeads + config.hybrid!.numKVHeads) { $0 % T }
        if let dh { matmulAB(dh, dP, fusedProjection(l), accumulate: true) }
        var col = 0
        for (t, width) in [(StudentTensor.qProj(l), w.q), (.kProj(l), w.kv), (.vProj(l), w.kv)] {
            if let gw = grad(t) { linearWeightGradient(gw, dy: dP.pointer, dyStride: stride, col: col, x: h) }
            col += width
        }
    }
}

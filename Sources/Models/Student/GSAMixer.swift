// The Gated Slot Attention mixer of one student layer (fla 0.6.0 fla/layers/gsa.py, gsa.md §10):
//   [q | k | v | f] = h · [Wq; Wk; Wv; Wf]ᵀ                      (one fused GEMM)
//   q, k = φ(q), φ(k);  v = silu(v);  g = logsigmoid(f) / τ       (φ = swish or relu)
//   o = GSA(q, k, v, g)                                           (chunked, or recurrent with a state)
//   y = o_proj( RMSNorm_{eps 1e-5}(silu(o)) · g_norm )
// with its backward. The activations a training step keeps live in `GSAMixerActivations`.
import Ops
import TensorCore

/// What the GSA mixer's forward keeps for its backward, for B sequences of T tokens (N = B·T rows).
public final class GSAMixerActivations: @unchecked Sendable {
    public let batch: Int
    public let length: Int
    let P: Tensor  // [N, Wq + Wk + Wv + Wf] projection outputs before activation
    let q: Tensor  // [B, T, H, dk]
    let k: Tensor  // [B, T, Hkv, dk]
    let v: Tensor  // [B, T, Hkv, dv]
    let f: Tensor  // [N, Hkv·M] gate logits
    let g: Tensor  // [B, T, Hkv, M]
    let o: Tensor  // [B, T, H, dv]
    let cache: GSAChunkCache
    let u: Tensor  // [N, Dv] silu(o)
    let z: Tensor  // [N, Dv] normed, weighted u (o_proj input)
    let rstd: Tensor  // [N]

    public init(model m: StudentModel, batch: Int, length: Int) {
        let s = m.gsaShapes(batch: batch, length: length), n = batch * length, w = m.gsaWidths
        self.batch = batch
        self.length = length
        P = Tensor(zeros: [n, w.q + w.k + w.v + w.f])
        q = Tensor(zeros: s.queryShape)
        k = Tensor(zeros: s.keyShape)
        v = Tensor(zeros: s.valueShape)
        f = Tensor(zeros: [n, w.f])
        g = Tensor(zeros: s.gateShape)
        o = Tensor(zeros: s.outputShape)
        cache = GSAChunkCache(shapes: s)
        u = Tensor(zeros: [n, m.config.valueDim])
        z = Tensor(zeros: [n, m.config.valueDim])
        rstd = Tensor(zeros: [n])
    }
}

/// Gradient buffers of the GSA mixer's backward, allocated once and reused for every layer and step.
public final class GSAMixerGradients: @unchecked Sendable {
    let dz: Tensor, du: Tensor, dO: Tensor, dq: Tensor, dk: Tensor, dv: Tensor, dg: Tensor, df: Tensor, dP: Tensor

    public init(model m: StudentModel, batch: Int, length: Int) {
        let s = m.gsaShapes(batch: batch, length: length), n = batch * length, w = m.gsaWidths
        dz = Tensor(zeros: [n, m.config.valueDim])
        du = Tensor(zeros: [n, m.config.valueDim])
        dO = Tensor(zeros: s.outputShape)
        dq = Tensor(zeros: s.queryShape)
        dk = Tensor(zeros: s.keyShape)
        dv = Tensor(zeros: s.valueShape)
        dg = Tensor(zeros: s.gateShape)
        df = Tensor(zeros: [n, w.f])
        dP = Tensor(zeros: [n, w.q + w.k + w.v + w.f])
    }
}

extension StudentModel {
    /// Projects and activates the GSA operands of layer `l` into `a` (P, q, k, v, f, g).
    func gsaOperands(_ l: Int, h: Tensor, _ a: GSAMixerActivations) {
        let w = gsaWidths, n = h.rowCount, stride = w.q + w.k + w.v + w.f
        linearForward(a.P, h, fusedProjection(l))
        let p = UnsafePointer(a.P.pointer)
        activationForwardColumns(out: a.q.pointer, src: p, rows: n, srcStride: stride, col: 0, width: w.q, featureActivation)
        activationForwardColumns(out: a.k.pointer, src: p, rows: n, srcStride: stride, col: w.q, width: w.k, featureActivation)
        activationForwardColumns(out: a.v.pointer, src: p, rows: n, srcStride: stride, col: w.q + w.k, width: w.v, .silu)
        activationForwardColumns(out: a.f.pointer, src: p, rows: n, srcStride: stride, col: w.q + w.k + w.v, width: w.f, .identity)
        gsaGateForward(g: a.g, f: a.f, normalizer: Float(config.gateLogitNormalizer))
    }

    /// y = o_proj(RMSNorm(silu(o)) · g_norm), keeping u, z and rstd in `a`.
    func gsaOutput(_ l: Int, y: Tensor, _ a: GSAMixerActivations) {
        let o2 = a.o.reshaped(a.u.shape)
        siluForward(a.u, o2)
        rmsNormForward(a.z, rstd: a.rstd, a.u, weight: gNormWeight(l), eps: StudentModel.outputNormEps)
        linearForward(y, a.z, value(.oProj(l)))
    }

    /// Training/inference forward of GSA layer `l` on normed input h: [N, D]; writes y: [N, D] and fills `a`
    /// (including the chunk cache for the backward). With a `state`, starts from and updates its slot states.
    public func gsaMixerForward(_ l: Int, h: Tensor, y: Tensor, _ a: GSAMixerActivations, state: StudentState? = nil) {
        precondition(!config.isSoftmaxLayer(l), "gsaMixerForward: layer \(l) is a softmax layer")
        gsaOperands(l, h: h, a)
        let s = gsaShapes(batch: a.batch, length: a.length)
        if let state {
            let hk = state.hk[l]!, hv = state.hv[l]!
            if a.length <= 64 {
                // fla also switches to the fused-recurrent kernel for T ≤ 64.
                gsaRecurrentForward(o: a.o, hk: hk, hv: hv, q: a.q, k: a.k, v: a.v, g: a.g, shapes: s)
            } else {
                let hkT = Tensor(zeros: s.keyStateShape), hvT = Tensor(zeros: s.valueStateShape)
                gsaForward(o: a.o, hkT: hkT, hvT: hvT, cache: a.cache, q: a.q, k: a.k, v: a.v, g: a.g, hk0: hk, hv0: hv,
                           shapes: s, workspace: gsaWorkspace)
                hk.assign(hkT)
                hv.assign(hvT)
            }
        } else {
            gsaForward(o: a.o, hkT: nil, hvT: nil, cache: a.cache, q: a.q, k: a.k, v: a.v, g: a.g, hk0: nil, hv0: nil,
                       shapes: s, workspace: gsaWorkspace)
        }
        gsaOutput(l, y: y, a)
    }

    /// Backward of `gsaMixerForward` (stateless form): accumulates parameter gradients of trainable tensors
    /// and, when `dh` is given, dh += ∂L/∂h.
    public func gsaMixerBackward(_ l: Int, dy: Tensor, h: Tensor, _ a: GSAMixerActivations, dh: Tensor?,
                                 scratch gr: GSAMixerGradients? = nil) {
        let n = h.rowCount, w = gsaWidths, stride = w.q + w.k + w.v + w.f
        let s = gsaShapes(batch: a.batch, length: a.length)
        let g = gr ?? GSAMixerGradients(model: self, batch: a.batch, length: a.length)
        for t in [g.dz, g.du, g.dO, g.dq, g.dk, g.dv, g.dg, g.df] { t.zero() }
        let (dz, du, dO, dq, dk, dv, dg, df, dP) = (g.dz, g.du, g.dO, g.dq, g.dk, g.dv, g.dg, g.df, g.dP)
        // y = z · W_oᵀ
        linearBackward(dx: dz, dw: grad(.oProj(l)), dy: dy, x: a.z, w: value(.oProj(l)))
        // z = RMSNorm(u) · g_norm
        rmsNormBackward(dx: du, dw: config.elementwiseAffine ? grad(.gNorm(l)) : nil, dy: dz, x: a.u, weight: gNormWeight(l), rstd: a.rstd)
        // u = silu(o)
        siluBackward(dx: dO.reshaped(du.shape), dy: du, x: a.o.reshaped(du.shape))
        // o = GSA(q, k, v, g)
        gsaBackward(dq: dq, dk: dk, dv: dv, dg: dg, dhk0: nil, dhv0: nil, dO: dO, dhkT: nil, dhvT: nil,
                    q: a.q, k: a.k, v: a.v, g: a.g, cache: a.cache, shapes: s, workspace: gsaWorkspace)
        // g = logsigmoid(f)/τ, and the activations of q, k, v back into the fused projection's output
        gsaGateBackward(df: df, dg: dg, f: a.f, normalizer: Float(config.gateLogitNormalizer))
        let p = UnsafePointer(a.P.pointer)
        activationBackwardColumns(dsrc: dP.pointer, dsrcStride: stride, dout: dq.pointer, src: p, srcStride: stride, rows: n, col: 0, width: w.q, featureActivation)
        activationBackwardColumns(dsrc: dP.pointer, dsrcStride: stride, dout: dk.pointer, src: p, srcStride: stride, rows: n, col: w.q, width: w.k, featureActivation)
        activationBackwardColumns(dsrc: dP.pointer, dsrcStride: stride, dout: dv.pointer, src: p, srcStride: stride, rows: n, col: w.q + w.k, width: w.v, .silu)
        activationBackwardColumns(dsrc: dP.pointer, dsrcStride: stride, dout: df.pointer, src: p, srcStride: stride, rows: n, col: w.q + w.k + w.v, width: w.f, .identity)
        // [q | k | v | f] = h · Wᵀ: one GEMM for dh, one per trainable part for dW
        if let dh { matmulAB(dh, dP, fusedProjection(l), accumulate: true) }
        var col = 0
        for (t, width) in [(StudentTensor.qProj(l), w.q), (.kProj(l), w.k), (.vProj(l), w.v), (.fProj(l), w.f)] {
            if let gw = grad(t) { linearWeightGradient(gw, dy: dP.pointer, dyStride: stride, col: col, x: h) }
            col += width
        }
    }
}

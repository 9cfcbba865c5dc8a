// Backward of `causalAttentionForward` for whole sequences (queryOffset 0, keys = the sequence's own):
// per (batch, kv head) the probabilities are recomputed block by block (nothing quadratic is stored),
//   P = softmax(scale·Q·Kᵀ + mask);  D = rowsum(dO ⊙ O)
//   dS = P ⊙ (dO·Vᵀ − D);  dQ += scale·dS·K;  dK += scale·dSᵀ·Q;  dV += Pᵀ·dO
// (the FlashAttention-2 backward, with blocks of 64 queries and the G query heads stacked).
import TensorCore

/// Where the attention gradients go; strides as in `AttentionOperands`. All accumulate.
public struct AttentionGradients {
    public var dq: UnsafeMutablePointer<Float>
    public var dqRowStride: Int
    public var dk: UnsafeMutablePointer<Float>
    public var dv: UnsafeMutablePointer<Float>
    public var dkvRowStride: Int
    public var dkvBatchStride: Int
    public init(dq: UnsafeMutablePointer<Float>, dqRowStride: Int, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
                dkvRowStride: Int, dkvBatchStride: Int) {
        self.dq = dq
        self.dqRowStride = dqRowStride
        self.dk = dk
        self.dv = dv
        self.dkvRowStride = dkvRowStride
        self.dkvBatchStride = dkvBatchStride
    }
}

/// Accumulates dq, dk, dv given dOut (rows like `x.out`, stride `dOutRowStride`). `x.out` must hold the
/// forward's output.
public func causalAttentionBackward(_ x: AttentionOperands, dOut: UnsafePointer<Float>, dOutRowStride: Int,
                                    _ d: AttentionGradients, _ g: AttentionGeometry, scratch: ScratchPool) {
    precondition(g.queryOffset == 0, "causalAttentionBackward: whole sequences only (queryOffset 0)")
    let G = g.heads / g.kvHeads, dh = g.headDim, T = g.queryLength
    let block = 64
    let blocks = (T + block - 1) / block
    let maxKeys = g.window.map { min($0 + block - 1, T) } ?? T
    let rowsMax = G * block
    let scratchCount = rowsMax * (4 * dh + 2 * maxKeys) + rowsMax
    parallelForCallingBLAS(g.batch * g.kvHeads) { item in
        let b = item / g.kvHeads, j = item % g.kvHeads
        scratch.with(count: scratchCount) { buf in
            let qs = buf, dos = qs + rowsMax * dh, os = dos + rowsMax * dh, dqs = os + rowsMax * dh
            let p = dqs + rowsMax * dh, dp = p + rowsMax * maxKeys, dsum = dp + rowsMax * maxKeys
            for blk in 0..<blocks {
                let r0 = blk * block, r1 = min(T, r0 + block), tb = r1 - r0, rows = G * tb
                let kEnd = r1
                let kStart = g.window.map { max(0, r0 - $0 + 1) } ?? 0
                let nk = kEnd - kStart
                for gi in 0..<G {
                    for t in 0..<tb {
                        let h = j * G + gi, r = gi * tb + t
                        (qs + r * dh).update(from: x.q + (b * T + r0 + t) * x.qRowStride + h * dh, count: dh)
                        (dos + r * dh).update(from: dOut + (b * T + r0 + t) * dOutRowStride + h * dh, count: dh)
                        (os + r * dh).update(from: x.out + (b * T + r0 + t) * x.outRowStride + h * dh, count: dh)
                        dsum[r] = vectorDot(dos + r * dh, os + r * dh, dh)
                    }
                }
                let kp = x.keys + b * x.kvBatchStride + kStart * x.kvRowStride + j * dh
                let vp = x.values + b * x.kvBatchStride + kStart * x.kvRowStride + j * dh
                // P: recompute the masked softmax.
                BLAS.sgemm(transA: false, transB: true, m: rows, n: nk, k: dh, alpha: g.scale, a: qs, lda: dh,
                           b: kp, ldb: x.kvRowStride, beta: 0, c: p, ldc: nk)
                maskedSoftmaxBlock(p, heads: G, queries: tb, keys: nk, firstQuery: r0, firstKey: kStart, window: g.window)
                // dP = dO · Vᵀ, then dS = P ⊙ (dP − D) in place.
                BLAS.sgemm(transA: false, transB: true, m: rows, n: nk, k: dh, alpha: 1, a: dos, lda: dh,
                           b: vp, ldb: x.kvRowStride, beta: 0, c: dp, ldc: nk)
                for r in 0..<rows {
                    let pr = p + r * nk, dr = dp + r * nk, s = dsum[r]
                    for u in 0..<nk { dr[u] = pr[u] * (dr[u] - s) }
                }
                // dQ = scale · dS · K
                BLAS.sgemm(transA: false, transB: false, m: rows, n: dh, k: nk, alpha: g.scale, a: dp, lda: nk,
                           b: kp, ldb: x.kvRowStride, beta: 0, c: dqs, ldc: dh)
                for gi in 0..<G {
                    for t in 0..<tb {
                        let dst = d.dq + (b * T + r0 + t) * d.dqRowStride + (j * G + gi) * dh, src = dqs + (gi * tb + t) * dh
                        for i in 0..<dh { dst[i] += src[i] }
                    }
                }
                // dK += scale · dSᵀ · Q;  dV += Pᵀ · dO
                let dkp = d.dk + b * d.dkvBatchStride + kStart * d.dkvRowStride + j * dh
                let dvp = d.dv + b * d.dkvBatchStride + kStart * d.dkvRowStride + j * dh
                BLAS.sgemm(transA: true, transB: false, m: nk, n: dh, k: rows, alpha: g.scale, a: dp, lda: nk,
                           b: qs, ldb: dh, beta: 1, c: dkp, ldc: d.dkvRowStride)
                BLAS.sgemm(transA: true, transB: false, m: nk, n: dh, k: rows, alpha: 1, a: p, lda: nk,
                           b: dos, ldb: dh, beta: 1, c: dvp, ldc: d.dkvRowStride)
            }
        }
    }
}

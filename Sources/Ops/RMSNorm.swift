// RMSNorm as Llama/Mistral/fla compute it: y = x · rsqrt(mean(x²) + eps) · w, statistics in Float32
// (transformers LlamaRMSNorm; the weight multiplies after normalisation, not Gemma's 1 + w).
import TensorCore

/// y: [N, D] = RMSNorm(x: [N, D]) · w: [D]. Saves `rstd: [N]` (1/rms per row) for the backward when given.
/// `y` may alias `x`.
public func rmsNormForward(_ y: Tensor, rstd: Tensor? = nil, _ x: Tensor, weight w: Tensor, eps: Float) {
    let d = x.lastDim, n = x.rowCount
    precondition(y.count == x.count && w.count == d, "rmsNormForward: y \(Shape.describe(y.shape)), x \(Shape.describe(x.shape)), w \(Shape.describe(w.shape))")
    if let rstd { precondition(rstd.count == n, "rmsNormForward: rstd \(Shape.describe(rstd.shape)) for \(n) rows") }
    let xp = x.pointer, yp = y.pointer, wp = w.pointer
    let rp = rstd?.pointer
    parallelRanges(n, minChunk: max(1, 65536 / max(d, 1))) { rows in
        for r in rows {
            let xr = xp + r * d, yr = yp + r * d
            let ms = vectorSumOfSquares(xr, d) / Float(d)
            let inv = 1 / (ms + eps).squareRoot()
            rp?[r] = inv
            for i in 0..<d { yr[i] = xr[i] * inv * wp[i] }
        }
    }
}

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

/// Backward of `rmsNormForward`; accumulates into dx and dw.
/// In the forward: y_i = x_i · r · w_i with r = (mean_j x_j² + eps)^(-1/2), so
///   dx_i += r · w_i · dy_i − r³ / D · x_i · Σ_j w_j dy_j x_j,   dw_i += Σ_rows dy_i · x_i · r.
/// - rstd: [N] saved by the forward. dx may be nil (input gradient not needed), dw nil (frozen).
public func rmsNormBackward(dx: Tensor?, dw: Tensor?, dy: Tensor, x: Tensor, weight w: Tensor, rstd: Tensor) {
    let d = x.lastDim, n = x.rowCount
    precondition(dy.count == x.count && rstd.count == n && w.count == d, "rmsNormBackward: shapes")
    let xp = x.pointer, gp = dy.pointer, wp = w.pointer, rp = rstd.pointer
    if let dx {
        let dxp = dx.pointer
        parallelRanges(n, minChunk: max(1, 32768 / max(d, 1))) { rows in
            for r in rows {
                let xr = xp + r * d, gr = gp + r * d, dr = dxp + r * d
                let inv = rp[r]
                var dot: Float = 0
                for i in 0..<d { dot += wp[i] * gr[i] * xr[i] }
                let c = inv * inv * inv / Float(d) * dot
                for i in 0..<d { dr[i] += inv * wp[i] * gr[i] - c * xr[i] }
            }
        }
    }
    if let dw {
        // Column sums over rows; split columns across workers so no two write the same element.
        let dwp = dw.pointer
        parallelRanges(d, minChunk: 64) { cols in
            for r in 0..<n {
                let xr = xp + r * d, gr = gp + r * d
                let inv = rp[r]
                for i in cols { dwp[i] += gr[i] * xr[i] * inv }
            }
        }
    }
}

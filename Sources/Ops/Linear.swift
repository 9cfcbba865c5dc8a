// Linear layer without bias, PyTorch orientation: y = x · Wᵀ with W: [out, in].
import TensorCore

/// y: [N, out] = x: [N, in] · w: [out, in]ᵀ  (+ y when `accumulate`).
@inline(__always)
public func linearForward(_ y: Tensor, _ x: Tensor, _ w: Tensor, accumulate: Bool = false) {
    matmulABt(y, x, w, accumulate: accumulate)
}

/// Backward of `linearForward`; accumulates.
/// In the forward: y = x · Wᵀ, so dx += dy · W and dW += dyᵀ · x.
/// - dx: [N, in] or nil (input gradient not needed); dw: [out, in] or nil (frozen weight).
public func linearBackward(dx: Tensor?, dw: Tensor?, dy: Tensor, x: Tensor, w: Tensor) {
    if let dx { matmulAB(dx, dy, w, accumulate: true) }
    if let dw { matmulAtB(dw, dy, x, accumulate: true) }
}

/// dW[out, in] += dy[:, cols]ᵀ · x for a column block of a wider dy: dy row stride `dyStride`, block
/// starting at column `col` with `dw.rowCount` columns. Lets a fused projection's parts have separate
/// (and separately frozen) weight gradients.
public func linearWeightGradient(_ dw: Tensor, dy: UnsafePointer<Float>, dyStride: Int, col: Int, x: Tensor) {
    let out = dw.rowCount, inDim = dw.lastDim, n = x.rowCount
    precondition(x.lastDim == inDim && col + out <= dyStride, "linearWeightGradient: dW \(Shape.describe(dw.shape)), x \(Shape.describe(x.shape)), cols \(col)+\(out) of \(dyStride)")
    BLAS.sgemm(transA: true, transB: false, m: out, n: inDim, k: n, alpha: 1, a: dy + col, lda: dyStride,
               b: x.pointer, ldb: inDim, beta: 1, c: dw.pointer, ldc: inDim)
}

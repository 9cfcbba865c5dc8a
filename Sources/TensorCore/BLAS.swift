// OpenBLAS sgemm wrappers. Names say which operand is transposed; shapes are checked and printed on
// mismatch. Tensors of rank > 2 are viewed as matrices [rowCount, lastDim].
import COpenBLAS

public enum BLAS {
    /// Raw row-major sgemm: c[m,n] = alpha · op(a) · op(b) + beta · c, where op(a) is [m,k] and
    /// op(b) is [k,n]. `lda`, `ldb`, `ldc` are row strides of the stored matrices.
    @inline(__always)
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Raw row-major sgemv: y[m] = alpha · op(a) · x + beta · y, with a stored [rows, cols].
    @inline(__always)
    public static func sgemv(trans: Bool, rows: Int, cols: Int, alpha: Float = 1, a: UnsafePointer<Float>,
                             lda: Int, x: UnsafePointer<Float>, beta: Float = 0, y: UnsafeMutablePointer<Float>) {
        if rows == 0 || cols == 0 { return }
        cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(rows), Int32(cols), alpha, a,
                    Int32(lda), x, 1, beta, y, 1)
    }
}

/// c: [M, N] = a: [M, K] · b: [N, K]ᵀ (+ c if `accumulate`). The linear-layer forward with PyTorch
/// weights: `matmulABt(y, x, w)` is y = x · Wᵀ.
public func matmulABt(_ c: Tensor, _ a: Tensor, _ b: Tensor, alpha: Float = 1, accumulate: Bool = false) {
    let m = a.rowCount, k = a.lastDim, n = b.rowCount
    precondition(b.lastDim == k && c.rowCount == m && c.lastDim == n,
                 "matmulABt: c \(Shape.describe(c.shape)) = a \(Shape.describe(a.shape)) · b \(Shape.describe(b.shape))ᵀ")
    if m == 1 {
        // One row (a decode step): a matrix-vector product reads b once, where sgemm would first pack it.
        BLAS.sgemv(trans: false, rows: n, cols: k, alpha: alpha, a: b.pointer, lda: k, x: a.pointer,
                   beta: accumulate ? 1 : 0, y: c.pointer)
        return
    }
    BLAS.sgemm(transA: false, transB: true, m: m, n: n, k: k, alpha: alpha, a: a.pointer, lda: k,
               b: b.pointer, ldb: k, beta: accumulate ? 1 : 0, c: c.pointer, ldc: n)
}

/// c: [M, N] = a: [M, K] · b: [K, N] (+ c if `accumulate`). The linear-layer input gradient:
/// `matmulAB(dx, dy, w)` is dx = dy · W.
public func matmulAB(_ c: Tensor, _ a: Tensor, _ b: Tensor, alpha: Float = 1, accumulate: Bool = false) {
    let m = a.rowCount, k = a.lastDim, n = b.lastDim
    precondition(b.rowCount == k && c.rowCount == m && c.lastDim == n,
                 "matmulAB: c \(Shape.describe(c.shape)) = a \(Shape.describe(a.shape)) · b \(Shape.describe(b.shape))")
    BLAS.sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: alpha, a: a.pointer, lda: k,
               b: b.pointer, ldb: n, beta: accumulate ? 1 : 0, c: c.pointer, ldc: n)
}

/// c: [M, N] = a: [K, M]ᵀ · b: [K, N] (+ c if `accumulate`). The linear-layer weight gradient:
/// `matmulAtB(dW, dy, x, accumulate: true)` is dW += dyᵀ · x.
public func matmulAtB(_ c: Tensor, _ a: Tensor, _ b: Tensor, alpha: Float = 1, accumulate: Bool = false) {
    let k = a.rowCount, m = a.lastDim, n = b.lastDim
    precondition(b.rowCount == k && c.rowCount == m && c.lastDim == n,
                 "matmulAtB: c \(Shape.describe(c.shape)) = a \(Shape.describe(a.shape))ᵀ · b \(Shape.describe(b.shape))")
    BLAS.sgemm(transA: true, transB: false, m: m, n: n, k: k, alpha: alpha, a: a.pointer, lda: m,
               b: b.pointer, ldb: n, beta: accumulate ? 1 : 0, c: c.pointer, ldc: n)
}

/// The most naive matrix product, c[M,N] = a[M,K]·b[N,K]ᵀ accumulated in Double: the algorithmic
/// reference the BLAS wrappers are tested against.
public func matmulABtNaive(_ c: Tensor, _ a: Tensor, _ b: Tensor) {
    let m = a.rowCount, k = a.lastDim, n = b.rowCount
    precondition(b.lastDim == k && c.rowCount == m && c.lastDim == n, "matmulABtNaive: shape mismatch")
    let pa = a.pointer, pb = b.pointer, pc = c.pointer
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k { s += Double(pa[i * k + p]) * Double(pb[j * k + p]) }
            pc[i * n + j] = Float(s)
        }
    }
}

// Linear layer without bias, PyTorch orientation: y = x · Wᵀ with W: [out, in].
import TensorCore

/// y: [N, out] = x: [N, in] · w: [out, in]ᵀ  (+ y when `accumulate`).
@inline(__always)
public func linearForward(_ y: Tensor, _ x: Tensor, _ w: Tensor, accumulate: Bool = false) {
    matmulABt(y, x, w, accumulate: accumulate)
}

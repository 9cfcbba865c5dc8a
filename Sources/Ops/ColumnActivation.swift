// Elementwise activations applied to a column block of a wider row-major matrix, writing a contiguous
// result (and the matching backward). The GSA mixer uses them to split its fused [q | k | v | f]
// projection output into the operands of the core op while applying φ (swish or relu) to q and k and
// silu to v, in one pass (fla/layers/gsa.py: q, k = φ(q), φ(k); v = silu(v)).
import TensorCore

public enum Activation: Sendable {
    case identity, silu, relu
}

/// out[r, i] = act(src[r·srcStride + col + i]) for r < rows, i < width; out is [rows, width] contiguous.
public func activationForwardColumns(out: UnsafeMutablePointer<Float>, src: UnsafePointer<Float>, rows: Int, srcStride: Int,
                                     col: Int, width: Int, _ act: Activation) {
    parallelRanges(rows, minChunk: max(1, 16384 / max(width, 1))) { rr in
        for r in rr {
            let s = src + r * srcStride + col, o = out + r * width
            switch act {
            case .identity: o.update(from: s, count: width)
            case .silu: for i in 0..<width { o[i] = silu(s[i]) }
            case .relu: for i in 0..<width { o[i] = max(s[i], 0) }
            }
        }
    }
}

/// Backward of `activationForwardColumns`: dsrc[r·dStride + col + i] = dout[r, i] · act'(src[r·srcStride + col + i])
/// (overwrites the block of dsrc).
public func activationBackwardColumns(dsrc: UnsafeMutablePointer<Float>, dsrcStride: Int, dout: UnsafePointer<Float>,
                                      src: UnsafePointer<Float>, srcStride: Int, rows: Int, col: Int, width: Int, _ act: Activation) {
    parallelRanges(rows, minChunk: max(1, 16384 / max(width, 1))) { rr in
        for r in rr {
            let s = src + r * srcStride + col, d = dsrc + r * dsrcStride + col, g = dout + r * width
            switch act {
            case .identity: d.update(from: g, count: width)
            case .silu: for i in 0..<width { d[i] = g[i] * siluDerivative(s[i]) }
            case .relu: for i in 0..<width { d[i] = s[i] > 0 ? g[i] : 0 }
            }
        }
    }
}

/// dst[r·dstStride + dcol + i] = src[r·srcStride + scol + i]: copies a column block between matrices.
public func copyColumns(dst: UnsafeMutablePointer<Float>, dstStride: Int, dstCol: Int, src: UnsafePointer<Float>, srcStride: Int,
                        srcCol: Int, rows: Int, width: Int) {
    for r in 0..<rows { (dst + r * dstStride + dstCol).update(from: src + r * srcStride + srcCol, count: width) }
}

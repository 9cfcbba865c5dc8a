// Rotary position embedding in Hugging Face's rotate-half convention (transformers
// modeling_llama.py `rotate_half` / `apply_rotary_pos_emb`): for i < dh/2,
//   x'[i]        = x[i]·cos θ_i − x[i+dh/2]·sin θ_i
//   x'[i+dh/2]   = x[i+dh/2]·cos θ_i + x[i]·sin θ_i,   θ_i = p · inv_freq[i],
// inv_freq[i] = 1 / base^(2i/dh) computed in Float32 as transformers does (also the angles: its
// rotary module runs `inv_freq.float() @ positions.float()` even in a float64 model).
// Checkpoints with llama.cpp's interleaved order are un-permuted at load (Conversion), never here.
import Glibc
import TensorCore

/// Llama-3.1 frequency scaling (transformers `_compute_llama3_parameters`).
public struct RoPEScaling: Sendable, Equatable {
    public var factor: Double
    public var lowFreqFactor: Double
    public var highFreqFactor: Double
    public var originalMaxPositionEmbeddings: Int
    public init(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositionEmbeddings: Int) {
        self.factor = factor
        self.lowFreqFactor = lowFreqFactor
        self.highFreqFactor = highFreqFactor
        self.originalMaxPositionEmbeddings = originalMaxPositionEmbeddings
    }
}

/// Precomputed cos/sin for positions 0..<capacity, grown on demand.
public final class RoPETable: @unchecked Sendable {
    public let headDim: Int
    public let invFreq: [Float]  // [dh/2]
    public private(set) var capacity = 0
    private var cosTable: [Float] = []  // [capacity, dh/2]
    private var sinTable: [Float] = []

    public init(headDim: Int, theta: Double, scaling: RoPEScaling? = nil) {
        precondition(headDim % 2 == 0, "RoPE needs an even head dim, got \(headDim)")
        self.headDim = headDim
        var inv = (0..<(headDim / 2)).map { i -> Float in
            1 / powf(Float(theta), Float(2 * i) / Float(headDim))
        }
        if let s = scaling {
            let old = Float(s.originalMaxPositionEmbeddings)
            let lowWavelen = old / Float(s.lowFreqFactor), highWavelen = old / Float(s.highFreqFactor)
            inv = inv.map { f in
                let wavelen = 2 * Float.pi / f
                if wavelen > lowWavelen { return f / Float(s.factor) }
                if wavelen < highWavelen { return f }
                let smooth = (old / wavelen - Float(s.lowFreqFactor)) / Float(s.highFreqFactor - s.lowFreqFactor)
                return (1 - smooth) * f / Float(s.factor) + smooth * f
            }
        }
        invFreq = inv
    }

    /// Makes positions 0..<n available.
    public func reserve(_ n: Int) {
        guard n > capacity else { return }
        let newCap = max(n, capacity * 2, 64)
        let half = headDim / 2
        var c = [Float](repeating: 0, count: newCap * half), s = c
        for p in 0..<newCap {
            for i in 0..<half {
                let angle = Float(p) * invFreq[i]  // float32 angle, as transformers
                c[p * half + i] = Float(cos(Double(angle)))
                s[p * half + i] = Float(sin(Double(angle)))
            }
        }
        cosTable = c
        sinTable = s
        capacity = newCap
    }

    /// Rotates `rows × heads` head vectors in place: head h of row r starts at x + r·rowStride + h·dh
    /// and sits at position position(r). Call `reserve` for the largest position first.
    public func apply(_ x: UnsafeMutablePointer<Float>, rows: Int, rowStride: Int, heads: Int, position: (Int) -> Int) {
        rotate(x, rows: rows, rowStride: rowStride, heads: heads, sign: 1, position: position)
    }

    /// Backward of `apply`: the rotation is orthogonal, so the gradient is rotated back by −θ (in place).
    public func applyBackward(_ dx: UnsafeMutablePointer<Float>, rows: Int, rowStride: Int, heads: Int, position: (Int) -> Int) {
        rotate(dx, rows: rows, rowStride: rowStride, heads: heads, sign: -1, position: position)
    }

    private func rotate(_ x: UnsafeMutablePointer<Float>, rows: Int, rowStride: Int, heads: Int, sign: Float, position: (Int) -> Int) {
        let half = headDim / 2
        cosTable.withUnsafeBufferPointer { cb in
            sinTable.withUnsafeBufferPointer { sb in
                for r in 0..<rows {
                    let p = position(r)
                    precondition(p >= 0 && p < capacity, "RoPE position \(p) outside the table (\(capacity))")
                    let cp = cb.baseAddress! + p * half, sp = sb.baseAddress! + p * half
                    for h in 0..<heads {
                        let v = x + r * rowStride + h * headDim
                        for i in 0..<half {
                            let a = v[i], b = v[i + half], s = sign * sp[i]
                            v[i] = a * cp[i] - b * s
                            v[i + half] = b * cp[i] + a * s
                        }
                    }
                }
            }
        }
    }
}

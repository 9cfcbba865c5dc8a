// SiLU and the SwiGLU gate of Llama/Mistral MLPs: down(silu(gate(x)) ⊙ up(x)).
import TensorCore

/// silu(x) = x · σ(x), elementwise.
@inline(__always) public func silu(_ x: Float) -> Float { x / (1 + fastExp(-x)) }

/// out: [N, I] = silu(gate: [N, I]) ⊙ up: [N, I]. `out` may alias `gate` or `up`.
public func swigluForward(_ out: Tensor, gate: Tensor, up: Tensor) {
    precondition(out.count == gate.count && gate.count == up.count, "swigluForward: sizes \(out.count), \(gate.count), \(up.count)")
    let o = out.pointer, g = gate.pointer, u = up.pointer
    parallelRanges(out.count) { r in
        var i = r.lowerBound
        let og = UnsafeMutableRawPointer(o), gg = UnsafeRawPointer(g), ug = UnsafeRawPointer(u)
        while i + 16 <= r.upperBound {
            let gv = gg.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
            let uv = ug.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
            let s = gv / (1 + fastExp(-gv))
            og.storeBytes(of: s * uv, toByteOffset: i * 4, as: Float16x.self)
            i += 16
        }
        while i < r.upperBound { o[i] = silu(g[i]) * u[i]; i += 1 }
    }
}

/// out = silu(x), elementwise. `out` may alias `x`.
public func siluForward(_ out: Tensor, _ x: Tensor) {
    precondition(out.count == x.count, "siluForward: sizes \(out.count) vs \(x.count)")
    let o = out.pointer, xp = x.pointer
    parallelRanges(out.count) { r in
        var i = r.lowerBound
        let og = UnsafeMutableRawPointer(o), xg = UnsafeRawPointer(xp)
        while i + 16 <= r.upperBound {
            let v = xg.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
            og.storeBytes(of: v / (1 + fastExp(-v)), toByteOffset: i * 4, as: Float16x.self)
            i += 16
        }
        while i < r.upperBound { o[i] = silu(xp[i]); i += 1 }
    }
}

/// out: [N, I] = silu(gateUp[:, 0..<I]) ⊙ gateUp[:, I..<2I], with gateUp: [N, 2I] holding the fused
/// gate and up projections of each row side by side.
public func swigluForward(_ out: Tensor, gateUp: Tensor) {
    let i2 = gateUp.lastDim, n = gateUp.rowCount, inter = i2 / 2
    precondition(i2 % 2 == 0 && out.rowCount == n && out.lastDim == inter,
                 "swigluForward: out \(Shape.describe(out.shape)) for gateUp \(Shape.describe(gateUp.shape))")
    let o = out.pointer, gu = gateUp.pointer
    parallelRanges(n, minChunk: max(1, 16384 / max(inter, 1))) { rows in
        for r in rows {
            let g = UnsafeRawPointer(gu + r * i2), u = UnsafeRawPointer(gu + r * i2 + inter)
            let orow = o + r * inter, og = UnsafeMutableRawPointer(orow)
            var i = 0
            while i + 16 <= inter {
                let gv = g.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
                let uv = u.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
                og.storeBytes(of: gv / (1 + fastExp(-gv)) * uv, toByteOffset: i * 4, as: Float16x.self)
                i += 16
            }
            while i < inter {
                orow[i] = silu(g.load(fromByteOffset: i * 4, as: Float.self)) * u.load(fromByteOffset: i * 4, as: Float.self)
                i += 1
            }
        }
    }
}

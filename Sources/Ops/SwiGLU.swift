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

/// silu'(x) = σ(x) · (1 + x · (1 − σ(x))).
@inline(__always) public func siluDerivative(_ x: Float) -> Float {
    let s = 1 / (1 + fastExp(-x))
    return s * (1 + x * (1 - s))
}

/// Backward of `siluForward`; accumulates: dx += dy · silu'(x).
public func siluBackward(dx: Tensor, dy: Tensor, x: Tensor) {
    precondition(dx.count == x.count && dy.count == x.count, "siluBackward: sizes")
    let d = dx.pointer, g = dy.pointer, xp = x.pointer
    parallelRanges(x.count) { r in
        for i in r { d[i] += g[i] * siluDerivative(xp[i]) }
    }
}

/// Backward of `swigluForward(_:gateUp:)`; accumulates into dGateUp: [N, 2I].
/// In the forward: out = silu(g) ⊙ u, so dg += dout ⊙ u ⊙ silu'(g) and du += dout ⊙ silu(g).
public func swigluBackward(dGateUp: Tensor, dOut: Tensor, gateUp: Tensor) {
    let i2 = gateUp.lastDim, n = gateUp.rowCount, inter = i2 / 2
    precondition(dGateUp.count == gateUp.count && dOut.rowCount == n && dOut.lastDim == inter, "swigluBackward: shapes")
    let dgu = dGateUp.pointer, dop = dOut.pointer, gu = gateUp.pointer
    parallelRanges(n, minChunk: max(1, 8192 / max(inter, 1))) { rows in
        for r in rows {
            let g = gu + r * i2, u = g + inter, dg = dgu + r * i2, du = dg + inter, d = dop + r * inter
            for i in 0..<inter {
                let s = 1 / (1 + fastExp(-g[i]))
                dg[i] += d[i] * u[i] * s * (1 + g[i] * (1 - s))
                du[i] += d[i] * g[i] * s
            }
        }
    }
}

// Vectorizable math kernels. Swift never reassociates float additions or calls a vector expf, so
// reductions use SIMD16 accumulators and exp is a Cephes-style polynomial (max rel. error 5.4e-7 vs
// glibc expf on [-87, 88]; see ../shared/reference/swift-numerics.md §4).

public typealias Float16x = SIMD16<Float>

/// exp(x) for Float, branch-free; clamps x to [-87, 88].
@inlinable @inline(__always) public func fastExp(_ x: Float) -> Float {
    let t = min(max(x, -87.0), 88.0) * 1.44269504088896341  // x·log2(e)
    let k = t + 12582912.0  // 1.5·2^23: round to nearest
    let n = k - 12582912.0
    let f = t - n  // f in [-0.5, 0.5]
    var p: Float = 1.535336188319500e-4
    p = p * f + 1.339887440266574e-3
    p = p * f + 9.618437357674640e-3
    p = p * f + 5.550332471162809e-2
    p = p * f + 2.402264791363012e-1
    p = p * f + 6.931472028550421e-1
    p = p * f + 1.0
    let e = (k.bitPattern &- 0x4B40_0000 &+ 127) &<< 23  // 2^n as float bits
    return p * Float(bitPattern: e)
}

/// exp(x) lane-wise; clamps x to [-87, 88].
@inlinable @inline(__always) public func fastExp(_ x: Float16x) -> Float16x {
    var xc = x.replacing(with: -87, where: x .< -87)
    xc = xc.replacing(with: 88, where: xc .> 88)
    let t = xc * 1.44269504088896341
    let k = t + 12582912.0
    let f = t - (k - 12582912.0)
    var p = Float16x(repeating: 1.535336188319500e-4)
    p = p * f + 1.339887440266574e-3
    p = p * f + 9.618437357674640e-3
    p = p * f + 5.550332471162809e-2
    p = p * f + 2.402264791363012e-1
    p = p * f + 6.931472028550421e-1
    p = p * f + 1.0
    let e = (unsafeBitCast(k, to: SIMD16<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
    return p * unsafeBitCast(e, to: Float16x.self)
}

/// Sum of `n` floats with SIMD accumulators.
@inlinable @inline(__always) public func vectorSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    let r = UnsafeRawPointer(x)
    var a0 = Float16x(), a1 = Float16x()
    var i = 0
    while i + 32 <= n {
        a0 += r.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        a1 += r.loadUnaligned(fromByteOffset: (i + 16) * 4, as: Float16x.self)
        i += 32
    }
    var s = (a0 + a1).sum()
    while i < n { s += x[i]; i += 1 }
    return s
}

/// Dot product of `n` floats with SIMD accumulators.
@inlinable @inline(__always) public func vectorDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ n: Int) -> Float {
    let rx = UnsafeRawPointer(x), ry = UnsafeRawPointer(y)
    var a0 = Float16x(), a1 = Float16x()
    var i = 0
    while i + 32 <= n {
        a0 += rx.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self) * ry.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        a1 += rx.loadUnaligned(fromByteOffset: (i + 16) * 4, as: Float16x.self)
            * ry.loadUnaligned(fromByteOffset: (i + 16) * 4, as: Float16x.self)
        i += 32
    }
    var s = (a0 + a1).sum()
    while i < n { s += x[i] * y[i]; i += 1 }
    return s
}

/// Sum of squares of `n` floats with SIMD accumulators.
@inlinable @inline(__always) public func vectorSumOfSquares(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    vectorDot(x, x, n)
}

/// Maximum of `n` floats (n > 0).
@inlinable @inline(__always) public func vectorMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    let r = UnsafeRawPointer(x)
    var i = 0
    var m = -Float.infinity
    if n >= 16 {
        var acc = r.loadUnaligned(as: Float16x.self)
        i = 16
        while i + 16 <= n {
            let v = r.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
            acc = acc.replacing(with: v, where: v .> acc)
            i += 16
        }
        m = acc.max()
    }
    while i < n { m = Swift.max(m, x[i]); i += 1 }
    return m
}

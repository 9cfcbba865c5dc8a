// Small pointer kernels shared by the fast GSA paths (recurrent and chunked): gate quantities, rowwise
// multiply-adds with SIMD16 FMA, softmax, and a parallel loop that hands each worker its own scratch.
// Everything here works on raw pointers and never allocates.
import Synchronization
import TensorCore

/// expm1(x) = exp(x) − 1 with full relative accuracy near 0: a degree-8 Taylor polynomial for |x| < 0.5
/// (truncation < 1e−8 relative) and fastExp(x) − 1 elsewhere. Branch-free, so loops over it vectorize.
@inline(__always) func gsaExpm1(_ x: Float) -> Float {
    var p: Float = 1.0 / 40320
    p = p * x + 1.0 / 5040
    p = p * x + 1.0 / 720
    p = p * x + 1.0 / 120
    p = p * x + 1.0 / 24
    p = p * x + 1.0 / 6
    p = p * x + 0.5
    p = p * x + 1
    let small = p * x
    let large = fastExp(x) - 1
    return abs(x) < 0.5 ? small : large
}

/// For one token's gate row g[0..<M]: a = exp(g) (forget gate), s = 1 − a = −expm1(g) (slot write weight).
@inline(__always) func gsaGateRow(a: UnsafeMutablePointer<Float>, s: UnsafeMutablePointer<Float>,
                                  g: UnsafePointer<Float>, _ M: Int) {
    for m in 0..<M {
        a[m] = fastExp(g[m])
        s[m] = -gsaExpm1(g[m])
    }
}

/// y[i] += alpha · x[i], i < n (SIMD16 FMA).
@inline(__always) func gsaAxpy(_ y: UnsafeMutablePointer<Float>, _ alpha: Float, _ x: UnsafePointer<Float>, _ n: Int) {
    let ry = UnsafeMutableRawPointer(y), rx = UnsafeRawPointer(x)
    let va = Float16x(repeating: alpha)
    var i = 0
    while i + 16 <= n {
        let yv = ry.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        let xv = rx.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        ry.storeBytes(of: yv.addingProduct(va, xv), toByteOffset: i * 4, as: Float16x.self)
        i += 16
    }
    while i < n { y[i] = y[i].addingProduct(alpha, x[i]); i += 1 }
}

/// y[i] += x[i] · w[i], i < n.
@inline(__always) func gsaAddProduct(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
                                     _ w: UnsafePointer<Float>, _ n: Int) {
    let ry = UnsafeMutableRawPointer(y), rx = UnsafeRawPointer(x), rw = UnsafeRawPointer(w)
    var i = 0
    while i + 16 <= n {
        let yv = ry.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        let xv = rx.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        let wv = rw.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        ry.storeBytes(of: yv.addingProduct(xv, wv), toByteOffset: i * 4, as: Float16x.self)
        i += 16
    }
    while i < n { y[i] = y[i].addingProduct(x[i], w[i]); i += 1 }
}

/// y[i] = y[i] · w[i], i < n.
@inline(__always) func gsaMultiply(_ y: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, _ n: Int) {
    for i in 0..<n { y[i] *= w[i] }
}

/// y[i] = y[i] · a[i] + alpha · s[i], i < n (the state decay-and-write of one row).
@inline(__always) func gsaDecayWrite(_ y: UnsafeMutablePointer<Float>, _ a: UnsafePointer<Float>, _ alpha: Float,
                                     _ s: UnsafePointer<Float>, _ n: Int) {
    let ry = UnsafeMutableRawPointer(y), ra = UnsafeRawPointer(a), rs = UnsafeRawPointer(s)
    let va = Float16x(repeating: alpha)
    var i = 0
    while i + 16 <= n {
        let yv = ry.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        let av = ra.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        let sv = rs.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        ry.storeBytes(of: (yv * av).addingProduct(va, sv), toByteOffset: i * 4, as: Float16x.self)
        i += 16
    }
    while i < n { y[i] = (y[i] * a[i]).addingProduct(alpha, s[i]); i += 1 }
}

/// y[i] = y[i] · a + b · x[i], i < n.
@inline(__always) func gsaScaleAdd(_ y: UnsafeMutablePointer<Float>, _ a: Float, _ b: Float,
                                   _ x: UnsafePointer<Float>, _ n: Int) {
    let ry = UnsafeMutableRawPointer(y), rx = UnsafeRawPointer(x)
    let va = Float16x(repeating: a), vb = Float16x(repeating: b)
    var i = 0
    while i + 16 <= n {
        let yv = ry.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        let xv = rx.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        ry.storeBytes(of: (yv * va).addingProduct(vb, xv), toByteOffset: i * 4, as: Float16x.self)
        i += 16
    }
    while i < n { y[i] = (y[i] * a).addingProduct(b, x[i]); i += 1 }
}

/// Σ_i x[i] · y[i] · w[i], i < n.
@inline(__always) func gsaDot3(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                               _ n: Int) -> Float {
    let rx = UnsafeRawPointer(x), ry = UnsafeRawPointer(y), rw = UnsafeRawPointer(w)
    var acc = Float16x()
    var i = 0
    while i + 16 <= n {
        let xv = rx.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        let yv = ry.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        let wv = rw.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        acc = acc.addingProduct(xv * yv, wv)
        i += 16
    }
    var s = acc.sum()
    while i < n { s += x[i] * y[i] * w[i]; i += 1 }
    return s
}

/// In-place softmax of z[0..<n] (max subtracted first).
@inline(__always) func gsaSoftmax(_ z: UnsafeMutablePointer<Float>, _ n: Int) {
    let mx = vectorMax(z, n)
    for i in 0..<n { z[i] = fastExp(z[i] - mx) }
    let inv = 1 / vectorSum(z, n)
    for i in 0..<n { z[i] *= inv }
}

private final class GSAWorkCounter: Sendable {
    let next = Atomic<Int>(0)
}

/// Runs body(slot, item) for item in 0..<items on up to `slots` workers (`parallelFor`); items are handed
/// out dynamically and `slot` < slots identifies the worker, so each worker can use scratch[slot] alone.
/// The workers' sgemm calls run single-threaded (`ComputeThreads.withSingleThreadedBLAS`).
func gsaParallelItems(_ items: Int, slots: Int, _ body: (_ slot: Int, _ item: Int) -> Void) {
    let workers = min(items, slots, ComputeThreads.count)
    if workers <= 1 {
        for i in 0..<items { body(0, i) }
        return
    }
    let counter = GSAWorkCounter()
    ComputeThreads.withSingleThreadedBLAS {
        parallelFor(workers) { slot in
            while true {
                let i = counter.next.add(1, ordering: .relaxed).oldValue
                if i >= items { break }
                body(slot, i)
            }
        }
    }
}

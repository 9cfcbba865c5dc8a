import Glibc
import TensorCore
import TestSupport
import Testing

@Suite struct DTypeTests {
    @Test func bf16RoundsToNearestEven() {
        // 1 + 2^-8 is exactly halfway between bf16 1.0 and 1 + 2^-7: ties go to the even mantissa (1.0).
        #expect(floatToBF16(1 + 0x1p-8) == 0x3F80)
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): rounds up to even.
        #expect(floatToBF16(1 + 3 * 0x1p-8) == 0x3F82)
        // Just above the halfway point rounds up.
        #expect(floatToBF16(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(floatToBF16(-2.5) == 0xC020)
        #expect(floatToBF16(.infinity) == 0x7F80)
        #expect(floatToBF16(.greatestFiniteMagnitude) == 0x7F80)  // overflows to inf under RNE
        #expect(bf16ToFloat(floatToBF16(.nan)).isNaN)
        #expect(bf16ToFloat(floatToBF16(-.nan)).isNaN)
        // Every bf16 value survives f32 -> bf16 unchanged.
        for u in stride(from: 0, through: 0xFFFF, by: 1) where !bf16ToFloat(UInt16(u)).isNaN {
            #expect(floatToBF16(bf16ToFloat(UInt16(u))) == UInt16(u))
        }
    }

    @Test func f16ConversionIsExactOnAllPatterns() {
        var src = [UInt16](0...0xFFFF)
        var dst = [Float](repeating: 0, count: src.count)
        src.withUnsafeMutableBytes { s in dst.withUnsafeMutableBufferPointer { Convert.toFloat32(s.baseAddress!, encoding: .float16, $0.baseAddress!, count: 65536) } }
        for u in 0...0xFFFF {
            let expected = Float(Float16(bitPattern: UInt16(u)))
            if expected.isNaN { #expect(dst[u].isNaN) } else { #expect(dst[u].bitPattern == expected.bitPattern, "pattern \(u)") }
        }
        // and back
        var back = [UInt16](repeating: 0, count: 65536)
        dst.withUnsafeBufferPointer { d in back.withUnsafeMutableBytes { Convert.fromFloat32(d.baseAddress!, $0.baseAddress!, encoding: .float16, count: 65536) } }
        for u in 0...0xFFFF where !dst[u].isNaN { #expect(back[u] == UInt16(u)) }
    }

    @Test func bulkBF16MatchesScalarOnOddLengths() {
        for n in [0, 1, 7, 8, 9, 33] {
            let bits = (0..<n).map { UInt16(truncatingIfNeeded: $0 &* 2654435761 >> 7) }
            var out = [Float](repeating: 0, count: n)
            bits.withUnsafeBytes { b in out.withUnsafeMutableBufferPointer { Convert.toFloat32(b.baseAddress!, encoding: .bfloat16, $0.baseAddress!, count: n) } }
            #expect(out.map(\.bitPattern) == bits.map { bf16ToFloat($0).bitPattern })
        }
    }
}

@Suite struct BLASTests {
    @Test(arguments: [(1, 1, 1), (3, 5, 7), (17, 33, 9), (64, 1, 65), (100, 50, 200)])
    func matmulsMatchTheNaiveReference(_ dims: (Int, Int, Int)) {
        let (m, n, k) = dims
        var rng = SeededRNG(seed: UInt64(m * 1000 + n * 10 + k))
        let a = Tensor(zeros: [m, k]); a.fillNormal(std: 1, rng: &rng)
        let b = Tensor(zeros: [n, k]); b.fillNormal(std: 1, rng: &rng)
        let c = Tensor(zeros: [m, n]), ref = Tensor(zeros: [m, n])
        matmulABt(c, a, b)
        matmulABtNaive(ref, a, b)
        expectClose("ABt \(dims)", c, ref, atol: 1e-5, rtol: 1e-5)
        // AB with bᵀ materialised, AtB with aᵀ materialised
        let bt = Tensor(zeros: [k, n]), at = Tensor(zeros: [k, m])
        for i in 0..<n { for j in 0..<k { bt[index: [j, i]] = b[index: [i, j]] } }
        for i in 0..<m { for j in 0..<k { at[index: [j, i]] = a[index: [i, j]] } }
        let c2 = Tensor(zeros: [m, n]), c3 = Tensor(zeros: [m, n])
        matmulAB(c2, a, bt)
        matmulAtB(c3, at, bt)
        expectClose("AB \(dims)", c2, ref, atol: 1e-5, rtol: 1e-5)
        expectClose("AtB \(dims)", c3, ref, atol: 1e-5, rtol: 1e-5)
        // accumulate adds
        matmulABt(c, a, b, accumulate: true)
        expectClose("ABt accumulate \(dims)", c, Tensor(shape: ref.shape, values: ref.toArray().map { 2 * $0 }), atol: 1e-5, rtol: 1e-5)
    }
}

@Suite struct TensorTests {
    @Test func viewsShareStorage() {
        let t = Tensor(shape: [2, 3], values: [0, 1, 2, 3, 4, 5])
        let row = t[1]
        #expect(row.shape == [3] && row.toArray() == [3, 4, 5])
        row.pointer[0] = 30
        #expect(t.toArray() == [0, 1, 2, 30, 4, 5])
        let r = t.reshaped([3, 2])
        #expect(r[2].toArray() == [4, 5])
        #expect(t.rows(1..<2).shape == [1, 3])
        let c = t.copy()
        c.pointer[0] = 99
        #expect(t.pointer[0] == 0)
    }

    @Test func rngIsReproducibleAndRestorable() {
        var a = SeededRNG(seed: 42), b = SeededRNG(seed: 42)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
        var c = SeededRNG(state: a.state)!
        #expect(c.next() == a.next())
        var d = SeededRNG(seed: 1)
        let xs = (0..<20000).map { _ in d.nextNormal() }
        let mean = xs.reduce(0, +) / Double(xs.count)
        let varr = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(xs.count)
        #expect(abs(mean) < 0.03 && abs(varr - 1) < 0.05)
    }

    @Test func fastExpIsAccurate() {
        // Relative error grows with |x| because x·log2(e) is rounded to float: ≤ 1e-6 on [-10, 10], ≤ 5e-6 to ±80.
        for (range, tol) in [((-10.0 as Float)...10, Float(1e-6)), ((-80.0 as Float)...80, Float(5e-6))] {
            var worst: Float = 0
            var x = range.lowerBound
            while x < range.upperBound {
                worst = max(worst, abs(fastExp(x) - expf(x)) / expf(x))
                x += 0.01
            }
            #expect(worst < tol, "\(range): \(worst)")
        }
        let v = fastExp(Float16x(repeating: 1))
        #expect(abs(v[0] - expf(1)) < 1e-6)
    }
}

import Ops
import TensorCore
import TestSupport
import Testing

@Suite struct AttentionTests {
    /// (B, T, H, Hkv, dh, p0, window)
    static let cases: [(Int, Int, Int, Int, Int, Int, Int?)] = [
        (1, 1, 2, 1, 4, 0, nil), (2, 7, 6, 2, 5, 0, nil), (1, 65, 4, 4, 8, 0, nil), (1, 130, 3, 1, 6, 0, 17),
        (2, 9, 4, 2, 8, 23, nil), (1, 70, 2, 1, 4, 5, 64), (1, 3, 2, 2, 2, 100, 4),
    ]

    @Test(arguments: cases.indices)
    func matchesNaiveAttention(_ i: Int) {
        let (b, t, h, hkv, dh, p0, w) = Self.cases[i]
        let tk = p0 + t
        var rng = SeededRNG(seed: UInt64(i + 1))
        let q = Tensor(zeros: [b, t, h, dh]); q.fillNormal(std: 1, rng: &rng)
        let k = Tensor(zeros: [b, tk, hkv, dh]); k.fillNormal(std: 1, rng: &rng)
        let v = Tensor(zeros: [b, tk, hkv, dh]); v.fillNormal(std: 1, rng: &rng)
        let out = Tensor(zeros: [b, t, h, dh])
        let g = AttentionGeometry(batch: b, queryLength: t, heads: h, kvHeads: hkv, headDim: dh, queryOffset: p0, window: w)
        causalAttentionForward(AttentionOperands(out: out.pointer, outRowStride: h * dh, q: q.pointer, qRowStride: h * dh,
                                                 keys: k.pointer, values: v.pointer, kvRowStride: hkv * dh, kvBatchStride: tk * hkv * dh),
                               g, scratch: ScratchPool())
        let ref = causalAttentionNaive(q: q.toArray().map(Double.init), k: k.toArray().map(Double.init), v: v.toArray().map(Double.init), g)
        expectClose("attention case \(i)", out.toArray().map(Double.init), ref, atol: 2e-6, rtol: 1e-5)
    }

    @Test func softmaxHandlesExtremeScores() {
        var x: [Float] = [1000, -1000, 999, .greatestFiniteMagnitude / 4, 0]
        x.withUnsafeMutableBufferPointer { softmaxInPlace($0.baseAddress!, 5) }
        #expect(x.allSatisfy { $0.isFinite && $0 >= 0 })
        #expect(abs(x.reduce(0, +) - 1) < 1e-6)
        var y = [Float](repeating: -3.4e38, count: 37)
        y.withUnsafeMutableBufferPointer { softmaxInPlace($0.baseAddress!, 37) }
        #expect(y.allSatisfy { abs($0 - 1.0 / 37) < 1e-6 })
    }

    @Test func logSumExpIsStable() {
        var x = [Float](repeating: 0, count: 100)
        x[3] = 500
        let l = x.withUnsafeBufferPointer { logSumExp($0.baseAddress!, 100) }
        #expect(abs(l - 500) < 1e-4)
        let nll = negativeLogLikelihood(logits: Tensor(shape: [1, 100], values: x), targets: [3])
        #expect(nll[0] >= 0 && nll[0] < 1e-4)
    }
}

@Suite struct AttentionGradientTests {
    /// (B, T, H, Hkv, dh, window)
    @Test(arguments: [(1, 7, 4, 2, 3, nil), (2, 70, 2, 1, 4, nil), (1, 80, 3, 3, 2, 9)] as [(Int, Int, Int, Int, Int, Int?)])
    func attentionBackwardMatchesFiniteDifferences(_ c: (Int, Int, Int, Int, Int, Int?)) {
        let (b, t, h, hkv, dh, w) = c
        var rng = SeededRNG(seed: UInt64(t))
        let g = AttentionGeometry(batch: b, queryLength: t, heads: h, kvHeads: hkv, headDim: dh, window: w)
        func rnd(_ n: Int) -> [Double] { (0..<n).map { _ in rng.nextNormal() } }
        let q = rnd(b * t * h * dh), k = rnd(b * t * hkv * dh), v = rnd(b * t * hkv * dh), r = rnd(b * t * h * dh)
        func forward(_ q: [Double], _ k: [Double], _ v: [Double]) -> (Tensor, Tensor, Tensor, Tensor) {
            let qt = Tensor(shape: [b, t, h, dh], values: q.map(Float.init))
            let kt = Tensor(shape: [b, t, hkv, dh], values: k.map(Float.init)), vt = Tensor(shape: [b, t, hkv, dh], values: v.map(Float.init))
            let out = Tensor(zeros: [b, t, h, dh])
            causalAttentionForward(AttentionOperands(out: out.pointer, outRowStride: h * dh, q: qt.pointer, qRowStride: h * dh,
                                                     keys: kt.pointer, values: vt.pointer, kvRowStride: hkv * dh, kvBatchStride: t * hkv * dh),
                                   g, scratch: ScratchPool())
            return (out, qt, kt, vt)
        }
        let (out, qt, kt, vt) = forward(q, k, v)
        let dq = Tensor(zeros: qt.shape), dk = Tensor(zeros: kt.shape), dv = Tensor(zeros: vt.shape)
        let dout = Tensor(shape: out.shape, values: r.map(Float.init))
        causalAttentionBackward(AttentionOperands(out: out.pointer, outRowStride: h * dh, q: qt.pointer, qRowStride: h * dh,
                                                  keys: kt.pointer, values: vt.pointer, kvRowStride: hkv * dh, kvBatchStride: t * hkv * dh),
                                dOut: dout.pointer, dOutRowStride: h * dh,
                                AttentionGradients(dq: dq.pointer, dqRowStride: h * dh, dk: dk.pointer, dv: dv.pointer,
                                                   dkvRowStride: hkv * dh, dkvBatchStride: t * hkv * dh), g, scratch: ScratchPool())
        gradCheck([GradCheckInput("q", values: q, analytic: dq.toArray().map(Double.init)),
                   GradCheckInput("k", values: k, analytic: dk.toArray().map(Double.init)),
                   GradCheckInput("v", values: v, analytic: dv.toArray().map(Double.init))],
                  tolerance: .float, maxElementsPerInput: 40) { x in
            let (o, _, _, _) = forward(x[0], x[1], x[2])
            return zip(o.toArray(), r).reduce(0) { $0 + Double($1.0) * $1.1 }
        }
    }

    @Test func ropeBackwardIsTheInverseRotation() {
        let table = RoPETable(headDim: 6, theta: 100)
        table.reserve(10)
        var rng = SeededRNG(seed: 3)
        let x = Tensor(zeros: [4, 12]); x.fillNormal(std: 1, rng: &rng)
        let y = x.copy()
        table.apply(y.pointer, rows: 4, rowStride: 12, heads: 2) { $0 + 3 }
        table.applyBackward(y.pointer, rows: 4, rowStride: 12, heads: 2) { $0 + 3 }
        expectClose("R⁻¹R x", y, x, atol: 1e-6, rtol: 1e-6)
    }
}

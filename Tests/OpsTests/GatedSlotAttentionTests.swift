import Glibc
import Ops
import TensorCore
import TestSupport
import Testing

@Suite struct GatedSlotAttentionTests {
    // MARK: naive reference

    /// The Double reference backward (BPTT) against central differences of the Double reference forward, for every
    /// input including the initial states, with final-state gradients supplied, GQA and scale ≠ 1.
    @Test(arguments: [(4, 2), (3, 3)])
    func naiveBackwardMatchesCentralDifferences(heads: Int, kvHeads: Int) {
        let shapes = GSAShapes(batch: 2, length: 6, heads: heads, kvHeads: kvHeads, keyDim: 3, valueDim: 4, slots: 3)
        let c = GSACase(shapes, seed: 11, tau: 2, initialState: true)
        let scale = 0.7
        let wo = randomDoubles(c.q.count / shapes.keyDim * shapes.valueDim, seed: 1)
        let wk = randomDoubles(c.hk0!.count, seed: 2), wv = randomDoubles(c.hv0!.count, seed: 3)
        // L = Σ o ⊙ wo + Σ hkT ⊙ wk + Σ hvT ⊙ wv, so do = wo, dhkT = wk, dhvT = wv
        func loss(_ x: [[Double]]) -> Double {
            var o: [Double] = [], hk: [Double] = [], hv: [Double] = []
            gsaNaiveForward(o: &o, hkT: &hk, hvT: &hv, q: x[0], k: x[1], v: x[2], g: x[3], hk0: x[4], hv0: x[5],
                            shapes: shapes, scale: scale)
            return zip(o, wo).reduce(0) { $0 + $1.0 * $1.1 } + zip(hk, wk).reduce(0) { $0 + $1.0 * $1.1 }
                + zip(hv, wv).reduce(0) { $0 + $1.0 * $1.1 }
        }
        let inputs = [c.q, c.k, c.v, c.g, c.hk0!, c.hv0!].map(\.doubles)
        var (dq, dk, dv, dg, dhk0, dhv0) = ([Double](repeating: 0, count: inputs[0].count), [Double](repeating: 0, count: inputs[1].count),
                                            [Double](repeating: 0, count: inputs[2].count), [Double](repeating: 0, count: inputs[3].count),
                                            [Double](repeating: 0, count: inputs[4].count), [Double](repeating: 0, count: inputs[5].count))
        gsaNaiveBackward(dq: &dq, dk: &dk, dv: &dv, dg: &dg, dhk0: &dhk0, dhv0: &dhv0, dO: wo, dhkT: wk, dhvT: wv, q: inputs[0], k: inputs[1], v: inputs[2], g: inputs[3],
                         hk0: inputs[4], hv0: inputs[5], shapes: shapes, scale: scale)
        let names = ["q", "k", "v", "g", "hk0", "hv0"], grads = [dq, dk, dv, dg, dhk0, dhv0]
        gradCheck((0..<6).map { GradCheckInput(names[$0], values: inputs[$0], analytic: grads[$0]) }, tolerance: .double,
                  loss: loss)
    }

    /// gsa.md §2/§4 by hand: one token, one slot pair, zero state. Hk = k ⊗ s, z = c·q·Hk, o = p @ (s ⊗ v).
    @Test func naiveForwardSingleTokenByHand() {
        let shapes = GSAShapes(batch: 1, length: 1, heads: 1, kvHeads: 1, keyDim: 1, valueDim: 1, slots: 2)
        let g = [-0.5, -2.0], q = [1.5], k = [2.0], v = [3.0]
        var o: [Double] = [], hk: [Double] = [], hv: [Double] = []
        gsaNaiveForward(o: &o, hkT: &hk, hvT: &hv, q: q, k: k, v: v, g: g, hk0: nil, hv0: nil, shapes: shapes)
        let s = g.map { 1 - exp($0) }
        let z = s.map { 1.5 * 2.0 * $0 }
        let p = z.map { exp($0) / (exp(z[0]) + exp(z[1])) }
        expectClose("hk", hk, [2 * s[0], 2 * s[1]], rtol: 1e-15)
        expectClose("hv", hv, [3 * s[0], 3 * s[1]], rtol: 1e-15)
        expectClose("o", o, [p[0] * 3 * s[0] + p[1] * 3 * s[1]], rtol: 1e-15)
    }

    // MARK: fast forward paths vs the reference

    /// (dk, dv, M) triples: odd sizes that exercise every SIMD tail, and the power-of-two sizes of real models.
    static let dims = [(5, 7, 3), (32, 32, 32), (64, 64, 64)]

    /// chunked == recurrent (whole sequence) == naive, over T across the chunk boundaries, odd and real dims,
    /// GQA (H 6 / Hkv 2) and plain (H = Hkv = 2), B = 2, zero and non-zero initial states, scale ≠ 1.
    @Test(arguments: [1, 7, 63, 64, 65, 200])
    func chunkedAndRecurrentMatchNaive(length: Int) {
        let workspace = GSAWorkspace()
        for (dk, dv, M) in Self.dims where !(M == 64 && length < 63) {
            for (H, Hkv) in [(6, 2), (2, 2)] {
                for initial in [false, true] {
                    let shapes = GSAShapes(batch: 2, length: length, heads: H, kvHeads: Hkv, keyDim: dk, valueDim: dv, slots: M)
                    let c = GSACase(shapes, seed: UInt64(length * 1000 + dk * 10 + H), initialState: initial)
                    let scale: Float = dk == 5 ? 1 : 1 / Float(dk).squareRoot()
                    let ref = c.naiveForward(scale: Double(scale))
                    let label = "\(shapes) h0 \(initial)"
                    // chunked
                    let o = Tensor(zeros: shapes.outputShape)
                    let hkT = Tensor(zeros: shapes.keyStateShape), hvT = Tensor(zeros: shapes.valueStateShape)
                    gsaForward(o: o, hkT: hkT, hvT: hvT, cache: nil, q: c.q, k: c.k, v: c.v, g: c.g, hk0: c.hk0, hv0: c.hv0,
                               shapes: shapes, scale: scale, workspace: workspace)
                    expectMatches("chunked o \(label)", o, ref.o, tol: 2e-5)
                    expectMatches("chunked hkT \(label)", hkT, ref.hk, tol: 2e-5)
                    expectMatches("chunked hvT \(label)", hvT, ref.hv, tol: 2e-5)
                    // recurrent over the whole sequence, states in place
                    let ro = Tensor(zeros: shapes.outputShape)
                    let hk = c.hk0?.copy() ?? Tensor(zeros: shapes.keyStateShape)
                    let hv = c.hv0?.copy() ?? Tensor(zeros: shapes.valueStateShape)
                    gsaRecurrentForward(o: ro, hk: hk, hv: hv, q: c.q, k: c.k, v: c.v, g: c.g, shapes: shapes, scale: scale)
                    expectMatches("recurrent o \(label)", ro, ref.o, tol: 2e-5)
                    expectMatches("recurrent hk \(label)", hk, ref.hk, tol: 2e-5)
                    expectMatches("recurrent hv \(label)", hv, ref.hv, tol: 2e-5)
                }
            }
        }
    }

    /// Decoding token by token (T = 1 calls carrying the state) gives the chunked whole-sequence result.
    @Test(arguments: [(6, 2), (3, 3)])
    func tokenByTokenDecodeMatchesChunked(heads: Int, kvHeads: Int) {
        let shapes = GSAShapes(batch: 2, length: 70, heads: heads, kvHeads: kvHeads, keyDim: 16, valueDim: 9, slots: 12)
        let c = GSACase(shapes, seed: 5, initialState: true)
        let o = Tensor(zeros: shapes.outputShape)
        let hkT = Tensor(zeros: shapes.keyStateShape), hvT = Tensor(zeros: shapes.valueStateShape)
        gsaForward(o: o, hkT: hkT, hvT: hvT, cache: nil, q: c.q, k: c.k, v: c.v, g: c.g, hk0: c.hk0, hv0: c.hv0,
                   shapes: shapes, workspace: GSAWorkspace())
        let step = shapes.with(length: 1)
        let hk = c.hk0!.copy(), hv = c.hv0!.copy()
        var out = [Double](repeating: 0, count: o.count)
        for t in 0..<shapes.length {
            let (qt, kt, vt, gt) = (Tensor(zeros: step.queryShape), Tensor(zeros: step.keyShape),
                                    Tensor(zeros: step.valueShape), Tensor(zeros: step.gateShape))
            for b in 0..<shapes.batch {
                qt[b][0].assign(c.q[b][t])
                kt[b][0].assign(c.k[b][t])
                vt[b][0].assign(c.v[b][t])
                gt[b][0].assign(c.g[b][t])
            }
            let ot = Tensor(zeros: step.outputShape)
            gsaRecurrentForward(o: ot, hk: hk, hv: hv, q: qt, k: kt, v: vt, g: gt, shapes: step)
            let width = heads * shapes.valueDim
            for b in 0..<shapes.batch {
                for x in 0..<width { out[(b * shapes.length + t) * width + x] = Double(ot[b][0].pointer[x]) }
            }
        }
        expectMatches("decode o", Tensor.from(out, shape: shapes.outputShape), o.doubles, tol: 1e-5)
        expectMatches("decode hk", hk, hkT.doubles, tol: 1e-5)
        expectMatches("decode hv", hv, hvT.doubles, tol: 1e-5)
    }

    /// A sequence run in two parts, the second starting from the first's final state, equals one run.
    @Test(arguments: [64, 100, 1])
    func twoHalvesWithCarriedStateEqualOneRun(split: Int) {
        let shapes = GSAShapes(batch: 2, length: 200, heads: 6, kvHeads: 2, keyDim: 8, valueDim: 8, slots: 5)
        let c = GSACase(shapes, seed: 9, initialState: true)
        let workspace = GSAWorkspace()
        let o = Tensor(zeros: shapes.outputShape)
        let hkT = Tensor(zeros: shapes.keyStateShape), hvT = Tensor(zeros: shapes.valueStateShape)
        gsaForward(o: o, hkT: hkT, hvT: hvT, cache: nil, q: c.q, k: c.k, v: c.v, g: c.g, hk0: c.hk0, hv0: c.hv0,
                   shapes: shapes, workspace: workspace)
        var hk = c.hk0!, hv = c.hv0!
        var parts: [[Float]] = []
        for range in [0..<split, split..<shapes.length] {
            let s = shapes.with(length: range.count)
            let slice = { (x: Tensor, shape: [Int]) -> Tensor in
                let y = Tensor(zeros: shape)
                for b in 0..<shapes.batch { y[b].assign(x[b].rows(range)) }
                return y
            }
            let po = Tensor(zeros: s.outputShape)
            let nk = Tensor(zeros: s.keyStateShape), nv = Tensor(zeros: s.valueStateShape)
            gsaForward(o: po, hkT: nk, hvT: nv, cache: nil, q: slice(c.q, s.queryShape), k: slice(c.k, s.keyShape),
                       v: slice(c.v, s.valueShape), g: slice(c.g, s.gateShape), hk0: hk, hv0: hv, shapes: s,
                       workspace: workspace)
            parts.append(po.toArray())
            (hk, hv) = (nk, nv)
        }
        let width = shapes.heads * shapes.valueDim
        var joined: [Double] = []
        for b in 0..<shapes.batch {
            joined += parts[0][(b * split * width)..<((b + 1) * split * width)].map(Double.init)
            let n2 = shapes.length - split
            joined += parts[1][(b * n2 * width)..<((b + 1) * n2 * width)].map(Double.init)
        }
        expectMatches("o in two parts", Tensor.from(joined, shape: shapes.outputShape), o.doubles, tol: 1e-5)
        expectMatches("hkT in two parts", hk, hkT.doubles, tol: 1e-5)
        expectMatches("hvT in two parts", hv, hvT.doubles, tol: 1e-5)
    }

    // MARK: chunked backward vs the reference backward

    /// Runs the chunked forward + backward and the naive backward on the same case and compares every gradient:
    /// q, k, v, g and both initial states, with the final-state gradients supplied (or not). The fast gradients
    /// start from `prefill` to check that the backward accumulates.
    static func checkBackward(_ c: GSACase, scale: Float, finalStateGradients: Bool, tol: Double, label: String,
                              workspace: GSAWorkspace, sourceLocation: SourceLocation = #_sourceLocation) {
        let shapes = c.shapes
        let dO = Tensor(zeros: shapes.outputShape)
        var rng = SeededRNG(seed: 77)
        dO.fillNormal(std: 1, rng: &rng)
        let dhkT = finalStateGradients ? Tensor(zeros: shapes.keyStateShape) : nil
        let dhvT = finalStateGradients ? Tensor(zeros: shapes.valueStateShape) : nil
        dhkT?.fillNormal(std: 1, rng: &rng)
        dhvT?.fillNormal(std: 1, rng: &rng)
        // reference
        let inputs = [c.q, c.k, c.v, c.g].map(\.doubles)
        var dq = [Double](repeating: 0, count: c.q.count), dk = [Double](repeating: 0, count: c.k.count)
        var dv = [Double](repeating: 0, count: c.v.count), dg = [Double](repeating: 0, count: c.g.count)
        var dhk0 = [Double](repeating: 0, count: shapes.keyStateShape.reduce(1, *))
        var dhv0 = [Double](repeating: 0, count: shapes.valueStateShape.reduce(1, *))
        gsaNaiveBackward(dq: &dq, dk: &dk, dv: &dv, dg: &dg, dhk0: &dhk0, dhv0: &dhv0, dO: dO.doubles,
                         dhkT: dhkT?.doubles, dhvT: dhvT?.doubles, q: inputs[0], k: inputs[1], v: inputs[2], g: inputs[3],
                         hk0: c.hk0?.doubles, hv0: c.hv0?.doubles, shapes: shapes, scale: Double(scale))
        // fast
        let cache = GSAChunkCache(shapes: shapes)
        let o = Tensor(zeros: shapes.outputShape)
        gsaForward(o: o, hkT: nil, hvT: nil, cache: cache, q: c.q, k: c.k, v: c.v, g: c.g, hk0: c.hk0, hv0: c.hv0,
                   shapes: shapes, scale: scale, workspace: workspace)
        let prefill: Float = 0.25
        let grads = [shapes.queryShape, shapes.keyShape, shapes.valueShape, shapes.gateShape, shapes.keyStateShape,
                     shapes.valueStateShape].map { Tensor(shape: $0, repeating: prefill) }
        gsaBackward(dq: grads[0], dk: grads[1], dv: grads[2], dg: grads[3], dhk0: grads[4], dhv0: grads[5], dO: dO,
                    dhkT: dhkT, dhvT: dhvT, q: c.q, k: c.k, v: c.v, g: c.g, cache: cache, shapes: shapes, scale: scale,
                    workspace: workspace)
        let expected = [dq, dk, dv, dg, dhk0, dhv0]
        for (n, name) in ["dq", "dk", "dv", "dg", "dhk0", "dhv0"].enumerated() {
            let got = Tensor.from(grads[n].doubles.map { $0 - Double(prefill) }, shape: grads[n].shape)
            expectMatches("\(name) \(label)", got, expected[n], tol: tol, sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [1, 7, 63, 64, 65, 200])
    func chunkedBackwardMatchesNaiveBackward(length: Int) {
        let workspace = GSAWorkspace()
        for (dk, dv, M) in [(5, 7, 3), (32, 32, 32)] {
            for (H, Hkv) in [(6, 2), (2, 2)] {
                for (initial, final) in [(false, false), (true, true), (false, true), (true, false)] {
                    let shapes = GSAShapes(batch: 2, length: length, heads: H, kvHeads: Hkv, keyDim: dk, valueDim: dv, slots: M)
                    let c = GSACase(shapes, seed: UInt64(length * 31 + dk + H), tau: 4, initialState: initial)
                    Self.checkBackward(c, scale: dk == 5 ? 0.8 : 1, finalStateGradients: final, tol: 1e-4,
                                       label: "\(shapes) h0 \(initial) dhT \(final)", workspace: workspace)
                }
            }
        }
    }

    /// The SmolLM2-like head shape (dk = dv = M = 64, G = 3) over three chunks.
    @Test func chunkedBackwardMatchesNaiveAtModelDims() {
        let shapes = GSAShapes(batch: 1, length: 150, heads: 3, kvHeads: 1, keyDim: 64, valueDim: 64, slots: 64)
        let c = GSACase(shapes, seed: 3, initialState: true)
        Self.checkBackward(c, scale: 1, finalStateGradients: true, tol: 1e-4, label: "\(shapes)", workspace: GSAWorkspace())
    }

    /// Saturated gates, f = ±60 (forget nothing / forget everything), with τ = 8 and τ = 1: every output and
    /// gradient is finite, and still matches the reference.
    @Test(arguments: [Float(8), 1])
    func extremeGatesStayFinite(tau: Float) {
        let shapes = GSAShapes(batch: 2, length: 130, heads: 4, kvHeads: 2, keyDim: 6, valueDim: 5, slots: 4)
        let c = GSACase(shapes, seed: 21, tau: tau, initialState: true) { rng in rng.nextDouble() < 0.5 ? -60 : 60 }
        let workspace = GSAWorkspace()
        let cache = GSAChunkCache(shapes: shapes)
        let o = Tensor(zeros: shapes.outputShape)
        let hkT = Tensor(zeros: shapes.keyStateShape), hvT = Tensor(zeros: shapes.valueStateShape)
        gsaForward(o: o, hkT: hkT, hvT: hvT, cache: cache, q: c.q, k: c.k, v: c.v, g: c.g, hk0: c.hk0, hv0: c.hv0,
                   shapes: shapes, workspace: workspace)
        let grads = [shapes.queryShape, shapes.keyShape, shapes.valueShape, shapes.gateShape, shapes.keyStateShape,
                     shapes.valueStateShape].map { Tensor(zeros: $0) }
        let df = Tensor(zeros: shapes.gateShape)
        gsaBackward(dq: grads[0], dk: grads[1], dv: grads[2], dg: grads[3], dhk0: grads[4], dhv0: grads[5],
                    dO: Tensor(shape: shapes.outputShape, repeating: 1), dhkT: Tensor(shape: shapes.keyStateShape, repeating: 1),
                    dhvT: Tensor(shape: shapes.valueStateShape, repeating: 1), q: c.q, k: c.k, v: c.v, g: c.g,
                    cache: cache, shapes: shapes, workspace: workspace)
        gsaGateBackward(df: df, dg: grads[3], f: c.f, normalizer: tau)
        for (name, t) in [("o", o), ("hkT", hkT), ("hvT", hvT), ("dq", grads[0]), ("dk", grads[1]), ("dv", grads[2]),
                          ("dg", grads[3]), ("dhk0", grads[4]), ("dhv0", grads[5]), ("df", df)] {
            let finite = t.toArray().allSatisfy { $0.isFinite }
            #expect(finite, "\(name) has a NaN or Inf (τ \(tau))")
        }
        let ref = c.naiveForward()
        expectMatches("o (τ \(tau))", o, ref.o, tol: 1e-5)
        Self.checkBackward(c, scale: 1, finalStateGradients: true, tol: 1e-4, label: "(τ \(tau))", workspace: workspace)
    }

    /// T = 0: the output is empty, the final state is the initial state, and its gradient passes straight through.
    @Test func emptySequencePassesTheStateThrough() {
        let shapes = GSAShapes(batch: 1, length: 0, heads: 2, kvHeads: 1, keyDim: 3, valueDim: 2, slots: 4)
        let c = GSACase(shapes, seed: 1, initialState: true)
        let cache = GSAChunkCache(shapes: shapes), workspace = GSAWorkspace()
        let hkT = Tensor(zeros: shapes.keyStateShape), hvT = Tensor(zeros: shapes.valueStateShape)
        gsaForward(o: Tensor(zeros: shapes.outputShape), hkT: hkT, hvT: hvT, cache: cache, q: c.q, k: c.k, v: c.v, g: c.g,
                   hk0: c.hk0, hv0: c.hv0, shapes: shapes, workspace: workspace)
        let passed = hkT.toArray() == c.hk0!.toArray() && hvT.toArray() == c.hv0!.toArray()
        #expect(passed)
        let dhk0 = Tensor(zeros: shapes.keyStateShape), dhv0 = Tensor(zeros: shapes.valueStateShape)
        let dhkT = Tensor(shape: shapes.keyStateShape, repeating: 2), dhvT = Tensor(shape: shapes.valueStateShape, repeating: 3)
        gsaBackward(dq: Tensor(zeros: shapes.queryShape), dk: Tensor(zeros: shapes.keyShape), dv: Tensor(zeros: shapes.valueShape),
                    dg: Tensor(zeros: shapes.gateShape), dhk0: dhk0, dhv0: dhv0, dO: Tensor(zeros: shapes.outputShape),
                    dhkT: dhkT, dhvT: dhvT, q: c.q, k: c.k, v: c.v, g: c.g, cache: cache, shapes: shapes, workspace: workspace)
        let through = dhk0.toArray() == dhkT.toArray() && dhv0.toArray() == dhvT.toArray()
        #expect(through)
    }
}

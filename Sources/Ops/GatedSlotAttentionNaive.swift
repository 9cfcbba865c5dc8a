// The algorithmic reference of the GSA core operator, in Double: the obvious per-step recurrence of
// fla 0.6.0 `naive_recurrent_gsa` (fla/ops/gsa/naive.py; ../shared/reference/gsa.md §4), and its own
// backpropagation through time (gsa.md §7.1). Like fla's naive.py it runs every query head on its own
// copy of its kv head's state and returns the state of the group's first head. Slow and allocating;
// it exists so the fast Float kernels (chunked, recurrent) can be tested against it on odd sizes.
// Layouts: GSAShapes.swift. All arrays are flat row-major Double.
import Glibc

/// Reference forward: o = GSA(q, k, v, g) and the final states.
///
/// - o: [B, T, H, dv] (overwritten); hkT: [B, Hkv, dk, M], hvT: [B, Hkv, M, dv] (overwritten).
/// - q: [B, T, H, dk], k: [B, T, Hkv, dk], v: [B, T, Hkv, dv], g: [B, T, Hkv, M] (log forget gate, ≤ 0);
///   hk0: [B, Hkv, dk, M] or nil (zeros), hv0: [B, Hkv, M, dv] or nil; scale c (1 in the fla layer).
///
/// Per step, with a = exp(g_t), s = 1 − a:
///   Hk = Hk·a[None, :] + outer(k_t, s);  z = (c·q_t) @ Hk;  p = softmax(z)
///   Hv = a[:, None]·Hv + outer(s, v_t);  o_t = p @ Hv
public func gsaNaiveForward(o: inout [Double], hkT: inout [Double], hvT: inout [Double],
                            q: [Double], k: [Double], v: [Double], g: [Double],
                            hk0: [Double]?, hv0: [Double]?, shapes: GSAShapes, scale c: Double = 1) {
    let n = NaiveIndex(shapes)
    n.check(q: q, k: k, v: v, g: g, hk0: hk0, hv0: hv0)
    o = [Double](repeating: 0, count: n.B * n.T * n.H * n.dv)
    hkT = [Double](repeating: 0, count: n.B * n.Hkv * n.dk * n.M)
    hvT = [Double](repeating: 0, count: n.B * n.Hkv * n.M * n.dv)
    for b in 0..<n.B {
        for h in 0..<n.H {
            let j = h / n.G
            let trace = n.run(b: b, h: h, q: q, k: k, v: v, g: g, hk0: hk0, hv0: hv0, c: c, keepStates: false)
            for t in 0..<n.T {
                for y in 0..<n.dv { o[n.o(b, t, h, y)] = trace.o[t * n.dv + y] }
            }
            if h % n.G == 0 {  // the state is the same for every head of the group: fla returns head j·G's
                for i in 0..<(n.dk * n.M) { hkT[(b * n.Hkv + j) * n.dk * n.M + i] = trace.hk[i] }
                for i in 0..<(n.M * n.dv) { hvT[(b * n.Hkv + j) * n.M * n.dv + i] = trace.hv[i] }
            }
        }
    }
}

/// Reference backward by backpropagation through time (gsa.md §7.1), accumulating into every gradient.
///
/// - dq: [B, T, H, dk], dk: [B, T, Hkv, dk], dv: [B, T, Hkv, dv], dg: [B, T, Hkv, M] (+=);
///   dhk0: [B, Hkv, dk, M], dhv0: [B, Hkv, M, dv] (+=, the gradients of the initial states).
/// - dO: [B, T, H, dv]; dhkT: [B, Hkv, dk, M] or nil, dhvT: [B, Hkv, M, dv] or nil (gradients of the
///   final states); the forward inputs as in `gsaNaiveForward`.
///
/// dg includes the path through s = 1 − exp(g): dg_t = a_t·(rowsum(dHv ⊙ Hv_{t−1}) + colsum(dHk ⊙ Hk_{t−1})) − a_t·ds_t.
public func gsaNaiveBackward(dq: inout [Double], dk: inout [Double], dv: inout [Double], dg: inout [Double],
                             dhk0: inout [Double], dhv0: inout [Double],
                             dO: [Double], dhkT: [Double]?, dhvT: [Double]?,
                             q: [Double], k: [Double], v: [Double], g: [Double],
                             hk0: [Double]?, hv0: [Double]?, shapes: GSAShapes, scale c: Double = 1) {
    let n = NaiveIndex(shapes)
    n.check(q: q, k: k, v: v, g: g, hk0: hk0, hv0: hv0)
    let (B, T, H, Hkv, G, dK, dV, M) = (n.B, n.T, n.H, n.Hkv, n.G, n.dk, n.dv, n.M)
    precondition(dq.count == B * T * H * dK && dk.count == B * T * Hkv * dK && dv.count == B * T * Hkv * dV
                     && dg.count == B * T * Hkv * M && dhk0.count == B * Hkv * dK * M && dhv0.count == B * Hkv * M * dV
                     && dO.count == B * T * H * dV,
                 "gsaNaiveBackward: gradient sizes do not match \(shapes)")
    precondition(dhkT.map { $0.count == B * Hkv * dK * M } ?? true && dhvT.map { $0.count == B * Hkv * M * dV } ?? true,
                 "gsaNaiveBackward: final-state gradient sizes do not match \(shapes)")
    for b in 0..<B {
        for h in 0..<H {
            let j = h / G
            let tr = n.run(b: b, h: h, q: q, k: k, v: v, g: g, hk0: hk0, hv0: hv0, c: c, keepStates: true)
            let hkBase = (b * Hkv + j) * dK * M, hvBase = (b * Hkv + j) * M * dV
            // The final state is head j·G's copy (what the forward returns), so only that copy gets dhkT/dhvT.
            var dHk = [Double](repeating: 0, count: dK * M), dHv = [Double](repeating: 0, count: M * dV)
            if h % G == 0 {
                if let d = dhkT { for i in 0..<(dK * M) { dHk[i] = d[hkBase + i] } }
                if let d = dhvT { for i in 0..<(M * dV) { dHv[i] = d[hvBase + i] } }
            }
            var dp = [Double](repeating: 0, count: M), dz = dp, ds = dp
            for t in stride(from: T - 1, through: 0, by: -1) {
                let cur = t + 1, prev = t  // states[t + 1] is after step t; states[0] is the initial state
                let p = Array(tr.p[(t * M)..<((t + 1) * M)])
                // forward: o_t = p_t @ Hv_t  →  dp = Hv_t @ do_t, dHv += outer(p_t, do_t)
                for m in 0..<M {
                    var acc = 0.0
                    for y in 0..<dV {
                        let d = dO[n.o(b, t, h, y)]
                        acc += tr.hv[cur * M * dV + m * dV + y] * d
                        dHv[m * dV + y] += p[m] * d
                    }
                    dp[m] = acc
                }
                // forward: p = softmax(z)  →  dz = p ⊙ (dp − <p, dp>)
                var pdp = 0.0
                for m in 0..<M { pdp += p[m] * dp[m] }
                for m in 0..<M { dz[m] = p[m] * (dp[m] - pdp) }
                // forward: z = (c·q_t) @ Hk_t  →  dq_t = c·Hk_t @ dz, dHk += c·outer(q_t, dz)
                for x in 0..<dK {
                    var acc = 0.0
                    let qx = q[n.q(b, t, h, x)]
                    for m in 0..<M {
                        acc += tr.hk[cur * dK * M + x * M + m] * dz[m]
                        dHk[x * M + m] += c * qx * dz[m]
                    }
                    dq[n.q(b, t, h, x)] += c * acc
                }
                // forward: Hv_t = a[:, None]·Hv_{t−1} + outer(s, v_t)  →  dv_t = dHvᵀ @ s, ds += dHv @ v_t
                // forward: Hk_t = Hk_{t−1}·a[None, :] + outer(k_t, s)  →  dk_t = dHk @ s, ds += dHkᵀ @ k_t
                for m in 0..<M {
                    let s = 1 - exp(g[n.g(b, t, j, m)])
                    var acc = 0.0
                    for y in 0..<dV {
                        dv[n.v(b, t, j, y)] += dHv[m * dV + y] * s
                        acc += dHv[m * dV + y] * v[n.v(b, t, j, y)]
                    }
                    for x in 0..<dK {
                        dk[n.k(b, t, j, x)] += dHk[x * M + m] * s
                        acc += dHk[x * M + m] * k[n.k(b, t, j, x)]
                    }
                    ds[m] = acc
                }
                // dg_t = a ⊙ (rowsum(dHv ⊙ Hv_{t−1}) + colsum(dHk ⊙ Hk_{t−1})) − a ⊙ ds  (s = 1 − a);
                // then carry dHk ← dHk·a[None, :], dHv ← a[:, None]·dHv to step t − 1.
                for m in 0..<M {
                    let a = exp(g[n.g(b, t, j, m)])
                    var acc = 0.0
                    for y in 0..<dV { acc += dHv[m * dV + y] * tr.hv[prev * M * dV + m * dV + y] }
                    for x in 0..<dK { acc += dHk[x * M + m] * tr.hk[prev * dK * M + x * M + m] }
                    dg[n.g(b, t, j, m)] += a * acc - a * ds[m]
                    for y in 0..<dV { dHv[m * dV + y] *= a }
                    for x in 0..<dK { dHk[x * M + m] *= a }
                }
            }
            for i in 0..<(dK * M) { dhk0[hkBase + i] += dHk[i] }
            for i in 0..<(M * dV) { dhv0[hvBase + i] += dHv[i] }
        }
    }
}

/// Flat-index helpers and the per-head recurrence shared by the naive forward and backward.
private struct NaiveIndex {
    let B, T, H, Hkv, G, dk, dv, M: Int

    init(_ s: GSAShapes) {
        (B, T, H, Hkv, G, dk, dv, M) = (s.batch, s.length, s.heads, s.kvHeads, s.groupSize, s.keyDim, s.valueDim, s.slots)
    }

    func q(_ b: Int, _ t: Int, _ h: Int, _ x: Int) -> Int { ((b * T + t) * H + h) * dk + x }
    func o(_ b: Int, _ t: Int, _ h: Int, _ y: Int) -> Int { ((b * T + t) * H + h) * dv + y }
    func k(_ b: Int, _ t: Int, _ j: Int, _ x: Int) -> Int { ((b * T + t) * Hkv + j) * dk + x }
    func v(_ b: Int, _ t: Int, _ j: Int, _ y: Int) -> Int { ((b * T + t) * Hkv + j) * dv + y }
    func g(_ b: Int, _ t: Int, _ j: Int, _ m: Int) -> Int { ((b * T + t) * Hkv + j) * M + m }

    func check(q: [Double], k: [Double], v: [Double], g: [Double], hk0: [Double]?, hv0: [Double]?) {
        precondition(q.count == B * T * H * dk && k.count == B * T * Hkv * dk && v.count == B * T * Hkv * dv
                         && g.count == B * T * Hkv * M,
                     "gsaNaive: q \(q.count), k \(k.count), v \(v.count), g \(g.count) values do not match B \(B) T \(T) H \(H) Hkv \(Hkv) dk \(dk) dv \(dv) M \(M)")
        precondition(hk0.map { $0.count == B * Hkv * dk * M } ?? true && hv0.map { $0.count == B * Hkv * M * dv } ?? true,
                     "gsaNaive: initial-state sizes do not match")
    }

    /// What one query head's recurrence produced: outputs [T, dv], softmax weights [T, M], and the states
    /// (all T + 1 of them, states[0] the initial one, when `keepStates`; else only the final one).
    struct Trace {
        var o: [Double]
        var p: [Double]
        var hk: [Double]  // [(T + 1) or 1, dk, M]
        var hv: [Double]  // [(T + 1) or 1, M, dv]
    }

    func run(b: Int, h: Int, q: [Double], k: [Double], v: [Double], g: [Double], hk0: [Double]?, hv0: [Double]?,
             c: Double, keepStates: Bool) -> Trace {
        let j = h / G
        var Hk = [Double](repeating: 0, count: dk * M), Hv = [Double](repeating: 0, count: M * dv)
        if let s = hk0 { for i in 0..<(dk * M) { Hk[i] = s[(b * Hkv + j) * dk * M + i] } }
        if let s = hv0 { for i in 0..<(M * dv) { Hv[i] = s[(b * Hkv + j) * M * dv + i] } }
        var tr = Trace(o: [Double](repeating: 0, count: T * dv), p: [Double](repeating: 0, count: T * M),
                       hk: keepStates ? Hk : [], hv: keepStates ? Hv : [])
        var z = [Double](repeating: 0, count: M)
        for t in 0..<T {
            for m in 0..<M {
                let a = exp(g[self.g(b, t, j, m)]), s = 1 - a
                for x in 0..<dk { Hk[x * M + m] = Hk[x * M + m] * a + k[self.k(b, t, j, x)] * s }
                for y in 0..<dv { Hv[m * dv + y] = a * Hv[m * dv + y] + s * v[self.v(b, t, j, y)] }
            }
            for m in 0..<M {
                var acc = 0.0
                for x in 0..<dk { acc += c * q[self.q(b, t, h, x)] * Hk[x * M + m] }
                z[m] = acc
            }
            let zmax = z.max()!
            var sum = 0.0
            for m in 0..<M { z[m] = exp(z[m] - zmax); sum += z[m] }
            for m in 0..<M { tr.p[t * M + m] = z[m] / sum }
            for y in 0..<dv {
                var acc = 0.0
                for m in 0..<M { acc += tr.p[t * M + m] * Hv[m * dv + y] }
                tr.o[t * dv + y] = acc
            }
            if keepStates { tr.hk += Hk; tr.hv += Hv }
        }
        if !keepStates { tr.hk = Hk; tr.hv = Hv }
        return tr
    }
}

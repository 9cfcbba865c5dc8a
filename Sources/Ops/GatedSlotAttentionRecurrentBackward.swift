// Per-step (BPTT) backward of the GSA core operator over each chunk, recomputing the chunk's per-step states
// from its saved boundary state (../shared/reference/gsa.md §7.1 and §7.3 "CPU equivalent"). The alternative to
// the chunked-matrix backward (`gsaBackward`), kept to measure against it; see GatedSlotAttention.swift.
import TensorCore

/// Per-step BPTT backward; same contract as `gsaBackward` (accumulates; `cache` from `gsaForward`).
/// Parallel over (batch, kv head) only: the state gradient is carried from chunk to chunk.
public func gsaRecurrentBackward(dq: Tensor, dk: Tensor, dv: Tensor, dg: Tensor, dhk0: Tensor?, dhv0: Tensor?,
                                 dO: Tensor, dhkT: Tensor?, dhvT: Tensor?,
                                 q: Tensor, k: Tensor, v: Tensor, g: Tensor, cache: GSAChunkCache,
                                 shapes: GSAShapes, scale c: Float = 1, workspace: GSAWorkspace) {
    checkShape(dq, shapes.queryShape, "gsaRecurrentBackward", "dq")
    checkShape(dk, shapes.keyShape, "gsaRecurrentBackward", "dk")
    checkShape(dv, shapes.valueShape, "gsaRecurrentBackward", "dv")
    checkShape(dg, shapes.gateShape, "gsaRecurrentBackward", "dg")
    if let t = dhk0 { checkShape(t, shapes.keyStateShape, "gsaRecurrentBackward", "dhk0") }
    if let t = dhv0 { checkShape(t, shapes.valueStateShape, "gsaRecurrentBackward", "dhv0") }
    checkShape(dO, shapes.outputShape, "gsaRecurrentBackward", "dO")
    if let t = dhkT { checkShape(t, shapes.keyStateShape, "gsaRecurrentBackward", "dhkT") }
    if let t = dhvT { checkShape(t, shapes.valueStateShape, "gsaRecurrentBackward", "dhvT") }
    checkInputs(q: q, k: k, v: v, g: g, hk0: nil, hv0: nil, shapes: shapes, op: "gsaRecurrentBackward")
    precondition(cache.shapes == shapes, "gsaRecurrentBackward: cache made for \(cache.shapes), called with \(shapes)")
    let geo = GSAGeometry(shapes, scale: c)
    let (dK, dV, M, G, C) = (geo.dk, geo.dv, geo.M, geo.G, GSAChunking.chunk)
    let (sk, sv) = (dK * M, M * dV)
    // per worker: C + 1 states of each kind, P [C, G, M], a, s, ds, dg-part [M], dz [G, M], dHk, dHv
    let perSlot = (C + 1) * (sk + sv) + C * G * M + 4 * M + G * M + sk + sv
    let scratch = workspace.workerScratch(perSlot)
    let (pq, pk, pv, pg, pdO) = (q.pointer, k.pointer, v.pointer, g.pointer, dO.pointer)
    let (pdq, pdk, pdv, pdg) = (dq.pointer, dk.pointer, dv.pointer, dg.pointer)
    let (hkS, hvS) = (cache.keyStates.pointer, cache.valueStates.pointer)
    gsaParallelItems(geo.B * geo.Hkv, slots: scratch.slots) { slot, bj in
        let (b, j) = (bj / geo.Hkv, bj % geo.Hkv)
        var p = scratch.base + slot * perSlot
        func take(_ n: Int) -> UnsafeMutablePointer<Float> {
            defer { p += n }
            return p
        }
        let Sk = take((C + 1) * sk), Sv = take((C + 1) * sv), P = take(C * G * M)
        let a = take(M), s = take(M), dsum = take(M), dgs = take(M), dz = take(G * M)
        let dHk = take(sk), dHv = take(sv)
        precondition(p - (scratch.base + slot * perSlot) == perSlot, "gsaRecurrentBackward: scratch layout")
        if let dhkT { dHk.update(from: dhkT.pointer + bj * sk, count: sk) } else { dHk.update(repeating: 0, count: sk) }
        if let dhvT { dHv.update(from: dhvT.pointer + bj * sv, count: sv) } else { dHv.update(repeating: 0, count: sv) }
        for ci in stride(from: geo.chunks - 1, through: 0, by: -1) {
            let t0 = ci * C, L = geo.length(ofChunk: ci)
            // recompute the chunk's per-step states Sk[i + 1], Sv[i + 1] (after token t0 + i) and P
            Sk.update(from: hkS + geo.boundary(bj, ci) * sk, count: sk)
            Sv.update(from: hvS + geo.boundary(bj, ci) * sv, count: sv)
            for i in 0..<L {
                let hk = Sk + (i + 1) * sk, hv = Sv + (i + 1) * sv
                hk.update(from: hk - sk, count: sk)
                hv.update(from: hv - sv, count: sv)
                gsaGateRow(a: a, s: s, g: pg + geo.gOffset(b, t0 + i, j), M)
                let kt = pk + geo.kOffset(b, t0 + i, j), vt = pv + geo.vOffset(b, t0 + i, j)
                for x in 0..<dK { gsaDecayWrite(hk + x * M, a, kt[x], s, M) }
                for m in 0..<M { gsaScaleAdd(hv + m * dV, a[m], s[m], vt, dV) }
                for h in 0..<G {
                    let z = P + (i * G + h) * M, qt = pq + geo.qOffset(b, t0 + i, j) + h * dK
                    z.update(repeating: 0, count: M)
                    for x in 0..<dK { gsaAxpy(z, c * qt[x], hk + x * M, M) }
                    gsaSoftmax(z, M)
                }
            }
            // BPTT over the chunk (gsa.md §7.1), dHk/dHv = gradients of the state after token t0 + i
            for i in stride(from: L - 1, through: 0, by: -1) {
                let t = t0 + i
                let hk = Sk + (i + 1) * sk, hkPrev = Sk + i * sk, hv = Sv + (i + 1) * sv, hvPrev = Sv + i * sv
                gsaGateRow(a: a, s: s, g: pg + geo.gOffset(b, t, j), M)
                let kt = pk + geo.kOffset(b, t, j), vt = pv + geo.vOffset(b, t, j)
                let dkt = pdk + geo.kOffset(b, t, j), dvt = pdv + geo.vOffset(b, t, j)
                let doT = pdO + geo.oOffset(b, t, j), qt = pq + geo.qOffset(b, t, j), dqt = pdq + geo.qOffset(b, t, j)
                dsum.update(repeating: 0, count: M)
                dgs.update(repeating: 0, count: M)
                // rows of Hv: dp = Hv_t @ do (into dz), dHv += outer(p, do), dv += dHvᵀ s, ds += dHv v,
                // da-part rowsum(dHv ⊙ Hv_{t−1}), then dHv *= a
                for m in 0..<M {
                    let row = dHv + m * dV
                    for h in 0..<G {
                        dz[h * M + m] = vectorDot(hv + m * dV, doT + h * dV, dV)
                        gsaAxpy(row, P[(i * G + h) * M + m], doT + h * dV, dV)
                    }
                    gsaAxpy(dvt, s[m], row, dV)
                    dsum[m] += vectorDot(row, vt, dV)
                    dgs[m] += vectorDot(row, hvPrev + m * dV, dV)
                    for y in 0..<dV { row[y] *= a[m] }
                }
                // softmax backward: dz = p ⊙ (dp − <p, dp>)
                for h in 0..<G {
                    let ph = P + (i * G + h) * M, d = dz + h * M
                    let pdp = vectorDot(ph, d, M)
                    for m in 0..<M { d[m] = ph[m] * (d[m] - pdp) }
                }
                // rows of Hk: dq = c·Hk_t @ dz, dHk += c·outer(q, dz), dk = dHk @ s, ds += dHkᵀ k,
                // da-part colsum(dHk ⊙ Hk_{t−1}), then dHk *= a
                for x in 0..<dK {
                    let row = dHk + x * M
                    for h in 0..<G {
                        dqt[h * dK + x] += c * vectorDot(hk + x * M, dz + h * M, M)
                        gsaAxpy(row, c * qt[h * dK + x], dz + h * M, M)
                    }
                    dkt[x] += vectorDot(row, s, M)
                    gsaAxpy(dsum, kt[x], row, M)
                    gsaAddProduct(dgs, row, hkPrev + x * M, M)
                    gsaMultiply(row, a, M)
                }
                // dg = a ⊙ (rowsum + colsum) − a ⊙ ds   (s = 1 − a)
                let dgt = pdg + geo.gOffset(b, t, j)
                for m in 0..<M { dgt[m] += a[m] * (dgs[m] - dsum[m]) }
            }
        }
        if let dhk0 { gsaAxpy(dhk0.pointer + bj * sk, 1, dHk, sk) }
        if let dhv0 { gsaAxpy(dhv0.pointer + bj * sv, 1, dHv, sv) }
    }
}

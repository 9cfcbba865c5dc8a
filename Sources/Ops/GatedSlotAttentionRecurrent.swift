// The GSA core operator one token at a time, with the state updated in place: the generation/decode
// path. Ports fla 0.6.0 fla/ops/gsa/fused_recurrent.py (`fused_recurrent_gsa_fwd`: pass 1 with the decay on
// the value side, fp32 softmax, pass 2 with the decay on the key side; `fused_recurrent_gsa_inference_kernel`
// for T = 1) — ../shared/reference/gsa.md §4 and §8. Unlike fla's fused_recurrent it supports GQA for any T:
// the G query heads of a kv head read the one state of that kv head. Layouts: GSAShapes.swift.
import TensorCore

/// Token-by-token GSA forward over T steps (T = 1 is one decode step). The states are read as the initial
/// state and overwritten with the state after the last token.
///
/// - o: [B, T, H, dv] (overwritten).
/// - hk: [B, Hkv, dk, M], hv: [B, Hkv, M, dv] (in/out).
/// - q: [B, T, H, dk], k: [B, T, Hkv, dk], v: [B, T, Hkv, dv], g: [B, T, Hkv, M]; scale c (1 in the fla layer).
///
/// Per token, with a = exp(g_t), s = 1 − a (gsa.md §4):
///   Hk = Hk·a[None, :] + outer(k_t, s);  z = (c·q_t) @ Hk;  p = softmax(z)
///   Hv = a[:, None]·Hv + outer(s, v_t);  o_t = p @ Hv
public func gsaRecurrentForward(o: Tensor, hk: Tensor, hv: Tensor, q: Tensor, k: Tensor, v: Tensor, g: Tensor,
                                shapes: GSAShapes, scale c: Float = 1) {
    checkShape(o, shapes.outputShape, "gsaRecurrentForward", "o")
    checkShape(hk, shapes.keyStateShape, "gsaRecurrentForward", "hk")
    checkShape(hv, shapes.valueStateShape, "gsaRecurrentForward", "hv")
    checkShape(q, shapes.queryShape, "gsaRecurrentForward", "q")
    checkShape(k, shapes.keyShape, "gsaRecurrentForward", "k")
    checkShape(v, shapes.valueShape, "gsaRecurrentForward", "v")
    checkShape(g, shapes.gateShape, "gsaRecurrentForward", "g")
    let (B, T, H, Hkv, G) = (shapes.batch, shapes.length, shapes.heads, shapes.kvHeads, shapes.groupSize)
    let (dk, dv, M) = (shapes.keyDim, shapes.valueDim, shapes.slots)
    let po = o.pointer, phk = hk.pointer, phv = hv.pointer
    let pq = UnsafePointer(q.pointer), pk = UnsafePointer(k.pointer), pv = UnsafePointer(v.pointer)
    let pg = UnsafePointer(g.pointer)
    let work = B * Hkv * T * (G + 1) * M * (dk + dv)
    let slots = work >= 1 << 20 ? ComputeThreads.count : 1  // a decode step is too small to hand to a worker
    gsaParallelItems(B * Hkv, slots: slots) { _, bj in
        let b = bj / Hkv, j = bj % Hkv
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 3 * M) { scratch in
            gsaRecurrentHead(
                o: po + (b * T * H + j * G) * dv, oStride: H * dv,
                hk: phk + bj * dk * M, hv: phv + bj * M * dv,
                q: pq + (b * T * H + j * G) * dk, qStride: H * dk,
                k: pk + (b * T * Hkv + j) * dk, kStride: Hkv * dk,
                v: pv + (b * T * Hkv + j) * dv, vStride: Hkv * dv,
                g: pg + (b * T * Hkv + j) * M, gStride: Hkv * M,
                steps: T, G: G, dk: dk, dv: dv, M: M, scale: c, scratch: scratch.baseAddress!)
        }
    }
}

/// The recurrence of one kv head and its G query heads over `steps` tokens; row t of each input starts
/// at base + t·stride, query head i of the group at + i·dk (outputs + i·dv). scratch: 3·M floats.
@inline(__always)
func gsaRecurrentHead(o: UnsafeMutablePointer<Float>, oStride: Int,
                      hk: UnsafeMutablePointer<Float>, hv: UnsafeMutablePointer<Float>,
                      q: UnsafePointer<Float>, qStride: Int, k: UnsafePointer<Float>, kStride: Int,
                      v: UnsafePointer<Float>, vStride: Int, g: UnsafePointer<Float>, gStride: Int,
                      steps: Int, G: Int, dk: Int, dv: Int, M: Int, scale c: Float,
                      scratch: UnsafeMutablePointer<Float>) {
    let a = scratch, s = scratch + M, z = scratch + 2 * M
    for t in 0..<steps {
        gsaGateRow(a: a, s: s, g: g + t * gStride, M)
        // Hk[x, :] = Hk[x, :]·a + k_t[x]·s
        let kt = k + t * kStride
        for x in 0..<dk { gsaDecayWrite(hk + x * M, a, kt[x], s, M) }
        // Hv[m, :] = a[m]·Hv[m, :] + s[m]·v_t
        let vt = v + t * vStride
        for m in 0..<M { gsaScaleAdd(hv + m * dv, a[m], s[m], vt, dv) }
        for i in 0..<G {
            // z = (c·q_t) @ Hk;  p = softmax(z)
            let qt = q + t * qStride + i * dk
            z.update(repeating: 0, count: M)
            for x in 0..<dk { gsaAxpy(z, c * qt[x], hk + x * M, M) }
            gsaSoftmax(z, M)
            // o_t = p @ Hv
            let ot = o + t * oStride + i * dv
            ot.update(repeating: 0, count: dv)
            for m in 0..<M { gsaAxpy(ot, z[m], hv + m * dv, dv) }
        }
    }
}

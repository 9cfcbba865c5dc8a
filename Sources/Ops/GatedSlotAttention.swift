// The Gated Slot Attention (GSA) core operator for whole sequences, forward and backward, in the chunked
// form fla 0.6.0 uses for training (fla/ops/gsa/chunk.py `chunk_gsa`, ChunkGSAFunction; ../shared/reference/
// gsa.md §4–§7, §9). The kernels are in GatedSlotAttentionChunk.swift and GatedSlotAttentionChunkBackward.swift;
// the token-by-token path (decode) in GatedSlotAttentionRecurrent.swift; the Double reference in
// GatedSlotAttentionNaive.swift. Layouts: GSAShapes.swift.
//
// Work is split the way fla's kernels split it, so both cores stay busy even when B·Hkv is small:
//   forward:  1. boundary states, a sequential scan over chunks per (batch, kv head)       (fla chunk_fwd_h)
//             2. every chunk's output from its boundary state, in parallel over chunks
//   backward: A. per chunk: recompute Z, P; dP, dZ, the dΓ part and the chunk's state-gradient terms
//             B. the state gradients at every boundary, a reverse scan per (batch, kv head) (fla chunk_bwd_dh)
//             C. per chunk: dq, dk, dv, ds and the rest of dΓ
//             D. dg: the reverse cumsum of dΓ over the sequence, per (batch, kv head)
// GEMMs (OpenBLAS sgemm) batch the G query heads of a kv head; each worker owns its scratch, so nothing is
// allocated once the workspace has grown to the shapes in use.
//
// Why a chunked-matrix backward and not per-step BPTT over each chunk (gsa.md §7.3 allows either): both were
// built and measured (the BPTT one at commit 836173a, tested against the naive backward, then removed) at the
// SmolLM2 layer shape (B 1, T 2048, H 9, Hkv 3, dk = dv = M = 64) on the 2-vCPU AMD EPYC (family 26) dev VM:
// chunked 35–43 ms on one thread and 19–20 ms on two; BPTT 46.8 ms on one thread and 31.8 ms on two, since its
// state gradient is carried chunk to chunk, leaving only B·Hkv = 3 parallel items. At T = 64 the chunked one is
// also ahead (1.02 vs 1.25 ms).
import TensorCore

/// What the chunked forward saves for the backward: the state before every chunk (and the final state), per
/// (batch, kv head) — the states do not depend on q, so nothing is stored per query head. Make one per layer
/// and shapes; it is overwritten by every `gsaForward` it is passed to.
public struct GSAChunkCache: @unchecked Sendable {
    /// The shapes the cache was made for.
    public let shapes: GSAShapes
    /// [B, Hkv, chunks + 1, dk, M]: Hk before chunk c (index c), the final state at index `chunks`.
    public let keyStates: Tensor
    /// [B, Hkv, chunks + 1, M, dv]: Hv before chunk c (index c), the final state at index `chunks`.
    public let valueStates: Tensor

    /// An empty cache for `shapes` (chunks = ⌈T / 64⌉).
    public init(shapes: GSAShapes) {
        self.shapes = shapes
        let n = shapes.chunkCount(GSAChunking.chunk) + 1
        keyStates = Tensor(zeros: [shapes.batch, shapes.kvHeads, n, shapes.keyDim, shapes.slots])
        valueStates = Tensor(zeros: [shapes.batch, shapes.kvHeads, n, shapes.slots, shapes.valueDim])
    }
}

/// Scratch memory of the chunked GSA forward and backward: per-worker chunk buffers, plus the backward's
/// per-chunk P and dZ, boundary state gradients and dΓ. Buffers grow to the largest shapes seen and are then
/// reused, so a training loop calls forward and backward every step without allocating. One workspace may
/// serve every layer, but not two calls at the same time.
public final class GSAWorkspace: @unchecked Sendable {
    private var scratch = TensorStorage(capacity: 0)
    private var states = TensorStorage(capacity: 0)
    private var backward = TensorStorage(capacity: 0)

    /// An empty workspace; it grows on first use.
    public init() {}

    /// Floats currently held (for memory accounting).
    public var floatCount: Int { scratch.capacity + states.capacity + backward.capacity }

    private static func grown(_ s: TensorStorage, to n: Int) -> TensorStorage {
        s.capacity >= n ? s : TensorStorage(capacity: n, zeroed: false)
    }

    /// Per-worker chunk scratch: `slots` regions of `floats` each.
    func chunkScratch(_ geo: GSAGeometry) -> (base: UnsafeMutablePointer<Float>, floats: Int, slots: Int) {
        let floats = GSAChunkScratch.floats(G: geo.G, dk: geo.dk, dv: geo.dv, M: geo.M)
        let slots = max(1, ComputeThreads.count)
        scratch = Self.grown(scratch, to: floats * slots)
        return (scratch.base, floats, slots)
    }

    /// Boundary states for a forward without a cache: [B·Hkv·(chunks + 1), dk·M] then [B·Hkv·(chunks + 1), M·dv].
    func boundaryStates(_ geo: GSAGeometry) -> (hk: UnsafeMutablePointer<Float>, hv: UnsafeMutablePointer<Float>) {
        let n = geo.B * geo.Hkv * (geo.chunks + 1)
        states = Self.grown(states, to: n * geo.M * (geo.dk + geo.dv))
        return (states.base, states.base + n * geo.dk * geo.M)
    }

    /// The backward's buffers: P and dZ per chunk ([B·Hkv·chunks, C·G, M] each), the state gradients at every
    /// boundary ([B·Hkv·(chunks + 1), dk·M] and [B·Hkv·(chunks + 1), M·dv]) and dΓ ([B·Hkv, T, M]).
    func backwardBuffers(_ geo: GSAGeometry) -> GSABackwardBuffers {
        let items = geo.B * geo.Hkv * geo.chunks, perChunk = GSAChunking.chunk * geo.G * geo.M
        let bounds = geo.B * geo.Hkv * (geo.chunks + 1)
        let sizes = [items * perChunk, items * perChunk, bounds * geo.dk * geo.M, bounds * geo.M * geo.dv,
                     geo.B * geo.Hkv * geo.T * geo.M]
        backward = Self.grown(backward, to: sizes.reduce(0, +))
        var p = backward.base
        var parts: [UnsafeMutablePointer<Float>] = []
        for n in sizes {
            parts.append(p)
            p += n
        }
        return GSABackwardBuffers(P: parts[0], dZ: parts[1], dHk: parts[2], dHv: parts[3], dGamma: parts[4],
                                  perChunk: perChunk)
    }
}

/// Pointers into the workspace's backward region (see `GSAWorkspace.backwardBuffers`).
struct GSABackwardBuffers {
    let P, dZ, dHk, dHv, dGamma: UnsafeMutablePointer<Float>
    let perChunk: Int
}

/// Chunked GSA forward (fla `chunk_gsa`): o = GSA(q, k, v, g) for whole sequences, and the final states.
///
/// - o: [B, T, H, dv] (overwritten); hkT: [B, Hkv, dk, M], hvT: [B, Hkv, M, dv] or nil (overwritten);
///   cache: filled for `gsaBackward`, or nil for inference.
/// - q: [B, T, H, dk] (after the feature map), k: [B, T, Hkv, dk], v: [B, T, Hkv, dv],
///   g: [B, T, Hkv, M] (log forget gate from `gsaGateForward`, ≤ 0; s = 1 − exp(g) is derived here);
///   hk0: [B, Hkv, dk, M], hv0: [B, Hkv, M, dv] or nil (zero initial state).
/// - scale: c, the q·k scale; 1 in the fla layer (fla's raw kernels default to dk^−0.5).
///
/// Query head h reads kv head h / (H / Hkv). Per token (gsa.md §4), with a = exp(g_t), s = 1 − a:
///   Hk = Hk·a[None, :] + outer(k_t, s);  p = softmax((c·q_t) @ Hk);  Hv = a[:, None]·Hv + outer(s, v_t);  o_t = p @ Hv
public func gsaForward(o: Tensor, hkT: Tensor?, hvT: Tensor?, cache: GSAChunkCache?,
                       q: Tensor, k: Tensor, v: Tensor, g: Tensor, hk0: Tensor?, hv0: Tensor?,
                       shapes: GSAShapes, scale: Float = 1, workspace: GSAWorkspace) {
    checkShape(o, shapes.outputShape, "gsaForward", "o")
    if let t = hkT { checkShape(t, shapes.keyStateShape, "gsaForward", "hkT") }
    if let t = hvT { checkShape(t, shapes.valueStateShape, "gsaForward", "hvT") }
    checkInputs(q: q, k: k, v: v, g: g, hk0: hk0, hv0: hv0, shapes: shapes, op: "gsaForward")
    if let cache { precondition(cache.shapes == shapes, "gsaForward: cache made for \(cache.shapes), called with \(shapes)") }
    let geo = GSAGeometry(shapes, scale: scale)
    let (sk, sv) = (geo.dk * geo.M, geo.M * geo.dv)
    let states = cache.map { ($0.keyStates.pointer, $0.valueStates.pointer) } ?? workspace.boundaryStates(geo)
    let (hkS, hvS) = states
    for bj in 0..<(geo.B * geo.Hkv) {
        let dstK = hkS + geo.boundary(bj, 0) * sk, dstV = hvS + geo.boundary(bj, 0) * sv
        if let hk0 { dstK.update(from: hk0.pointer + bj * sk, count: sk) } else { dstK.update(repeating: 0, count: sk) }
        if let hv0 { dstV.update(from: hv0.pointer + bj * sv, count: sv) } else { dstV.update(repeating: 0, count: sv) }
    }
    let scratch = workspace.chunkScratch(geo)
    let (pq, pk, pv, pg, po) = (q.pointer, k.pointer, v.pointer, g.pointer, o.pointer)
    // 1. boundary states: a sequential scan over the chunks of each (batch, kv head)
    gsaParallelItems(geo.B * geo.Hkv, slots: scratch.slots) { slot, bj in
        let sc = GSAChunkScratch(scratch.base + slot * scratch.floats, G: geo.G, dk: geo.dk, dv: geo.dv, M: geo.M)
        for ci in 0..<geo.chunks {
            let ch = GSAChunk(geo, sc, bj: bj, ci: ci, q: pq, k: pk, v: pv, g: pg)
            ch.advanceState(hk: hkS + geo.boundary(bj, ci) * sk, hv: hvS + geo.boundary(bj, ci) * sv,
                            hkNext: hkS + geo.boundary(bj, ci + 1) * sk, hvNext: hvS + geo.boundary(bj, ci + 1) * sv)
        }
    }
    // 2. every chunk's output from its boundary state, in parallel over chunks
    gsaParallelItems(geo.B * geo.Hkv * geo.chunks, slots: scratch.slots) { slot, item in
        let bj = item / geo.chunks, ci = item % geo.chunks
        let sc = GSAChunkScratch(scratch.base + slot * scratch.floats, G: geo.G, dk: geo.dk, dv: geo.dv, M: geo.M)
        let ch = GSAChunk(geo, sc, bj: bj, ci: ci, q: pq, k: pk, v: pv, g: pg)
        ch.output(o: po, hk: hkS + geo.boundary(bj, ci) * sk, hv: hvS + geo.boundary(bj, ci) * sv)
    }
    for bj in 0..<(geo.B * geo.Hkv) {
        hkT?.pointer.advanced(by: bj * sk).update(from: hkS + geo.boundary(bj, geo.chunks) * sk, count: sk)
        hvT?.pointer.advanced(by: bj * sv).update(from: hvS + geo.boundary(bj, geo.chunks) * sv, count: sv)
    }
}

/// Chunked GSA backward: accumulates the gradients of every input given the output gradient (and optionally the
/// final-state gradients). `cache` must come from `gsaForward` on the same inputs, shapes and scale.
///
/// - dq: [B, T, H, dk], dk: [B, T, Hkv, dk], dv: [B, T, Hkv, dv], dg: [B, T, Hkv, M] (+=; dg includes the path
///   through s = 1 − exp(g)); dhk0: [B, Hkv, dk, M], dhv0: [B, Hkv, M, dv] or nil (+=).
/// - dO: [B, T, H, dv]; dhkT: [B, Hkv, dk, M], dhvT: [B, Hkv, M, dv] or nil (zero).
/// - q, k, v, g and scale as passed to `gsaForward`.
///
/// The derivation and the forward lines each step differentiates are in GatedSlotAttentionChunkBackward.swift.
public func gsaBackward(dq: Tensor, dk: Tensor, dv: Tensor, dg: Tensor, dhk0: Tensor?, dhv0: Tensor?,
                        dO: Tensor, dhkT: Tensor?, dhvT: Tensor?,
                        q: Tensor, k: Tensor, v: Tensor, g: Tensor, cache: GSAChunkCache,
                        shapes: GSAShapes, scale: Float = 1, workspace: GSAWorkspace) {
    checkShape(dq, shapes.queryShape, "gsaBackward", "dq")
    checkShape(dk, shapes.keyShape, "gsaBackward", "dk")
    checkShape(dv, shapes.valueShape, "gsaBackward", "dv")
    checkShape(dg, shapes.gateShape, "gsaBackward", "dg")
    if let t = dhk0 { checkShape(t, shapes.keyStateShape, "gsaBackward", "dhk0") }
    if let t = dhv0 { checkShape(t, shapes.valueStateShape, "gsaBackward", "dhv0") }
    checkShape(dO, shapes.outputShape, "gsaBackward", "dO")
    if let t = dhkT { checkShape(t, shapes.keyStateShape, "gsaBackward", "dhkT") }
    if let t = dhvT { checkShape(t, shapes.valueStateShape, "gsaBackward", "dhvT") }
    checkInputs(q: q, k: k, v: v, g: g, hk0: nil, hv0: nil, shapes: shapes, op: "gsaBackward")
    precondition(cache.shapes == shapes, "gsaBackward: cache made for \(cache.shapes), called with \(shapes)")
    let geo = GSAGeometry(shapes, scale: scale)
    let (sk, sv, M, T, chunks) = (geo.dk * geo.M, geo.M * geo.dv, geo.M, geo.T, geo.chunks)
    let (hkS, hvS) = (cache.keyStates.pointer, cache.valueStates.pointer)
    let scratch = workspace.chunkScratch(geo)
    let bw = workspace.backwardBuffers(geo)
    let (pq, pk, pv, pg, pdO) = (q.pointer, k.pointer, v.pointer, g.pointer, dO.pointer)
    // A. per chunk: P, dZ, the head-summed Σ (z ⊙ dz + p ⊙ dp), and the chunk's state-gradient terms
    gsaParallelItems(geo.B * geo.Hkv * chunks, slots: scratch.slots) { slot, item in
        let bj = item / chunks, ci = item % chunks
        let sc = GSAChunkScratch(scratch.base + slot * scratch.floats, G: geo.G, dk: geo.dk, dv: geo.dv, M: M)
        let ch = GSAChunk(geo, sc, bj: bj, ci: ci, q: pq, k: pk, v: pv, g: pg)
        ch.backwardLocal(dO: pdO, hk: hkS + geo.boundary(bj, ci) * sk, hv: hvS + geo.boundary(bj, ci) * sv,
                         P: bw.P + item * bw.perChunk, dZ: bw.dZ + item * bw.perChunk,
                         dGamma: bw.dGamma + (bj * T + ch.t0) * M,
                         uk: bw.dHk + geo.boundary(bj, ci) * sk, uv: bw.dHv + geo.boundary(bj, ci) * sv)
    }
    // B. state gradients at every boundary: dH_c = exp(Γ_L)·dH_{c+1} + U_c, from dH_chunks = d(final state)
    gsaParallelItems(geo.B * geo.Hkv, slots: scratch.slots) { _, bj in
        let (b, j) = (bj / geo.Hkv, bj % geo.Hkv)
        let lastK = bw.dHk + geo.boundary(bj, chunks) * sk, lastV = bw.dHv + geo.boundary(bj, chunks) * sv
        if let dhkT { lastK.update(from: dhkT.pointer + bj * sk, count: sk) } else { lastK.update(repeating: 0, count: sk) }
        if let dhvT { lastV.update(from: dhvT.pointer + bj * sv, count: sv) } else { lastV.update(repeating: 0, count: sv) }
        if T > 0 {
            // forward: the final state Hk_T = Hk_0·exp(Γ_T) + …  →  dΓ_{T−1} += colsum(dHk_T ⊙ Hk_T) + rowsum(dHv_T ⊙ Hv_T)
            let dG = bw.dGamma + (bj * T + T - 1) * M
            let hkF = hkS + geo.boundary(bj, chunks) * sk, hvF = hvS + geo.boundary(bj, chunks) * sv
            if dhkT != nil { for x in 0..<geo.dk { gsaAddProduct(dG, lastK + x * M, hkF + x * M, M) } }
            if dhvT != nil { for m in 0..<M { dG[m] += vectorDot(lastV + m * geo.dv, hvF + m * geo.dv, geo.dv) } }
        }
        withUnsafeTemporaryAllocation(of: Float.self, capacity: M) { buf in
            let eL = buf.baseAddress!
            for ci in stride(from: chunks - 1, through: 0, by: -1) {
                // exp(Γ_L) of chunk ci: exp of the sum of its g
                eL.update(repeating: 0, count: M)
                let t0 = ci * GSAChunking.chunk
                for t in t0..<(t0 + geo.length(ofChunk: ci)) { gsaAxpy(eL, 1, pg + geo.gOffset(b, t, j), M) }
                for m in 0..<M { eL[m] = fastExp(eL[m]) }
                // forward: Hk' = Hk ⊙ exp(Γ_L)[None, :] + …, Hv' = exp(Γ_L)[:, None] ⊙ Hv + …
                let dK = bw.dHk + geo.boundary(bj, ci) * sk, dKn = dK + sk
                let dV = bw.dHv + geo.boundary(bj, ci) * sv, dVn = dV + sv
                for x in 0..<geo.dk { gsaAddProduct(dK + x * M, dKn + x * M, eL, M) }
                for m in 0..<M { gsaAxpy(dV + m * geo.dv, eL[m], dVn + m * geo.dv, geo.dv) }
            }
        }
        if let dhk0 { gsaAxpy(dhk0.pointer + bj * sk, 1, bw.dHk + geo.boundary(bj, 0) * sk, sk) }
        if let dhv0 { gsaAxpy(dhv0.pointer + bj * sv, 1, bw.dHv + geo.boundary(bj, 0) * sv, sv) }
    }
    // C. per chunk: dq, dk, dv, ds (into dΓ and dg)
    let (pdq, pdk, pdv, pdg) = (dq.pointer, dk.pointer, dv.pointer, dg.pointer)
    gsaParallelItems(geo.B * geo.Hkv * chunks, slots: scratch.slots) { slot, item in
        let bj = item / chunks, ci = item % chunks
        let sc = GSAChunkScratch(scratch.base + slot * scratch.floats, G: geo.G, dk: geo.dk, dv: geo.dv, M: M)
        let ch = GSAChunk(geo, sc, bj: bj, ci: ci, q: pq, k: pk, v: pv, g: pg)
        ch.backwardGrads(dO: pdO, hk: hkS + geo.boundary(bj, ci) * sk,
                         P: bw.P + item * bw.perChunk, dZ: bw.dZ + item * bw.perChunk,
                         dGamma: bw.dGamma + (bj * T + ch.t0) * M,
                         dHkNext: bw.dHk + geo.boundary(bj, ci + 1) * sk, dHvNext: bw.dHv + geo.boundary(bj, ci + 1) * sv,
                         dq: pdq, dk: pdk, dv: pdv, dg: pdg)
    }
    // D. forward: Γ_t = Σ_{r≤t} g_r  →  dg_t += Σ_{r≥t} dΓ_r
    gsaParallelItems(geo.B * geo.Hkv, slots: scratch.slots) { _, bj in
        let (b, j) = (bj / geo.Hkv, bj % geo.Hkv)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: M) { buf in
            let run = buf.baseAddress!
            run.update(repeating: 0, count: M)
            for t in stride(from: T - 1, through: 0, by: -1) {
                gsaAxpy(run, 1, bw.dGamma + (bj * T + t) * M, M)
                gsaAxpy(pdg + geo.gOffset(b, t, j), 1, run, M)
            }
        }
    }
}

/// Shape checks of the forward inputs shared by the GSA entry points.
func checkInputs(q: Tensor, k: Tensor, v: Tensor, g: Tensor, hk0: Tensor?, hv0: Tensor?, shapes: GSAShapes,
                 op: StaticString) {
    checkShape(q, shapes.queryShape, op, "q")
    checkShape(k, shapes.keyShape, op, "k")
    checkShape(v, shapes.valueShape, op, "v")
    checkShape(g, shapes.gateShape, op, "g")
    if let t = hk0 { checkShape(t, shapes.keyStateShape, op, "hk0") }
    if let t = hv0 { checkShape(t, shapes.valueStateShape, op, "hv0") }
}

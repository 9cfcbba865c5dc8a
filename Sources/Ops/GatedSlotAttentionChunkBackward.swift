// Backward steps of the chunked GSA core operator (per chunk, recomputing the chunk's forward quantities from
// its saved boundary state — fla 0.6.0's `checkpoint_level` trade, ../shared/reference/gsa.md §7.3 "CPU
// equivalent"). Ports the order of fla/ops/gsa/chunk.py `ChunkGSAFunction.backward` / `chunk_gsa_bwd`:
// pass-2 GLA backward (dP, dv, ds_v), softmax backward (dZ), pass-1 backward (dq, dk, ds_k), and the gate
// gradient through the cumulative-decay identity of gsa.md §7.2, reverse-cumsummed over the sequence.
//
// With Γ, A, Z, P, Av as in GatedSlotAttentionChunk.swift, dO the chunk's output gradient, and dHk', dHv' the
// gradients of the state after the chunk (derived formulas; the comments quote the forward lines):
//
//   dAv = dO·Vᵀ (j ≤ i)                       dP = (dO·Hvᵀ) ⊙ exp(Γ) + Σ_{j≤i} dAv[i,j] s_j ⊙ exp(Γ_i − Γ_j)
//   dZ  = P ⊙ (dP − <P, dP>)                  dA[i,j] = Σ_m dZ_i[m] s_j[m] exp(Γ_i − Γ_j)[m]
//   dq  = c·(dZ ⊙ exp(Γ))·Hkᵀ + c·dA·K        dk = c·dAᵀ·Q + W_L·dHk'ᵀ        dv = Avᵀ·dO + W_L·dHv'
//   ds_j = Σ_{i≥j} (A[i,j] dZ_i + dAv[i,j] P_i) ⊙ exp(Γ_i − Γ_j) + exp(Γ_L − Γ_j) ⊙ (K·dHk' + V·dHv'ᵀ)_j
//   dHk = exp(Γ_L)[None, :] ⊙ dHk' + c·Qᵀ·(dZ ⊙ exp(Γ))     dHv = exp(Γ_L)[:, None] ⊙ dHv' + (P ⊙ exp(Γ))ᵀ·dO
//   dΓ_t = Σ_heads (z_t ⊙ dz_t + p_t ⊙ dp_t) − s_t ⊙ ds_t   (+ colsum(dHk_T ⊙ Hk_T) + rowsum(dHv_T ⊙ Hv_T) at T − 1)
//   dg_t = Σ_{r≥t} dΓ_r − exp(g_t) ⊙ ds_t                   (s = 1 − exp(g))
//
// Sums over the G query heads of a kv head come out of the GEMMs, whose rows are (token, head) pairs.
import TensorCore

extension GSAChunk {
    /// Backward step 1 (no state gradients needed): recomputes Z and P of the chunk from the state (hk, hv)
    /// before it, and writes P and dZ ([L·G, M], kept for step 3), the head-summed dΓ part
    /// Σ (z ⊙ dz + p ⊙ dp) ([L, M]) and the chunk's contributions to the state gradients,
    /// uk = c·Qᵀ·(dZ ⊙ exp(Γ)) [dk, M] and uv = (P ⊙ exp(Γ))ᵀ·dO [M, dv].
    func backwardLocal(dO: UnsafePointer<Float>, hk: UnsafePointer<Float>, hv: UnsafePointer<Float>,
                       P: UnsafeMutablePointer<Float>, dZ: UnsafeMutablePointer<Float>,
                       dGamma: UnsafeMutablePointer<Float>, uk: UnsafeMutablePointer<Float>,
                       uv: UnsafeMutablePointer<Float>) {
        let (G, dk, dv, M, C, BC) = (geo.G, geo.dk, geo.dv, geo.M, GSAChunking.chunk, GSAChunking.subChunk)
        let LG = L * G
        prepareGates(withExp: true)
        pack(sc.qp, q, ld: ldq, width: dk)
        pack(sc.op, dO + geo.oOffset(b, t0, j), ld: ldo, width: dv)
        slotLogitsInter(hk: hk)
        // forward: O[i] = (P_i ⊙ exp(Γ_i)) @ Hv + Σ_{j≤i} Av[i,j] v_j
        //   →  dAv = dO·Vᵀ,  dP = (dO·Hvᵀ) ⊙ exp(Γ) + Σ_{j≤i} dAv[i,j] s_j ⊙ exp(Γ_i − Γ_j)
        BLAS.sgemm(transA: false, transB: true, m: LG, n: L, k: dv, a: sc.op, lda: dv, b: v, ldb: ldv, c: sc.dAv, ldc: C)
        BLAS.sgemm(transA: false, transB: true, m: LG, n: M, k: dv, a: sc.op, lda: dv, b: hv, ldb: dv, c: sc.dP, ldc: M)
        scaleRows(sc.dP, by: sc.eg)
        for n in stride(from: 0, to: L, by: BC) {
            let e = min(n + BC, L)
            subChunkFactors(n: n, e: e)
            intraAccumulate(sc.Z, sc.A, n: n, e: e)
            intraAccumulate(sc.dP, sc.dAv, n: n, e: e)
        }
        // forward: P = softmax(Z)  →  dZ = P ⊙ (dP − <P, dP>)
        softmaxRows(P, sc.Z, tokens: 0..<L)
        dGamma.update(repeating: 0, count: L * M)
        for i in 0..<L {
            let dgi = dGamma + i * M
            for r in (i * G)..<(i * G + G) {
                let p = P + r * M, dp = sc.dP + r * M, z = sc.Z + r * M, dz = dZ + r * M
                let pdp = vectorDot(p, dp, M)
                for m in 0..<M {
                    dz[m] = p[m] * (dp[m] - pdp)
                    dgi[m] += z[m] * dz[m] + p[m] * dp[m]
                }
            }
        }
        // forward: Z ∋ (c·Q·Hk) ⊙ exp(Γ)  →  dHk ∋ c·Qᵀ·(dZ ⊙ exp(Γ))
        rowProduct(sc.T1, dZ, sc.eg, tokens: 0..<L)
        BLAS.sgemm(transA: true, transB: false, m: dk, n: M, k: LG, alpha: geo.scale, a: sc.qp, lda: dk, b: sc.T1, ldb: M,
                   c: uk, ldc: M)
        // forward: O ∋ (P ⊙ exp(Γ)) @ Hv  →  dHv ∋ (P ⊙ exp(Γ))ᵀ·dO
        rowProduct(sc.T1, P, sc.eg, tokens: 0..<L)
        BLAS.sgemm(transA: true, transB: false, m: M, n: dv, k: LG, a: sc.T1, lda: M, b: sc.op, ldb: dv, c: uv, ldc: dv)
    }

    /// Backward step 3: given P and dZ from step 1, the state (hk) before the chunk and the gradients of the
    /// state after it (dHkNext [dk, M], dHvNext [M, dv]), accumulates dq, dk, dv and the s-path of dg into the
    /// full gradient tensors and turns dGamma [L, M] into the complete dΓ of the chunk's tokens.
    func backwardGrads(dO: UnsafePointer<Float>, hk: UnsafePointer<Float>,
                       P: UnsafePointer<Float>, dZ: UnsafePointer<Float>, dGamma: UnsafeMutablePointer<Float>,
                       dHkNext: UnsafePointer<Float>, dHvNext: UnsafePointer<Float>,
                       dq: UnsafeMutablePointer<Float>, dk dK: UnsafeMutablePointer<Float>,
                       dv dV: UnsafeMutablePointer<Float>, dg: UnsafeMutablePointer<Float>) {
        let (G, dk, dv, M, C, BC) = (geo.G, geo.dk, geo.dv, geo.M, GSAChunking.chunk, GSAChunking.subChunk)
        let LG = L * G, c = geo.scale
        prepareGates(withExp: true)
        pack(sc.qp, q, ld: ldq, width: dk)
        pack(sc.op, dO + geo.oOffset(b, t0, j), ld: ldo, width: dv)
        BLAS.sgemm(transA: false, transB: true, m: LG, n: L, k: dk, alpha: c, a: sc.qp, lda: dk, b: k, ldb: ldk,
                   c: sc.A, ldc: C)
        BLAS.sgemm(transA: false, transB: true, m: LG, n: L, k: dv, a: sc.op, lda: dv, b: v, ldb: ldv, c: sc.dAv, ldc: C)
        sc.Av.update(repeating: 0, count: LG * C)
        sc.dA.update(repeating: 0, count: LG * C)
        sc.dS.update(repeating: 0, count: L * M)
        for n in stride(from: 0, to: L, by: BC) {
            let e = min(n + BC, L)
            subChunkFactors(n: n, e: e)
            // forward: Av[i,j] = Σ_m P_i s_j exp(Γ_i − Γ_j), O ∋ Av·V  →  ds_j ∋ Σ_{i≥j} dAv[i,j] P_i ⊙ exp(Γ_i − Γ_j)
            intraContract(sc.Av, P, n: n, e: e)
            intraReverse(sc.dAv, P, n: n, e: e, accumulate: false)
            // forward: Z[i] ∋ Σ_{j≤i} A[i,j] s_j ⊙ exp(Γ_i − Γ_j)
            //   →  dA[i,j] = Σ_m dZ_i s_j exp(Γ_i − Γ_j),  ds_j ∋ Σ_{i≥j} A[i,j] dZ_i ⊙ exp(Γ_i − Γ_j)
            intraContract(sc.dA, dZ, n: n, e: e)
            intraReverse(sc.A, dZ, n: n, e: e, accumulate: true)
            if n > 0 { for jj in 0..<n { gsaAddProduct(sc.dS + jj * M, sc.T2 + jj * M, sc.D + jj * M, M) } }
        }
        // forward: Z = (c·Q·Hk) ⊙ exp(Γ) + intra(A = c·Q·Kᵀ)  →  dq = c·(dZ ⊙ exp(Γ))·Hkᵀ + c·dA·K
        rowProduct(sc.T1, dZ, sc.eg, tokens: 0..<L)
        BLAS.sgemm(transA: false, transB: true, m: LG, n: dk, k: M, alpha: c, a: sc.T1, lda: M, b: hk, ldb: M,
                   c: sc.dqp, ldc: dk)
        BLAS.sgemm(transA: false, transB: false, m: LG, n: dk, k: L, alpha: c, a: sc.dA, lda: C, b: k, ldb: ldk, beta: 1,
                   c: sc.dqp, ldc: dk)
        unpackAdd(dq + geo.qOffset(b, t0, j), ld: ldq, sc.dqp, width: dk)
        // forward: Hk' = Hk ⊙ exp(Γ_L) + Kᵀ·W_L, W_L = S ⊙ exp(Γ_L − Γ)  →  dk = c·dAᵀ·Q + W_L·dHk'ᵀ
        stateWeights(withDecay: true)
        let dkc = dK + geo.kOffset(b, t0, j), dvc = dV + geo.vOffset(b, t0, j)
        BLAS.sgemm(transA: true, transB: false, m: L, n: dk, k: LG, alpha: c, a: sc.dA, lda: C, b: sc.qp, ldb: dk,
                   beta: 1, c: dkc, ldc: ldk)
        BLAS.sgemm(transA: false, transB: true, m: L, n: dk, k: M, a: sc.W, lda: M, b: dHkNext, ldb: M, beta: 1,
                   c: dkc, ldc: ldk)
        // forward: O ∋ Av·V, Hv' = exp(Γ_L) ⊙ Hv + W_Lᵀ·V  →  dv = Avᵀ·dO + W_L·dHv'
        BLAS.sgemm(transA: true, transB: false, m: L, n: dv, k: LG, a: sc.Av, lda: C, b: sc.op, ldb: dv, beta: 1,
                   c: dvc, ldc: ldv)
        BLAS.sgemm(transA: false, transB: false, m: L, n: dv, k: M, a: sc.W, lda: M, b: dHvNext, ldb: dv, beta: 1,
                   c: dvc, ldc: ldv)
        // forward: W_L = S ⊙ exp(Γ_L − Γ)  →  ds_j ∋ exp(Γ_L − Γ_j) ⊙ (K·dHk' + V·dHv'ᵀ)_j
        BLAS.sgemm(transA: false, transB: false, m: L, n: M, k: dk, a: k, lda: ldk, b: dHkNext, ldb: M, c: sc.T2, ldc: M)
        BLAS.sgemm(transA: false, transB: true, m: L, n: M, k: dv, a: v, lda: ldv, b: dHvNext, ldb: dv, beta: 1,
                   c: sc.T2, ldc: M)
        for jj in 0..<L { gsaAddProduct(sc.dS + jj * M, sc.T2 + jj * M, sc.D + jj * M, M) }
        // dΓ_t −= s_t ⊙ ds_t;  forward: s = 1 − exp(g)  →  dg_t += −exp(g_t) ⊙ ds_t
        let dgc = dg + geo.gOffset(b, t0, j)
        for i in 0..<L {
            let gi = g + i * ldg, dgi = dgc + i * ldg, s = sc.s + i * M, ds = sc.dS + i * M, dG = dGamma + i * M
            for m in 0..<M {
                dG[m] -= s[m] * ds[m]
                dgi[m] -= fastExp(gi[m]) * ds[m]
            }
        }
    }
}

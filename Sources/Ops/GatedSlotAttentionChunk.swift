// Chunk kernels of the GSA core operator: the per-chunk building blocks shared by the chunked forward
// (GatedSlotAttention.swift) and backward (GatedSlotAttentionChunkBackward.swift). Ports the structure of
// fla 0.6.0 fla/ops/gsa/chunk.py (`chunk_gsa_fwd`: `chunk_fwd_h` for the chunk-boundary states,
// `chunk_gsa_fwd_kernel_inter`/`_intra` for pass 1, `chunk_gla_fwd` for pass 2); ../shared/reference/gsa.md §6.
//
// Within a chunk of L ≤ C = 64 tokens, Γ is the chunk-local inclusive cumsum of g (Γ_i ≤ Γ_j ≤ 0 for
// i ≥ j), A = c·Q·Kᵀ, and with the state (Hk, Hv) at the chunk start:
//
//   Z[i]  = (c·q_i·Hk) ⊙ exp(Γ_i) + Σ_{j≤i} A[i,j] · s_j ⊙ exp(Γ_i − Γ_j)          pass 1, [L·G, M]
//   P     = softmax(Z) over M
//   Av[i,j] = Σ_m P_i[m] s_j[m] exp(Γ_i[m] − Γ_j[m])  (j ≤ i)                      pass 2, [L·G, L]
//   O[i]  = (P_i ⊙ exp(Γ_i)) @ Hv + Σ_{j≤i} Av[i,j] v_j
//   Hk'   = Hk ⊙ exp(Γ_L)[None, :] + Kᵀ @ W_L,  Hv' = exp(Γ_L)[:, None] ⊙ Hv + W_Lᵀ @ V,  W_L = S ⊙ exp(Γ_L − Γ)
//
// The intra-chunk sums run in sub-chunks of BC = 16 rows, as fla's `_intra` kernels do, so that no
// exponential can overflow: for sub-chunk I = [n, e) and columns j < n, exp(Γ_i − Γ_j) is factored at the
// sub-chunk start as R_i · D_j with R_i = exp(Γ_i − Γ_n) ≤ 1 and D_j = exp(Γ_n − Γ_j) ≤ 1, which turns the
// off-diagonal block into one GEMM against W = S ⊙ D; the diagonal block (n ≤ j ≤ i < e) is done element
// by element with E[i,j] = exp(Γ_i − Γ_j) ≤ 1, never evaluating a non-causal (j > i) exponential.
//
// Rows of the per-chunk matrices are (token, query head of the group) pairs, r = i·G + g, so the G query
// heads of one kv head share every GEMM: Q of a chunk is L contiguous runs of G·dk floats in q.
import TensorCore

/// Chunk lengths of the chunked GSA (fla 0.6.0 defaults: chunk_size 64, sub-chunk BC = min(16, C)).
public enum GSAChunking {
    /// C: tokens per chunk.
    public static let chunk = 64
    /// BC: tokens per intra-chunk sub-chunk.
    public static let subChunk = 16
}

/// The dimensions of a call, with the offsets of a (batch, token, kv head) row in each tensor.
struct GSAGeometry {
    let B, T, H, Hkv, G, dk, dv, M, chunks: Int
    let scale: Float

    init(_ s: GSAShapes, scale: Float) {
        (B, T, H, Hkv, G) = (s.batch, s.length, s.heads, s.kvHeads, s.groupSize)
        (dk, dv, M) = (s.keyDim, s.valueDim, s.slots)
        chunks = s.chunkCount(GSAChunking.chunk)
        self.scale = scale
    }

    /// Tokens in chunk ci.
    @inline(__always) func length(ofChunk ci: Int) -> Int { min(GSAChunking.chunk, T - ci * GSAChunking.chunk) }
    /// q/dq: first query head of kv head j at (b, t); the token stride is H·dk.
    @inline(__always) func qOffset(_ b: Int, _ t: Int, _ j: Int) -> Int { ((b * T + t) * H + j * G) * dk }
    /// o/do: first query head of kv head j at (b, t); the token stride is H·dv.
    @inline(__always) func oOffset(_ b: Int, _ t: Int, _ j: Int) -> Int { ((b * T + t) * H + j * G) * dv }
    /// k/dk at (b, t, j); the token stride is Hkv·dk.
    @inline(__always) func kOffset(_ b: Int, _ t: Int, _ j: Int) -> Int { ((b * T + t) * Hkv + j) * dk }
    /// v/dv at (b, t, j); the token stride is Hkv·dv.
    @inline(__always) func vOffset(_ b: Int, _ t: Int, _ j: Int) -> Int { ((b * T + t) * Hkv + j) * dv }
    /// g/dg at (b, t, j); the token stride is Hkv·M.
    @inline(__always) func gOffset(_ b: Int, _ t: Int, _ j: Int) -> Int { ((b * T + t) * Hkv + j) * M }
    /// Index of the boundary state before chunk ci of kv head bj = b·Hkv + j (ci = chunks: the final state).
    @inline(__always) func boundary(_ bj: Int, _ ci: Int) -> Int { bj * (chunks + 1) + ci }
}

/// One worker's scratch, carved from a single buffer (sizes for a full chunk; row stride of [·, C] matrices is C).
struct GSAChunkScratch {
    let s, gam, eg, D, W, R, T2, dS: UnsafeMutablePointer<Float>  // [C, M]
    let E, SE: UnsafeMutablePointer<Float>  // [BC, BC, M]
    let qp, dqp: UnsafeMutablePointer<Float>  // [C·G, dk]
    let op: UnsafeMutablePointer<Float>  // [C·G, dv]: output (forward) or packed dO (backward)
    let A, Av, dAv, dA: UnsafeMutablePointer<Float>  // [C·G, C]
    let Z, P, dP, T1: UnsafeMutablePointer<Float>  // [C·G, M]

    static func floats(G: Int, dk: Int, dv: Int, M: Int) -> Int {
        let C = GSAChunking.chunk, BC = GSAChunking.subChunk
        return 8 * C * M + 2 * BC * BC * M + 2 * C * G * dk + C * G * dv + 4 * C * G * C + 4 * C * G * M
    }

    init(_ base: UnsafeMutablePointer<Float>, G: Int, dk: Int, dv: Int, M: Int) {
        let C = GSAChunking.chunk, BC = GSAChunking.subChunk
        var p = base
        func take(_ n: Int) -> UnsafeMutablePointer<Float> {
            defer { p += n }
            return p
        }
        (s, gam, eg, D, W, R, T2, dS) = (take(C * M), take(C * M), take(C * M), take(C * M), take(C * M),
                                         take(C * M), take(C * M), take(C * M))
        (E, SE) = (take(BC * BC * M), take(BC * BC * M))
        (qp, dqp, op) = (take(C * G * dk), take(C * G * dk), take(C * G * dv))
        (A, Av, dAv, dA) = (take(C * G * C), take(C * G * C), take(C * G * C), take(C * G * C))
        (Z, P, dP, T1) = (take(C * G * M), take(C * G * M), take(C * G * M), take(C * G * M))
        assert(p - base == GSAChunkScratch.floats(G: G, dk: dk, dv: dv, M: M))
    }
}

/// The inputs of one chunk (kv head bj = b·Hkv + j, chunk ci) and the per-chunk steps on a worker's scratch.
struct GSAChunk {
    let geo: GSAGeometry
    let sc: GSAChunkScratch
    let b, j, bj, ci, t0, L: Int
    let q, k, v, g: UnsafePointer<Float>  // the chunk's first token for (b, j); q at query head j·G
    let ldq, ldk, ldv, ldg, ldo: Int  // token strides

    init(_ geo: GSAGeometry, _ sc: GSAChunkScratch, bj: Int, ci: Int,
         q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, g: UnsafePointer<Float>) {
        self.geo = geo
        self.sc = sc
        (self.bj, self.ci) = (bj, ci)
        (b, j) = (bj / geo.Hkv, bj % geo.Hkv)
        t0 = ci * GSAChunking.chunk
        L = geo.length(ofChunk: ci)
        self.q = q + geo.qOffset(b, t0, j)
        self.k = k + geo.kOffset(b, t0, j)
        self.v = v + geo.vOffset(b, t0, j)
        self.g = g + geo.gOffset(b, t0, j)
        (ldq, ldk, ldv, ldg, ldo) = (geo.H * geo.dk, geo.Hkv * geo.dk, geo.Hkv * geo.dv, geo.Hkv * geo.M, geo.H * geo.dv)
    }

    /// s = 1 − exp(g) = −expm1(g), Γ = chunk-local inclusive cumsum of g, and (if `withExp`) exp(Γ); all [L, M].
    @inline(__always) func prepareGates(withExp: Bool) {
        let M = geo.M
        for i in 0..<L {
            let gi = g + i * ldg, si = sc.s + i * M, cum = sc.gam + i * M
            for m in 0..<M { si[m] = -gsaExpm1(gi[m]) }
            if i == 0 {
                cum.update(from: gi, count: M)
            } else {
                let prev = cum - M
                for m in 0..<M { cum[m] = prev[m] + gi[m] }
            }
        }
        if withExp { for x in 0..<(L * M) { sc.eg[x] = fastExp(sc.gam[x]) } }
    }

    /// dst: [L·G, width] ← the L rows of G·width contiguous floats at src + i·ld.
    @inline(__always) func pack(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, ld: Int, width: Int) {
        let w = geo.G * width
        for i in 0..<L { (dst + i * w).update(from: src + i * ld, count: w) }
    }

    /// dst rows i·ld += the packed [L·G, width] rows of src.
    @inline(__always) func unpackAdd(_ dst: UnsafeMutablePointer<Float>, ld: Int, _ src: UnsafePointer<Float>, width: Int) {
        let w = geo.G * width
        for i in 0..<L { gsaAxpy(dst + i * ld, 1, src + i * w, w) }
    }

    /// Y[r, :] ⊙= w[i, :] for every row r = i·G + g (w: [L, M]).
    @inline(__always) func scaleRows(_ Y: UnsafeMutablePointer<Float>, by w: UnsafePointer<Float>) {
        let (G, M) = (geo.G, geo.M)
        for i in 0..<L { for r in (i * G)..<(i * G + G) { gsaMultiply(Y + r * M, w + i * M, M) } }
    }

    /// Y[r − yFirstRow, :] = X[r, :] ⊙ w[i − wFirst, :] for the rows r = i·G + g of the tokens i in `tokens`.
    @inline(__always) func rowProduct(_ Y: UnsafeMutablePointer<Float>, yFirstRow: Int = 0, _ X: UnsafePointer<Float>,
                                      _ w: UnsafePointer<Float>, wFirst: Int = 0, tokens: Range<Int>) {
        let (G, M) = (geo.G, geo.M)
        for i in tokens {
            let wi = w + (i - wFirst) * M
            for r in (i * G)..<(i * G + G) {
                let y = Y + (r - yFirstRow) * M, x = X + r * M
                for m in 0..<M { y[m] = x[m] * wi[m] }
            }
        }
    }

    /// The decay factors of sub-chunk [n, e):
    ///   D[j] = exp(Γ_n − Γ_j), W[j] = s_j ⊙ D[j] for j < n;  R[i − n] = exp(Γ_i − Γ_n) for n ≤ i < e;
    ///   E[i − n, j − n] = exp(Γ_i − Γ_j), SE = s_j ⊙ E for n ≤ j ≤ i < e.   Every factor is ≤ 1.
    @inline(__always) func subChunkFactors(n: Int, e: Int) {
        let M = geo.M, BC = GSAChunking.subChunk
        let gn = sc.gam + n * M
        for jj in 0..<n {
            let gj = sc.gam + jj * M, d = sc.D + jj * M, w = sc.W + jj * M, s = sc.s + jj * M
            for m in 0..<M {
                let x = fastExp(gn[m] - gj[m])
                d[m] = x
                w[m] = s[m] * x
            }
        }
        for i in n..<e {
            let gi = sc.gam + i * M, r = sc.R + (i - n) * M
            for m in 0..<M { r[m] = fastExp(gi[m] - gn[m]) }
            for jj in n...i {
                let gj = sc.gam + jj * M, s = sc.s + jj * M
                let off = ((i - n) * BC + (jj - n)) * M
                let ee = sc.E + off, se = sc.SE + off
                for m in 0..<M {
                    let x = fastExp(gi[m] - gj[m])
                    ee[m] = x
                    se[m] = s[m] * x
                }
            }
        }
    }

    /// Pass-1-shaped intra-chunk sum for the rows of sub-chunk [n, e) (X: [L·G, C] coefficients, Y: [L·G, M]):
    ///   Y[i] += Σ_{j≤i} X[i, j] · s_j ⊙ exp(Γ_i − Γ_j)
    /// = R_i ⊙ (X[I, 0..<n] @ W) + Σ_{n≤j≤i} X[i, j] · SE[i, j].   (Z from A; dP from dAv.)
    @inline(__always) func intraAccumulate(_ Y: UnsafeMutablePointer<Float>, _ X: UnsafePointer<Float>, n: Int, e: Int) {
        let (G, M, C, BC) = (geo.G, geo.M, GSAChunking.chunk, GSAChunking.subChunk)
        let rowBase = n * G, rows = (e - n) * G
        if n > 0 {
            BLAS.sgemm(transA: false, transB: false, m: rows, n: M, k: n, a: X + rowBase * C, lda: C, b: sc.W, ldb: M,
                       c: sc.T1, ldc: M)
            for i in n..<e {
                for r in (i * G)..<(i * G + G) { gsaAddProduct(Y + r * M, sc.T1 + (r - rowBase) * M, sc.R + (i - n) * M, M) }
            }
        }
        for i in n..<e {
            for r in (i * G)..<(i * G + G) {
                let y = Y + r * M, x = X + r * C
                for jj in n...i { gsaAxpy(y, x[jj], sc.SE + ((i - n) * BC + (jj - n)) * M, M) }
            }
        }
    }

    /// Pass-2-shaped contraction over M for the rows of sub-chunk [n, e) (Rm: [L·G, M], Y: [L·G, C]):
    ///   Y[i, j] = Σ_m Rm[i, m] s_j[m] exp(Γ_i − Γ_j)[m] for j ≤ i   (Y[I, 0..<n] = (Rm ⊙ R) @ Wᵀ; diagonal by SE).
    /// Entries j > i are left as they are (callers zero Y first). Leaves T1[I] = Rm[I] ⊙ R for `intraReverse`.
    @inline(__always) func intraContract(_ Y: UnsafeMutablePointer<Float>, _ Rm: UnsafePointer<Float>, n: Int, e: Int) {
        let (G, M, C, BC) = (geo.G, geo.M, GSAChunking.chunk, GSAChunking.subChunk)
        let rowBase = n * G, rows = (e - n) * G
        if n > 0 {
            rowProduct(sc.T1, yFirstRow: rowBase, Rm, sc.R, wFirst: n, tokens: n..<e)
            BLAS.sgemm(transA: false, transB: true, m: rows, n: n, k: M, a: sc.T1, lda: M, b: sc.W, ldb: M,
                       c: Y + rowBase * C, ldc: C)
        }
        for i in n..<e {
            for r in (i * G)..<(i * G + G) {
                let y = Y + r * C, x = Rm + r * M
                for jj in n...i { y[jj] = vectorDot(x, sc.SE + ((i - n) * BC + (jj - n)) * M, M) }
            }
        }
    }

    /// Reverse-shaped intra-chunk sum into dS ([L, M], summed over the G heads), for the rows of sub-chunk [n, e):
    ///   dS[j] += Σ_{i≥j, i∈I} X[i, j] · Rm[i] ⊙ exp(Γ_i − Γ_j)
    /// Columns j < n go through T2 (T2[0..<n] (+)= X[I, 0..<n]ᵀ @ T1[I], with T1 = Rm ⊙ R from `intraContract`;
    /// the caller adds D ⊙ T2 once per sub-chunk); the diagonal block goes straight into dS by E.
    @inline(__always) func intraReverse(_ X: UnsafePointer<Float>, _ Rm: UnsafePointer<Float>, n: Int, e: Int,
                                        accumulate: Bool) {
        let (G, M, C, BC) = (geo.G, geo.M, GSAChunking.chunk, GSAChunking.subChunk)
        let rowBase = n * G, rows = (e - n) * G
        if n > 0 {
            BLAS.sgemm(transA: true, transB: false, m: n, n: M, k: rows, a: X + rowBase * C, lda: C, b: sc.T1, ldb: M,
                       beta: accumulate ? 1 : 0, c: sc.T2, ldc: M)
        }
        for i in n..<e {
            for r in (i * G)..<(i * G + G) {
                let x = X + r * C, rm = Rm + r * M
                for jj in n...i {
                    gsaAxpyProduct(sc.dS + jj * M, x[jj], rm, sc.E + ((i - n) * BC + (jj - n)) * M, M)
                }
            }
        }
    }

    /// W_L[j] = s_j ⊙ exp(Γ_{L−1} − Γ_j) into W, D[j] = exp(Γ_{L−1} − Γ_j) into D (if `withDecay`),
    /// and exp(Γ_{L−1}) into R row 0: the chunk's contribution to the next boundary state.
    @inline(__always) func stateWeights(withDecay: Bool) {
        let M = geo.M
        let gl = sc.gam + (L - 1) * M
        for jj in 0..<L {
            let gj = sc.gam + jj * M, w = sc.W + jj * M, d = sc.D + jj * M, s = sc.s + jj * M
            for m in 0..<M {
                let x = fastExp(gl[m] - gj[m])
                if withDecay { d[m] = x }
                w[m] = s[m] * x
            }
        }
        for m in 0..<M { sc.R[m] = fastExp(gl[m]) }
    }
}

/// y[i] += alpha · x[i] · w[i], i < n.
@inline(__always) func gsaAxpyProduct(_ y: UnsafeMutablePointer<Float>, _ alpha: Float, _ x: UnsafePointer<Float>,
                                      _ w: UnsafePointer<Float>, _ n: Int) {
    let ry = UnsafeMutableRawPointer(y), rx = UnsafeRawPointer(x), rw = UnsafeRawPointer(w)
    let va = Float16x(repeating: alpha)
    var i = 0
    while i + 16 <= n {
        let yv = ry.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        let xv = rx.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        let wv = rw.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self)
        ry.storeBytes(of: yv.addingProduct(va * xv, wv), toByteOffset: i * 4, as: Float16x.self)
        i += 16
    }
    while i < n { y[i] = y[i].addingProduct(alpha * x[i], w[i]); i += 1 }
}

// MARK: - Forward steps

extension GSAChunk {
    /// Boundary-state step (fla `chunk_fwd_h`): from the state before this chunk (hk, hv) to the state after it
    /// (hkNext, hvNext):  Hk' = Hk ⊙ exp(Γ_L)[None, :] + Kᵀ @ W_L,  Hv' = exp(Γ_L)[:, None] ⊙ Hv + W_Lᵀ @ V.
    func advanceState(hk: UnsafePointer<Float>, hv: UnsafePointer<Float>,
                      hkNext: UnsafeMutablePointer<Float>, hvNext: UnsafeMutablePointer<Float>) {
        let (dk, dv, M) = (geo.dk, geo.dv, geo.M)
        prepareGates(withExp: false)
        stateWeights(withDecay: false)
        let eL = UnsafePointer(sc.R)
        for x in 0..<dk {
            let src = hk + x * M, dst = hkNext + x * M
            for m in 0..<M { dst[m] = src[m] * eL[m] }
        }
        for m in 0..<M {
            let src = hv + m * dv, dst = hvNext + m * dv, a = eL[m]
            for y in 0..<dv { dst[y] = src[y] * a }
        }
        BLAS.sgemm(transA: true, transB: false, m: dk, n: M, k: L, a: k, lda: ldk, b: sc.W, ldb: M, beta: 1,
                   c: hkNext, ldc: M)
        BLAS.sgemm(transA: true, transB: false, m: M, n: dv, k: L, a: sc.W, lda: M, b: v, ldb: ldv, beta: 1,
                   c: hvNext, ldc: dv)
    }

    /// The inter-chunk part of pass 1 for the whole chunk, given the state hk before it: A = c·Q·Kᵀ (sc.A,
    /// [L·G, L]) and Z = (c·Q·Hk) ⊙ exp(Γ) (sc.Z); the intra-chunk part is added per sub-chunk by the caller
    /// (`intraAccumulate(sc.Z, sc.A, …)`). Needs prepareGates(withExp: true) and sc.qp packed.
    func slotLogitsInter(hk: UnsafePointer<Float>) {
        let (G, dk, M, C) = (geo.G, geo.dk, geo.M, GSAChunking.chunk)
        let LG = L * G
        BLAS.sgemm(transA: false, transB: true, m: LG, n: L, k: dk, alpha: geo.scale, a: sc.qp, lda: dk, b: k, ldb: ldk,
                   c: sc.A, ldc: C)
        BLAS.sgemm(transA: false, transB: false, m: LG, n: M, k: dk, alpha: geo.scale, a: sc.qp, lda: dk, b: hk, ldb: M,
                   c: sc.Z, ldc: M)
        scaleRows(sc.Z, by: sc.eg)
    }

    /// P = softmax(Z) for the rows of tokens `tokens`.
    @inline(__always) func softmaxRows(_ P: UnsafeMutablePointer<Float>, _ Z: UnsafePointer<Float>, tokens: Range<Int>) {
        let (G, M) = (geo.G, geo.M)
        for r in (tokens.lowerBound * G)..<(tokens.upperBound * G) {
            (P + r * M).update(from: Z + r * M, count: M)
            gsaSoftmax(P + r * M, M)
        }
    }

    /// The forward of one chunk given its boundary states: O = (P ⊙ exp(Γ)) @ Hv + Av @ V, written to the
    /// chunk's rows of o (the full [B, T, H, dv] tensor).
    func output(o: UnsafeMutablePointer<Float>, hk: UnsafePointer<Float>, hv: UnsafePointer<Float>) {
        let (G, dk, dv, M, C, BC) = (geo.G, geo.dk, geo.dv, geo.M, GSAChunking.chunk, GSAChunking.subChunk)
        let LG = L * G
        prepareGates(withExp: true)
        pack(sc.qp, q, ld: ldq, width: dk)
        slotLogitsInter(hk: hk)
        sc.Av.update(repeating: 0, count: LG * C)
        for n in stride(from: 0, to: L, by: BC) {
            let e = min(n + BC, L)
            subChunkFactors(n: n, e: e)
            // Z[i] += Σ_{j≤i} A[i, j] s_j ⊙ exp(Γ_i − Γ_j);  P = softmax(Z): rows of [n, e) are now final.
            intraAccumulate(sc.Z, sc.A, n: n, e: e)
            softmaxRows(sc.P, sc.Z, tokens: n..<e)
            // Av[i, j] = Σ_m P_i[m] s_j[m] exp(Γ_i − Γ_j)[m], j ≤ i (zero above the diagonal).
            intraContract(sc.Av, sc.P, n: n, e: e)
        }
        // O = (P ⊙ exp(Γ)) @ Hv + Av @ V
        rowProduct(sc.Z, sc.P, sc.eg, tokens: 0..<L)
        BLAS.sgemm(transA: false, transB: false, m: LG, n: dv, k: M, a: sc.Z, lda: M, b: hv, ldb: dv, c: sc.op, ldc: dv)
        BLAS.sgemm(transA: false, transB: false, m: LG, n: dv, k: L, a: sc.Av, lda: C, b: v, ldb: ldv, beta: 1,
                   c: sc.op, ldc: dv)
        let w = G * dv, oc = o + geo.oOffset(b, t0, j)
        for i in 0..<L { (oc + i * ldo).update(from: sc.op + i * w, count: w) }
    }
}

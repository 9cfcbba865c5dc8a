// Softmax self-attention of the teacher: grouped-query (query head h reads kv head h / G, as
// transformers' repeat_kv), causal, with an optional sliding window in which a query sees itself and
// the W−1 keys before it (transformers ≥ 4.53 / flash-attn window_size=(W−1, 0)). Scores are scaled
// by `scale` (dh^-0.5) and normalised in Float32.
//
// Queries are taken at absolute positions p0..<p0+T and attend to keys 0..<p0+T, so the same kernel
// serves whole-sequence prefill (p0 = 0) and decoding against a KV cache. Per (batch, kv head, block
// of 64 queries) the G query heads are stacked into one [G·64, dh] matrix so both products are single
// sgemm calls: S = Q·Kᵀ over the block's key range, masked row softmax, O = P·V.
import Glibc
import TensorCore

/// Strided views of the attention operands. Row r of batch b of an operand X starts at
/// X + b·batchStride + r·rowStride; head h (or kv head j) is at + h·dh within the row.
public struct AttentionOperands {
    public var out: UnsafeMutablePointer<Float>
    public var outRowStride: Int
    public var q: UnsafePointer<Float>
    public var qRowStride: Int
    public var keys: UnsafePointer<Float>
    public var values: UnsafePointer<Float>
    public var kvRowStride: Int
    public var kvBatchStride: Int
    public init(out: UnsafeMutablePointer<Float>, outRowStride: Int, q: UnsafePointer<Float>, qRowStride: Int,
                keys: UnsafePointer<Float>, values: UnsafePointer<Float>, kvRowStride: Int, kvBatchStride: Int) {
        self.out = out
        self.outRowStride = outRowStride
        self.q = q
        self.qRowStride = qRowStride
        self.keys = keys
        self.values = values
        self.kvRowStride = kvRowStride
        self.kvBatchStride = kvBatchStride
    }
}

/// Sizes of one attention call.
public struct AttentionGeometry: Sendable {
    public var batch: Int  // B
    public var queryLength: Int  // T (queries per sequence; query/out rows are b·T + t)
    public var heads: Int  // H
    public var kvHeads: Int  // Hkv
    public var headDim: Int  // dh
    public var queryOffset: Int  // p0: absolute position of query 0; keys 0..<p0+T are valid
    public var window: Int?  // W: a query sees at most W keys, itself included
    public var scale: Float

    public init(batch: Int, queryLength: Int, heads: Int, kvHeads: Int, headDim: Int, queryOffset: Int = 0,
                window: Int? = nil, scale: Float? = nil) {
        precondition(heads % kvHeads == 0, "attention: \(heads) heads not divisible by \(kvHeads) kv heads")
        self.batch = batch
        self.queryLength = queryLength
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.queryOffset = queryOffset
        self.window = window
        self.scale = scale ?? 1 / Float(headDim).squareRoot()
    }
}

/// Block size (queries per work item).
private let queryBlock = 64

/// Computes out[b, t, h, :] = Σ_u softmax_u(scale · q[b,t,h]·k[b,u,h/G] + mask) · v[b,u,h/G].
public func causalAttentionForward(_ x: AttentionOperands, _ g: AttentionGeometry, scratch: ScratchPool) {
    let G = g.heads / g.kvHeads, dh = g.headDim, T = g.queryLength
    let blocks = (T + queryBlock - 1) / queryBlock
    let maxKeys = g.window.map { min($0 + queryBlock - 1, g.queryOffset + T) } ?? (g.queryOffset + T)
    let scratchCount = G * queryBlock * (2 * dh + maxKeys)
    parallelForCallingBLAS(g.batch * g.kvHeads * blocks) { item in
        let b = item / (g.kvHeads * blocks)
        let j = (item / blocks) % g.kvHeads
        let blk = item % blocks
        let r0 = blk * queryBlock, r1 = min(T, r0 + queryBlock), tb = r1 - r0
        let rows = G * tb
        // Key range of the block (absolute positions).
        let kEnd = g.queryOffset + r1
        let kStart = g.window.map { max(0, g.queryOffset + r0 - $0 + 1) } ?? 0
        let nk = kEnd - kStart
        scratch.with(count: scratchCount) { buf in
            let qs = buf, os = buf + rows * dh, s = buf + 2 * rows * dh
            // Gather the G query heads of kv head j: row (gi·tb + t) = q[b, r0 + t, j·G + gi, :].
            for gi in 0..<G {
                for t in 0..<tb {
                    let src = x.q + (b * T + r0 + t) * x.qRowStride + (j * G + gi) * dh
                    (qs + (gi * tb + t) * dh).update(from: src, count: dh)
                }
            }
            let kp = x.keys + b * x.kvBatchStride + kStart * x.kvRowStride + j * dh
            let vp = x.values + b * x.kvBatchStride + kStart * x.kvRowStride + j * dh
            // S[rows, nk] = scale · Qs · K[kStart..<kEnd]ᵀ
            BLAS.sgemm(transA: false, transB: true, m: rows, n: nk, k: dh, alpha: g.scale, a: qs, lda: dh,
                       b: kp, ldb: x.kvRowStride, beta: 0, c: s, ldc: nk)
            maskedSoftmaxBlock(s, heads: G, queries: tb, keys: nk, firstQuery: g.queryOffset + r0, firstKey: kStart, window: g.window)
            // Os[rows, dh] = P · V[kStart..<kEnd]
            BLAS.sgemm(transA: false, transB: false, m: rows, n: dh, k: nk, alpha: 1, a: s, lda: nk,
                       b: vp, ldb: x.kvRowStride, beta: 0, c: os, ldc: dh)
            for gi in 0..<G {
                for t in 0..<tb {
                    let dst = x.out + (b * T + r0 + t) * x.outRowStride + (j * G + gi) * dh
                    dst.update(from: os + (gi * tb + t) * dh, count: dh)
                }
            }
        }
    }
}

/// Causal (optionally windowed) softmax of a block of score rows in place: row (h·queries + t) holds
/// the scores of the query at absolute position firstQuery + t against keys firstKey ..< firstKey + keys;
/// it sees keys max(firstKey, tq − W + 1) … tq, and every other entry becomes 0.
func maskedSoftmaxBlock(_ s: UnsafeMutablePointer<Float>, heads: Int, queries: Int, keys nk: Int, firstQuery: Int, firstKey: Int,
                        window: Int?) {
    for h in 0..<heads {
        for t in 0..<queries {
            let tq = firstQuery + t
            let lo = (window.map { max(firstKey, tq - $0 + 1) } ?? firstKey) - firstKey
            let hi = tq - firstKey  // inclusive
            let row = s + (h * queries + t) * nk
            softmaxInPlace(row + lo, hi - lo + 1)
            if lo > 0 { row.update(repeating: 0, count: lo) }
            if hi + 1 < nk { (row + hi + 1).update(repeating: 0, count: nk - hi - 1) }
        }
    }
}

/// In-place softmax of n floats (max-subtracted, Float32 sums with SIMD accumulators).
@inline(__always) public func softmaxInPlace(_ x: UnsafeMutablePointer<Float>, _ n: Int) {
    let m = vectorMax(x, n)
    let raw = UnsafeMutableRawPointer(x)
    var acc = Float16x()
    var i = 0
    while i + 16 <= n {
        let e = fastExp(raw.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self) - m)
        raw.storeBytes(of: e, toByteOffset: i * 4, as: Float16x.self)
        acc += e
        i += 16
    }
    var sum = acc.sum()
    while i < n { x[i] = fastExp(x[i] - m); sum += x[i]; i += 1 }
    let inv = 1 / sum
    i = 0
    while i + 16 <= n {
        raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: i * 4, as: Float16x.self) * inv, toByteOffset: i * 4, as: Float16x.self)
        i += 16
    }
    while i < n { x[i] *= inv; i += 1 }
}

/// The obvious attention in Double, for tests: q [B,T,H,dh], k/v [B,Tk,Hkv,dh] (Tk = p0+T) contiguous.
public func causalAttentionNaive(q: [Double], k: [Double], v: [Double], _ g: AttentionGeometry) -> [Double] {
    let G = g.heads / g.kvHeads, dh = g.headDim, T = g.queryLength, tk = g.queryOffset + T
    var out = [Double](repeating: 0, count: g.batch * T * g.heads * dh)
    for b in 0..<g.batch {
        for t in 0..<T {
            let tq = g.queryOffset + t
            for h in 0..<g.heads {
                let j = h / G
                let lo = g.window.map { max(0, tq - $0 + 1) } ?? 0
                var scores = [Double]()
                for u in lo...tq {
                    var s = 0.0
                    for d in 0..<dh { s += q[((b * T + t) * g.heads + h) * dh + d] * k[((b * tk + u) * g.kvHeads + j) * dh + d] }
                    scores.append(s * Double(g.scale))
                }
                let m = scores.max()!
                let e = scores.map { Glibc.exp($0 - m) }
                let z = e.reduce(0, +)
                for (i, u) in (lo...tq).enumerated() {
                    for d in 0..<dh { out[((b * T + t) * g.heads + h) * dh + d] += e[i] / z * v[((b * tk + u) * g.kvHeads + j) * dh + d] }
                }
            }
        }
    }
    return out
}

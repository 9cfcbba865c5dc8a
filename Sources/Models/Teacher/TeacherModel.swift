// The teacher forward pass, as transformers' MistralForCausalLM / LlamaForCausalLM compute it
// (formats.md §4): embedding, per layer RMSNorm → q/k/v → rotate-half RoPE → GQA causal softmax
// attention (optional sliding window) → o_proj residual → RMSNorm → SwiGLU MLP residual, final RMSNorm,
// LM head (tied or not). Float32 throughout, BLAS for every projection, both cores for attention and
// elementwise work. No backward: the teacher is frozen.
import Ops
import Synchronization
import TensorCore

/// Which per-layer activations a forward pass keeps for the caller (stage-1 distillation targets).
public struct TeacherCapture: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// The residual stream entering each layer: [B·T, D].
    public static let layerInputs = TeacherCapture(rawValue: 1)
    /// The attention input after input_layernorm: [B·T, D].
    public static let attentionInputs = TeacherCapture(rawValue: 2)
    /// The attention output before o_proj: [B·T, H·dh].
    public static let attentionOutputs = TeacherCapture(rawValue: 4)
    /// The attention output after o_proj (what is added to the residual): [B·T, D].
    public static let attentionProjections = TeacherCapture(rawValue: 8)
}

/// Activations captured during a forward pass, one tensor per layer for each requested kind.
public struct TeacherActivations: @unchecked Sendable {
    public var layerInputs: [Tensor] = []
    public var attentionInputs: [Tensor] = []
    public var attentionOutputs: [Tensor] = []
    public var attentionProjections: [Tensor] = []
    public init() {}
}

public final class TeacherModel: @unchecked Sendable {
    public let config: TransformerConfig
    public let weights: TeacherWeights
    let rope: RoPETable
    let scratch = ScratchPool()
    /// Buffers of the last forward shape, reused by the next forward of the same N (a model runs one
    /// forward at a time): fresh buffers cost a page fault per 4 KiB on every call.
    private var workspace: (n: Int, h: Tensor, qkv: Tensor, attn: Tensor, gateUp: Tensor, act: Tensor)?
    /// Serialises forwards, which share `workspace`: a model may be called from several threads.
    private let forwardLock = Mutex<Void>(())

    public init(config: TransformerConfig, weights: TeacherWeights) {
        precondition(weights.layers.count == config.numLayers, "TeacherModel: \(weights.layers.count) layers for config \(config.numLayers)")
        self.config = config
        self.weights = weights
        rope = RoPETable(headDim: config.headDim, theta: config.ropeTheta, scaling: config.ropeScaling.map {
            RoPEScaling(factor: $0.factor, lowFreqFactor: $0.lowFreqFactor, highFreqFactor: $0.highFreqFactor,
                        originalMaxPositionEmbeddings: $0.originalMaxPositionEmbeddings)
        })
    }

    /// Runs the decoder over `tokens` ([B, T] flattened, row-major) and returns the final-normed hidden
    /// states [B·T, D]. With a `cache`, the tokens continue the cached sequences at positions
    /// cache.length ..< cache.length + T and their keys/values are appended.
    public func forward(tokens: [Int], batch: Int, cache: TeacherKVCache? = nil, capture: TeacherCapture = [],
                        activations: UnsafeMutablePointer<TeacherActivations>? = nil) -> Tensor {
        forwardLock.withLock { _ in forwardLocked(tokens: tokens, batch: batch, cache: cache, capture: capture, activations: activations) }
    }

    private func forwardLocked(tokens: [Int], batch: Int, cache: TeacherKVCache?, capture: TeacherCapture,
                               activations: UnsafeMutablePointer<TeacherActivations>?) -> Tensor {
        let c = config
        precondition(batch > 0 && tokens.count % batch == 0, "forward: \(tokens.count) tokens for batch \(batch)")
        let T = tokens.count / batch, n = tokens.count
        let d = c.hiddenSize, dh = c.headDim, hq = c.numHeads * dh, hkv = c.numKVHeads * dh
        let qkvWidth = hq + 2 * hkv
        let p0 = cache?.length ?? 0
        if let cache {
            precondition(cache.batch == batch, "forward: cache batch \(cache.batch) != \(batch)")
            precondition(p0 + T <= cache.capacity, "forward: cache capacity \(cache.capacity) exceeded (\(p0) + \(T))")
        }
        rope.reserve(p0 + T)

        let x = Tensor(uninitialized: [n, d])
        if workspace?.n != n {
            workspace = (n, Tensor(uninitialized: [n, d]), Tensor(uninitialized: [n, qkvWidth]), Tensor(uninitialized: [n, hq]),
                         Tensor(uninitialized: [n, 2 * c.intermediateSize]), Tensor(uninitialized: [n, c.intermediateSize]))
        }
        let (_, h, qkv, attn, gateUp, act) = workspace!
        embeddingForward(x, ids: tokens, table: weights.embedTokens)
        let eps = Float(c.rmsNormEps)

        for (l, w) in weights.layers.enumerated() {
            if capture.contains(.layerInputs) { keep(x, in: &activations!.pointee.layerInputs, layer: l) }
            // Attention block.
            rmsNormForward(h, x, weight: w.inputNorm, eps: eps)
            if capture.contains(.attentionInputs) { keep(h, in: &activations!.pointee.attentionInputs, layer: l) }
            linearForward(qkv, h, w.qkv)
            // RoPE on q and k (both live in each qkv row), positions p0 + t.
            rope.apply(qkv.pointer, rows: n, rowStride: qkvWidth, heads: c.numHeads + c.numKVHeads) { r in p0 + r % T }
            let keys: UnsafePointer<Float>, values: UnsafePointer<Float>
            let kvRowStride: Int, kvBatchStride: Int
            if let cache {
                let kc = cache.keys[l], vc = cache.values[l]
                for b in 0..<batch {
                    for t in 0..<T {
                        let row = qkv.pointer + (b * T + t) * qkvWidth
                        (kc.pointer + (b * cache.capacity + p0 + t) * hkv).update(from: row + hq, count: hkv)
                        (vc.pointer + (b * cache.capacity + p0 + t) * hkv).update(from: row + hq + hkv, count: hkv)
                    }
                }
                keys = UnsafePointer(kc.pointer)
                values = UnsafePointer(vc.pointer)
                kvRowStride = hkv
                kvBatchStride = cache.capacity * hkv
            } else {
                keys = UnsafePointer(qkv.pointer + hq)
                values = UnsafePointer(qkv.pointer + hq + hkv)
                kvRowStride = qkvWidth
                kvBatchStride = T * qkvWidth
            }
            causalAttentionForward(
                AttentionOperands(out: attn.pointer, outRowStride: hq, q: qkv.pointer, qRowStride: qkvWidth,
                                  keys: keys, values: values, kvRowStride: kvRowStride, kvBatchStride: kvBatchStride),
                AttentionGeometry(batch: batch, queryLength: T, heads: c.numHeads, kvHeads: c.numKVHeads, headDim: dh,
                                  queryOffset: p0, window: c.slidingWindow),
                scratch: scratch)
            if capture.contains(.attentionOutputs) { keep(attn, in: &activations!.pointee.attentionOutputs, layer: l) }
            if capture.contains(.attentionProjections) {
                let proj = slot(in: &activations!.pointee.attentionProjections, layer: l, shape: [n, d])
                linearForward(proj, attn, w.o)
                addInPlace(x, proj)
            } else {
                linearForward(x, attn, w.o, accumulate: true)
            }
            // MLP block.
            rmsNormForward(h, x, weight: w.postAttentionNorm, eps: eps)
            linearForward(gateUp, h, w.gateUp)
            swigluForward(act, gateUp: gateUp)
            linearForward(x, act, w.down, accumulate: true)
        }
        cache?.length = p0 + T
        rmsNormForward(x, x, weight: weights.finalNorm, eps: eps)
        return x
    }

    /// logits: [N, Vocab] = hidden: [N, D] · lm_headᵀ.
    public func logits(_ hidden: Tensor) -> Tensor {
        let out = Tensor(uninitialized: [hidden.rowCount, config.vocabSize])
        linearForward(out, hidden, weights.lmHead)
        return out
    }

    /// −log p(targets[r] | …) for each row r of `hidden` [N, D], computing logits in blocks of rows so
    /// memory stays bounded for large vocabularies.
    public func negativeLogLikelihood(hidden: Tensor, targets: [Int], rowsPerBlock: Int = 256) -> [Double] {
        precondition(targets.count == hidden.rowCount, "negativeLogLikelihood: \(targets.count) targets for \(hidden.rowCount) rows")
        var out: [Double] = []
        out.reserveCapacity(targets.count)
        var r = 0
        while r < targets.count {
            let e = min(targets.count, r + rowsPerBlock)
            let lg = logits(hidden.rows(r..<e))
            out += Ops.negativeLogLikelihood(logits: lg, targets: Array(targets[r..<e]))
            r = e
        }
        return out
    }
}

/// Stores a copy of `t` as the capture of layer `l`: into the tensor already there when a previous
/// forward of the same shape left one (no allocation), else a new copy.
func keep(_ t: Tensor, in list: inout [Tensor], layer l: Int) {
    slot(in: &list, layer: l, shape: t.shape).assign(t)
}

/// The capture tensor of layer `l` with `shape`, reusing the one a previous forward left there.
func slot(in list: inout [Tensor], layer l: Int, shape: [Int]) -> Tensor {
    if list.count > l && list[l].shape == shape { return list[l] }
    if list.count > l { list.removeSubrange(l...) }
    precondition(list.count == l, "capture lists are filled layer by layer")
    list.append(Tensor(uninitialized: shape))
    return list[l]
}

/// x += y elementwise.
func addInPlace(_ x: Tensor, _ y: Tensor) {
    precondition(x.count == y.count)
    let xp = x.pointer, yp = y.pointer
    for i in 0..<x.count { xp[i] += yp[i] }
}

// Counted floating-point work of the measured passes, so `t2r bench` reports achieved GFLOP/s against the
// sgemm rate. A multiply-add counts 2 FLOPs; only matrix products are counted (norms, activations,
// softmax, RoPE, losses and the optimizer are elementwise and left out, so a figure is a lower bound on
// the work done). BENCHMARKS.md repeats these formulas. For N = B·T tokens:
//
//   linear layers      2·N·P, P = the weights of the projections the pass multiplies by
//                      (teacher layer: q, k, v, o, gate, up, down; GSA layer: q, k, v, f, o, gate, up, down)
//   causal attention   per layer 2·2·H·dh·Σ_t keys(t): QKᵀ and PV over the keys each query sees
//                      (keys(t) = t+1, capped by a sliding window; only the causal half is counted)
//   LM head            2·R·D·V for the R rows whose logits are computed
//   GSA core (chunked) per token and kv head, chunk C = 64, G = H/Hkv query heads per kv head:
//                        pass 1: G·(2·dk·M inter + C·dk QKᵀ + C·M intra)     (causal half of the C×C terms)
//                        pass 2: G·(2·M·dv inter + C·M PSᵀ + C·dv intra)
//                        state : 2·dk·M + 2·M·dv                              (Hk, Hv updates, per kv head)
//   backward           input gradients: the forward's linear-layer FLOPs again (dX = dY·W) for every
//                      layer the gradient passes through; weight gradients 2·N·P only for the trainable
//                      tensors; the GSA core backward counts 2× its forward; the LM head 2·R·D·V for
//                      dHidden (and again for dW only when the head is trainable)
//   distillation step  stage 1: teacher forward (no head) + per GSA layer mixer forward/backward
//                      (no input gradient into the layer: stage 1 trains each mixer on its own);
//                      stage 2: teacher forward with all logits + student forward + backward.
import Models
import Ops

enum FLOPCount {
    // MARK: Teacher

    /// Weights of one teacher layer's projections.
    static func teacherLayerWeights(_ c: TransformerConfig) -> Double {
        let d = Double(c.hiddenSize), hq = Double(c.numHeads * c.headDim), hkv = Double(c.numKVHeads * c.headDim)
        return d * (hq + 2 * hkv) + hq * d + 3 * d * Double(c.intermediateSize)
    }

    /// Σ over T queries starting at position p0 of the keys each sees (causal, optional window).
    static func visibleKeys(length: Int, offset p0: Int = 0, window: Int?) -> Double {
        var s = 0.0
        for t in 0..<length {
            let keys = p0 + t + 1
            s += Double(window.map { min($0, keys) } ?? keys)
        }
        return s
    }

    /// Causal softmax attention of one layer: QKᵀ and PV.
    static func attention(heads: Int, headDim: Int, batch: Int, length: Int, offset: Int = 0, window: Int?) -> Double {
        4 * Double(heads * headDim) * Double(batch) * visibleKeys(length: length, offset: offset, window: window)
    }

    /// Teacher forward over B sequences of T tokens (continuing `offset` cached positions), with the LM head
    /// applied to `logitRows` rows.
    static func teacherForward(_ c: TransformerConfig, batch: Int, length: Int, offset: Int = 0, logitRows: Int) -> Double {
        let n = Double(batch * length)
        let perLayer = 2 * n * teacherLayerWeights(c)
            + attention(heads: c.numHeads, headDim: c.headDim, batch: batch, length: length, offset: offset, window: c.slidingWindow)
        return Double(c.numLayers) * perLayer + head(rows: logitRows, hidden: c.hiddenSize, vocab: c.vocabSize)
    }

    static func head(rows: Int, hidden: Int, vocab: Int) -> Double { 2 * Double(rows) * Double(hidden) * Double(vocab) }

    // MARK: Student

    /// Weights of a GSA layer's mixer projections (q, k, v, f, o).
    static func gsaMixerWeights(_ c: GSAConfig) -> Double {
        let d = Double(c.hiddenSize), hkv = Double(c.numKVHeads)
        return d * (Double(c.keyDim) + hkv * Double(c.headKDim) + hkv * Double(c.headVDim) + hkv * Double(c.numSlots))
            + Double(c.valueDim) * d
    }

    /// Weights of a softmax (hybrid) layer's mixer projections (q, k, v, o).
    static func softmaxMixerWeights(_ c: GSAConfig) -> Double {
        guard let h = c.hybrid else { return 0 }
        let d = Double(c.hiddenSize), dh = Double(c.softmaxHeadDim)
        return d * dh * Double(2 * h.numHeads + 2 * h.numKVHeads)
    }

    static func mlpWeights(hidden: Int, intermediate: Int) -> Double { 3 * Double(hidden) * Double(intermediate) }

    /// The chunked GSA core forward for one layer (formula in the file header).
    static func gsaCore(_ s: GSAShapes) -> Double {
        let G = Double(s.groupSize)
        let dk = Double(s.keyDim), dv = Double(s.valueDim), M = Double(s.slots)
        // Intra-chunk terms count the causal half: a token sees (L+1)/2 tokens of its chunk on average.
        var seen = 0.0
        for ci in 0..<s.chunkCount(GSAChunking.chunk) {
            let L = Double(min(GSAChunking.chunk, s.length - ci * GSAChunking.chunk))
            seen += L * (L + 1) / 2
        }
        let tokens = Double(s.length)
        let perKVHead = G * (2 * dk * M + 2 * M * dv) * tokens          // inter-chunk reads of the states
            + G * 2 * (dk + M + M + dv) * seen                             // intra-chunk QKᵀ, A·S, P·Sᵀ, Av·V
            + (2 * dk * M + 2 * M * dv) * tokens                           // state updates Kᵀ·W, Wᵀ·V
        return Double(s.batch * s.kvHeads) * perKVHead
    }

    /// Student forward over B sequences of T tokens (GSA layers in the chunked form), head on `logitRows` rows.
    static func studentForward(_ c: GSAConfig, batch: Int, length: Int, logitRows: Int) -> Double {
        var total = head(rows: logitRows, hidden: c.hiddenSize, vocab: c.vocabSize)
        for l in 0..<c.numLayers { total += studentLayerForward(c, layer: l, batch: batch, length: length) }
        return total
    }

    static func studentLayerForward(_ c: GSAConfig, layer l: Int, batch: Int, length: Int) -> Double {
        let n = Double(batch * length)
        let mlp = 2 * n * mlpWeights(hidden: c.hiddenSize, intermediate: c.intermediateSize)
        if c.isSoftmaxLayer(l), let h = c.hybrid {
            return mlp + 2 * n * softmaxMixerWeights(c)
                + attention(heads: h.numHeads, headDim: c.softmaxHeadDim, batch: batch, length: length, window: h.windowSize)
        }
        return mlp + 2 * n * gsaMixerWeights(c) + gsaCore(shapes(c, batch: batch, length: length))
    }

    static func shapes(_ c: GSAConfig, batch: Int, length: Int) -> GSAShapes {
        GSAShapes(batch: batch, length: length, heads: c.numHeads, kvHeads: c.numKVHeads, keyDim: c.headKDim,
                  valueDim: c.headVDim, slots: c.numSlots)
    }

    /// Weights of layer `l`'s trainable projections (weight gradients are computed only for these).
    static func trainableWeights(_ c: GSAConfig, layer l: Int, trainable: (StudentTensor) -> Bool) -> Double {
        StudentTensor.all(for: c).filter { $0.layer == l && $0.expectedShape(c).count == 2 && trainable($0) }
            .reduce(0) { $0 + Double($1.expectedShape(c).reduce(1, *)) }
    }

    // MARK: Training steps

    /// Stage 2 (end-to-end) step on B×T tokens.
    static func stage2Step(teacher t: TransformerConfig, student c: GSAConfig, batch: Int, length: Int,
                           trainable: (StudentTensor) -> Bool) -> Double {
        let n = batch * length
        var total = teacherForward(t, batch: batch, length: length, logitRows: n)
        total += studentForward(c, batch: batch, length: length, logitRows: n)
        // Backward: head input gradient (+ weight gradient when trainable), then every layer.
        let headTrainable = c.tieWordEmbeddings ? trainable(.embeddings) : trainable(.lmHead)
        total += head(rows: n, hidden: c.hiddenSize, vocab: c.vocabSize) * (headTrainable ? 2 : 1)
        for l in 0..<c.numLayers {
            let fwd = studentLayerForward(c, layer: l, batch: batch, length: length)
            let core = c.isSoftmaxLayer(l)
                ? attention(heads: c.hybrid!.numHeads, headDim: c.softmaxHeadDim, batch: batch, length: length, window: c.hybrid!.windowSize)
                : gsaCore(shapes(c, batch: batch, length: length))
            // Input gradients of the linear layers = their forward FLOPs; the core's backward = 2× forward.
            total += (fwd - core) + 2 * core + 2 * Double(n) * trainableWeights(c, layer: l, trainable: trainable)
        }
        return total
    }

    /// Stage 1 (attention transfer) step on B×T tokens: teacher forward without head; each GSA mixer
    /// forward and backward on its own.
    static func stage1Step(teacher t: TransformerConfig, student c: GSAConfig, batch: Int, length: Int,
                           trainable: (StudentTensor) -> Bool) -> Double {
        let n = Double(batch * length)
        var total = teacherForward(t, batch: batch, length: length, logitRows: 0)
        let core = gsaCore(shapes(c, batch: batch, length: length))
        let oProj = Double(c.valueDim * c.hiddenSize)
        for l in 0..<c.numLayers where !c.isSoftmaxLayer(l) {
            total += 2 * n * gsaMixerWeights(c) + core  // forward
            total += 2 * n * oProj + 2 * core  // dz = dy·W_o; core backward (no dh into the layer input)
            total += 2 * n * trainableWeights(c, layer: l, trainable: trainable)
        }
        return total
    }

    // MARK: Decode

    /// One teacher decode step at `context` cached positions (head on the new token).
    static func teacherDecodeStep(_ c: TransformerConfig, context: Int) -> Double {
        teacherForward(c, batch: 1, length: 1, offset: context, logitRows: 1)
    }

    /// One student decode step in the recurrent form: per GSA layer and query head q·Hk (2·dk·M) and
    /// P·Hv (2·M·dv), per kv head the state updates (2·dk·M + 2·M·dv); head on the new token.
    static func studentDecodeStep(_ c: GSAConfig, context: Int) -> Double {
        var total = head(rows: 1, hidden: c.hiddenSize, vocab: c.vocabSize)
        let dk = Double(c.headKDim), dv = Double(c.headVDim), M = Double(c.numSlots)
        for l in 0..<c.numLayers {
            total += 2 * mlpWeights(hidden: c.hiddenSize, intermediate: c.intermediateSize)
            if c.isSoftmaxLayer(l), let h = c.hybrid {
                total += 2 * softmaxMixerWeights(c)
                    + attention(heads: h.numHeads, headDim: c.softmaxHeadDim, batch: 1, length: 1, offset: context, window: h.windowSize)
            } else {
                total += 2 * gsaMixerWeights(c) + Double(c.numHeads) * (2 * dk * M + 2 * M * dv) + Double(c.numKVHeads) * (2 * dk * M + 2 * M * dv)
            }
        }
        return total
    }
}

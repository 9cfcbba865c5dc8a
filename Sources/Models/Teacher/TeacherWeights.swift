// The teacher's parameters in HF layout, with q/k/v and gate/up fused row-wise so each layer runs two
// large GEMMs instead of five smaller ones. Views give the unfused tensors back.
import TensorCore

/// One decoder layer.
public struct TeacherLayerWeights: @unchecked Sendable {
    public let inputNorm: Tensor  // [D]
    /// Rows: q [H·dh], then k [Hkv·dh], then v [Hkv·dh]; shape [(H + 2·Hkv)·dh, D].
    public let qkv: Tensor
    public let o: Tensor  // [D, H·dh]
    public let postAttentionNorm: Tensor  // [D]
    /// Rows: gate [I], then up [I]; shape [2I, D].
    public let gateUp: Tensor
    public let down: Tensor  // [D, I]

    public init(inputNorm: Tensor, qkv: Tensor, o: Tensor, postAttentionNorm: Tensor, gateUp: Tensor, down: Tensor) {
        self.inputNorm = inputNorm
        self.qkv = qkv
        self.o = o
        self.postAttentionNorm = postAttentionNorm
        self.gateUp = gateUp
        self.down = down
    }

    /// Allocates zeroed weights for `config`.
    public init(zerosFor c: TransformerConfig) {
        let d = c.hiddenSize
        self.init(inputNorm: Tensor(zeros: [d]), qkv: Tensor(zeros: [(c.numHeads + 2 * c.numKVHeads) * c.headDim, d]),
                  o: Tensor(zeros: [d, c.numHeads * c.headDim]), postAttentionNorm: Tensor(zeros: [d]),
                  gateUp: Tensor(zeros: [2 * c.intermediateSize, d]), down: Tensor(zeros: [d, c.intermediateSize]))
    }

    public func q(_ c: TransformerConfig) -> Tensor { qkv.rows(0..<(c.numHeads * c.headDim)) }
    public func k(_ c: TransformerConfig) -> Tensor {
        let q = c.numHeads * c.headDim
        return qkv.rows(q..<(q + c.numKVHeads * c.headDim))
    }
    public func v(_ c: TransformerConfig) -> Tensor {
        let qk = (c.numHeads + c.numKVHeads) * c.headDim
        return qkv.rows(qk..<(qk + c.numKVHeads * c.headDim))
    }
    public func gate(_ c: TransformerConfig) -> Tensor { gateUp.rows(0..<c.intermediateSize) }
    public func up(_ c: TransformerConfig) -> Tensor { gateUp.rows(c.intermediateSize..<(2 * c.intermediateSize)) }
}

/// All parameters.
public struct TeacherWeights: @unchecked Sendable {
    public let embedTokens: Tensor  // [Vocab, D]
    public let layers: [TeacherLayerWeights]
    public let finalNorm: Tensor  // [D]
    /// [Vocab, D]; the same storage as `embedTokens` when the head is tied.
    public let lmHead: Tensor

    public init(embedTokens: Tensor, layers: [TeacherLayerWeights], finalNorm: Tensor, lmHead: Tensor) {
        self.embedTokens = embedTokens
        self.layers = layers
        self.finalNorm = finalNorm
        self.lmHead = lmHead
    }
}

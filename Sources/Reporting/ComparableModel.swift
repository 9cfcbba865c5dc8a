// What the comparison needs from a model beyond per-token NLL: the final hidden states of a window (so
// the LM head can run block by block and full logits of teacher and student can be compared row by
// row), and an incremental decoder (teacher: KV cache; student: recurrent GSA state) whose speed and
// memory are measured at several context lengths. Teacher and student both conform, so either side of
// a comparison may be any model.
import Models
import TensorCore

/// A causal LM whose logits and incremental decoding (`GenerativeLanguageModel.makeDecoder`) the
/// comparison can drive.
public protocol ComparableModel: GenerativeLanguageModel {
    /// Final-normed hidden states [T, D] of one sequence `tokens` (length T) starting at position 0.
    func hiddenStates(_ tokens: [Int]) -> Tensor
    /// logits: [N, Vocab] of hidden: [N, D].
    func logits(_ hidden: Tensor) -> Tensor
    /// Bytes of the decoding state (KV cache and/or recurrent state) of one sequence after `context` tokens.
    func decodingStateBytes(context: Int) -> Int
}

extension TeacherModel: ComparableModel {
    /// The final-normed hidden states [T, D] of one sequence.
    public func hiddenStates(_ tokens: [Int]) -> Tensor { forward(tokens: tokens, batch: 1) }

    /// The KV cache of `context` positions (float32).
    public func decodingStateBytes(context: Int) -> Int { TeacherKVCache.bytes(config: config, batch: 1, length: context) }
}

extension StudentModel: ComparableModel {
    /// The final-normed hidden states [T, D] of one sequence (chunked GSA form).
    public func hiddenStates(_ tokens: [Int]) -> Tensor { forward(tokens: tokens, batch: 1) }

    /// The GSA slot states (constant) plus the key/value caches of the softmax layers a hybrid keeps.
    public func decodingStateBytes(context: Int) -> Int {
        let c = config
        let softmaxLayers = (0..<c.numLayers).filter { c.isSoftmaxLayer($0) }.count
        let kvWidth = (c.hybrid?.numKVHeads ?? 0) * c.softmaxHeadDim
        return (c.stateFloatsPerSequence + 2 * softmaxLayers * context * kvWidth) * MemoryLayout<Float>.size
    }
}

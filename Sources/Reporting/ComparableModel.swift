// What the comparison needs from a model beyond per-token NLL: the final hidden states of a window (so
// the LM head can run block by block and full logits of teacher and student can be compared row by
// row), and an incremental decoder (teacher: KV cache; student: recurrent GSA state) whose speed and
// memory are measured at several context lengths. Teacher and student both conform, so either side of
// a comparison may be any model.
import Models
import TensorCore

/// A causal LM whose logits and incremental decoding the comparison can drive.
public protocol ComparableModel: CausalLanguageModel {
    /// Final-normed hidden states [T, D] of one sequence `tokens` (length T) starting at position 0.
    func hiddenStates(_ tokens: [Int]) -> Tensor
    /// logits: [N, Vocab] of hidden: [N, D].
    func logits(_ hidden: Tensor) -> Tensor
    /// A fresh incremental decoder for one sequence of at most `capacity` tokens.
    func makeDecoder(capacity: Int) -> IncrementalDecoder
    /// Bytes of the decoding state (KV cache and/or recurrent state) of one sequence after `context` tokens.
    func decodingStateBytes(context: Int) -> Int
}

/// One sequence being decoded token by token.
public protocol IncrementalDecoder: AnyObject {
    /// Tokens consumed so far.
    var position: Int { get }
    /// Bytes the decoding state holds now.
    var stateBytes: Int { get }
    /// Consumes `tokens` (T ≥ 1, continuing the sequence) and returns their hidden states [T, D].
    func advance(_ tokens: [Int]) -> Tensor
}

extension TeacherModel: ComparableModel {
    /// The final-normed hidden states [T, D] of one sequence.
    public func hiddenStates(_ tokens: [Int]) -> Tensor { forward(tokens: tokens, batch: 1) }

    /// A decoder with a KV cache for `capacity` positions.
    public func makeDecoder(capacity: Int) -> IncrementalDecoder { TeacherDecoder(model: self, capacity: capacity) }

    /// The KV cache of `context` positions (float32).
    public func decodingStateBytes(context: Int) -> Int { TeacherKVCache.bytes(config: config, batch: 1, length: context) }
}

/// The teacher decoding with its key/value cache (grows linearly with the context).
final class TeacherDecoder: IncrementalDecoder {
    let model: TeacherModel
    let cache: TeacherKVCache

    init(model: TeacherModel, capacity: Int) {
        self.model = model
        cache = TeacherKVCache(config: model.config, batch: 1, capacity: capacity)
    }

    var position: Int { cache.length }
    var stateBytes: Int { cache.bytesUsed }
    func advance(_ tokens: [Int]) -> Tensor { model.forward(tokens: tokens, batch: 1, cache: cache) }
}

extension StudentModel: ComparableModel {
    /// The final-normed hidden states [T, D] of one sequence (chunked GSA form).
    public func hiddenStates(_ tokens: [Int]) -> Tensor { forward(tokens: tokens, batch: 1) }

    /// A decoder with a recurrent state (and caches of `capacity` positions for kept softmax layers).
    public func makeDecoder(capacity: Int) -> IncrementalDecoder { StudentDecoder(model: self, capacity: capacity) }

    /// The GSA slot states (constant) plus the key/value caches of the softmax layers a hybrid keeps.
    public func decodingStateBytes(context: Int) -> Int {
        let c = config
        let softmaxLayers = (0..<c.numLayers).filter { c.isSoftmaxLayer($0) }.count
        let kvWidth = (c.hybrid?.numKVHeads ?? 0) * c.softmaxHeadDim
        return (c.stateFloatsPerSequence + 2 * softmaxLayers * context * kvWidth) * MemoryLayout<Float>.size
    }
}

/// The student decoding in its recurrent form (GSA slot states of constant size; hybrid softmax layers
/// keep a cache).
final class StudentDecoder: IncrementalDecoder {
    let model: StudentModel
    let state: StudentState

    init(model: StudentModel, capacity: Int) {
        self.model = model
        state = StudentState(config: model.config, batch: 1, capacity: capacity)
    }

    var position: Int { state.position }
    var stateBytes: Int { state.recurrentBytes + state.cacheBytesInUse }
    func advance(_ tokens: [Int]) -> Tensor { model.forward(tokens: tokens, batch: 1, state: state) }
}

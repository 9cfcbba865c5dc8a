// One sequence being continued token by token: the teacher keeps a key/value cache (`TeacherKVCache`,
// grows with the context), the student its recurrent state (`StudentState`: constant-size GSA slot
// states, plus key/value caches for kept softmax layers of a hybrid). Both take the prompt in one
// forward pass (prefill) and then one token per call, and return the logits of the last position only.
import Ops
import TensorCore

/// A sequence that a model continues incrementally.
public protocol IncrementalDecoder: AnyObject {
    /// Tokens consumed so far.
    var position: Int { get }
    /// Tokens the decoder can hold in total (the prompt and every fed token).
    var capacity: Int { get }
    /// Bytes of per-sequence state held now: the KV cache in use (teacher), the recurrent state plus any
    /// softmax-layer cache in use (student).
    var stateBytes: Int { get }
    /// Consumes `tokens` (≥ 1; position + count ≤ capacity) continuing the sequence in one forward pass and
    /// returns their final-normed hidden states [T, D].
    func advance(_ tokens: [Int]) -> Tensor
    /// logits: [N, V] of hidden states [N, D].
    func logits(_ hidden: Tensor) -> Tensor
}

extension IncrementalDecoder {
    /// Feeds `tokens` and returns the logits [V] that predict the token after the last of them.
    public func feed(_ tokens: [Int]) -> [Float] {
        precondition(!tokens.isEmpty, "IncrementalDecoder.feed: no tokens")
        let hidden = advance(tokens)
        return logits(hidden.rows((tokens.count - 1)..<tokens.count)).toArray()
    }
}

/// A model that can open incremental decoders (teacher and student both can).
public protocol GenerativeLanguageModel: CausalLanguageModel {
    /// A fresh decoder for one sequence of at most `capacity` tokens.
    func makeDecoder(capacity: Int) -> IncrementalDecoder
    /// Logits [T, V] of `tokens` (T ≥ 1) as one sequence from position 0, in one full forward pass (no
    /// cache or state): row t predicts token t + 1.
    func sequenceLogits(_ tokens: [Int]) -> Tensor
}

/// The teacher continuing one sequence through its key/value cache.
public final class TeacherDecoder: IncrementalDecoder {
    /// The model being run.
    public let model: TeacherModel
    /// The cache: per layer [1, capacity, Hkv, dh] keys and values.
    public let cache: TeacherKVCache

    /// A decoder with an empty cache of `capacity` positions.
    public init(model: TeacherModel, capacity: Int) {
        self.model = model
        cache = TeacherKVCache(config: model.config, batch: 1, capacity: capacity)
    }

    public var position: Int { cache.length }
    public var capacity: Int { cache.capacity }
    public var stateBytes: Int { cache.bytesUsed }

    public func advance(_ tokens: [Int]) -> Tensor { model.forward(tokens: tokens, batch: 1, cache: cache) }
    public func logits(_ hidden: Tensor) -> Tensor { model.logits(hidden) }
}

/// The GSA student continuing one sequence through its recurrent state.
public final class StudentDecoder: IncrementalDecoder {
    /// The model being run.
    public let model: StudentModel
    /// The recurrent state (and, for a hybrid, the softmax layers' caches of `capacity` positions).
    public let state: StudentState
    public let capacity: Int

    /// A decoder with a zero state; `capacity` bounds the softmax layers' caches of a hybrid student.
    public init(model: StudentModel, capacity: Int) {
        self.model = model
        self.capacity = capacity
        state = StudentState(config: model.config, batch: 1, capacity: capacity)
    }

    public var position: Int { state.position }
    public var stateBytes: Int { state.recurrentBytes + state.cacheBytesInUse }

    public func advance(_ tokens: [Int]) -> Tensor {
        precondition(state.position + tokens.count <= capacity || model.config.hybrid == nil,
                     "StudentDecoder.advance: capacity \(capacity) exceeded")
        return model.forward(tokens: tokens, batch: 1, state: state)
    }
    public func logits(_ hidden: Tensor) -> Tensor { model.logits(hidden) }
}

extension TeacherModel: GenerativeLanguageModel {
    public func makeDecoder(capacity: Int) -> IncrementalDecoder { TeacherDecoder(model: self, capacity: capacity) }
    public func sequenceLogits(_ tokens: [Int]) -> Tensor { logits(forward(tokens: tokens, batch: 1)) }
}

extension StudentModel: GenerativeLanguageModel {
    public func makeDecoder(capacity: Int) -> IncrementalDecoder { StudentDecoder(model: self, capacity: capacity) }
    public func sequenceLogits(_ tokens: [Int]) -> Tensor { logits(forward(tokens: tokens, batch: 1)) }
}

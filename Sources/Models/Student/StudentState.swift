// The student's recurrent state for generation: per GSA layer the slot states Hk [B, Hkv, dk, M] and
// Hv [B, Hkv, M, dv] (stored once per kv head, unlike fla's cache, which repeats them per query head),
// and per kept softmax layer a key/value cache. The GSA part has a constant size whatever the context.
import TensorCore

public final class StudentState: @unchecked Sendable {
    public let batch: Int
    /// Tokens consumed so far.
    public internal(set) var position = 0
    /// Capacity of the softmax layers' caches (0 when every layer is GSA).
    public let capacity: Int
    var hk: [Int: Tensor] = [:]
    var hv: [Int: Tensor] = [:]
    var keys: [Int: Tensor] = [:]
    var values: [Int: Tensor] = [:]
    let kvWidth: Int

    public init(config c: GSAConfig, batch: Int, capacity: Int = 0) {
        self.batch = batch
        self.capacity = c.hybrid == nil ? 0 : capacity
        kvWidth = c.hybrid.map { $0.numKVHeads * c.softmaxHeadDim } ?? 0
        for l in 0..<c.numLayers {
            if c.isSoftmaxLayer(l) {
                keys[l] = Tensor(zeros: [batch, self.capacity, kvWidth])
                values[l] = Tensor(zeros: [batch, self.capacity, kvWidth])
            } else {
                hk[l] = Tensor(zeros: [batch, c.numKVHeads, c.headKDim, c.numSlots])
                hv[l] = Tensor(zeros: [batch, c.numKVHeads, c.numSlots, c.headVDim])
            }
        }
    }

    /// Bytes of the recurrent (GSA) state: constant in the context length.
    public var recurrentBytes: Int { (hk.values.reduce(0) { $0 + $1.count } + hv.values.reduce(0) { $0 + $1.count }) * 4 }
    /// Bytes of the softmax layers' key/value cache in use at the current position.
    public var cacheBytesInUse: Int { 2 * keys.count * batch * position * kvWidth * 4 }

    /// Clears the state for a new sequence.
    public func reset() {
        position = 0
        for t in hk.values { t.zero() }
        for t in hv.values { t.zero() }
    }

    /// The slot states of GSA layer `l` (for tests and inspection).
    public func slotState(layer l: Int) -> (hk: Tensor, hv: Tensor)? {
        guard let k = hk[l], let v = hv[l] else { return nil }
        return (k, v)
    }
}

// Key/value cache of the teacher for incremental decoding: per layer, keys (after RoPE) and values
// for positions 0..<length of B sequences.
import TensorCore

public final class TeacherKVCache: @unchecked Sendable {
    public let batch: Int
    public let capacity: Int
    /// Positions filled so far (the same for every sequence of the batch).
    public internal(set) var length = 0
    let keys: [Tensor]  // per layer [B, capacity, Hkv, dh]
    let values: [Tensor]

    public init(config c: TransformerConfig, batch: Int, capacity: Int) {
        self.batch = batch
        self.capacity = capacity
        keys = (0..<c.numLayers).map { _ in Tensor(zeros: [batch, capacity, c.numKVHeads, c.headDim]) }
        values = (0..<c.numLayers).map { _ in Tensor(zeros: [batch, capacity, c.numKVHeads, c.headDim]) }
    }

    /// Bytes the cache holds for `length` positions (what a Transformer must keep per sequence batch).
    public static func bytes(config c: TransformerConfig, batch: Int, length: Int) -> Int {
        2 * c.numLayers * batch * length * c.numKVHeads * c.headDim * MemoryLayout<Float>.size
    }

    public var bytesUsed: Int {
        2 * keys.count * batch * length * (keys.first?.shape[2] ?? 0) * (keys.first?.shape[3] ?? 0) * 4
    }

    public func reset() { length = 0 }
}

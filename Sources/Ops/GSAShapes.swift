// The dimensions of one call of the Gated Slot Attention (GSA) core operator, and the tensor layouts
// every GSA kernel in this module uses (fla 0.6.0's "seq-first" kernel layout, fla/ops/gsa/chunk.py
// docstring; ../shared/reference/gsa.md §1, §9).
//
//   q  [B, T, H,   dk]   queries after the feature map          (fla q  [B,T,HQ,K])
//   k  [B, T, Hkv, dk]   keys after the feature map             (fla k  [B,T,H,K])
//   v  [B, T, Hkv, dv]   values                                  (fla v  [B,T,H,V])
//   g  [B, T, Hkv, M]    log forget gate, g ≤ 0 (GSAGate)        (fla g  [B,T,H,M])
//   o  [B, T, H,   dv]   output
//   hk [B, Hkv, dk, M]   key-side state  (fla layout [K, M]; the paper's K̃ is its transpose)
//   hv [B, Hkv, M, dv]   value-side state
//
// The states do not depend on q, so they are stored once per kv head (fla's kernels return
// `x[:, ::NG]`, i.e. the same thing); query head h reads kv head h / G with G = H / Hkv, the
// 'h d -> (h g) d' repeat of fla's layer and HF's `repeat_kv`.
import TensorCore

/// The dimensions of a GSA core call. Tensor layouts are documented in the file header.
public struct GSAShapes: Sendable, Equatable, CustomStringConvertible {
    /// B: batch size.
    public let batch: Int
    /// T: sequence length (may be 0).
    public let length: Int
    /// H: query heads.
    public let heads: Int
    /// Hkv: key/value heads; divides H.
    public let kvHeads: Int
    /// dk: per-head key dim.
    public let keyDim: Int
    /// dv: per-head value dim.
    public let valueDim: Int
    /// M: slots per head.
    public let slots: Int

    /// Dimensions of a call; `heads` must be a positive multiple of `kvHeads` and every other size positive
    /// (T may be 0). Callers validate user configs before building shapes; a violation here is a programmer error.
    public init(batch: Int, length: Int, heads: Int, kvHeads: Int, keyDim: Int, valueDim: Int, slots: Int) {
        precondition(batch > 0 && length >= 0 && heads > 0 && kvHeads > 0 && keyDim > 0 && valueDim > 0 && slots > 0,
                     "GSAShapes: every size must be positive (T may be 0): B \(batch) T \(length) H \(heads) "
                         + "Hkv \(kvHeads) dk \(keyDim) dv \(valueDim) M \(slots)")
        precondition(heads % kvHeads == 0, "GSAShapes: H \(heads) is not a multiple of Hkv \(kvHeads)")
        self.batch = batch
        self.length = length
        self.heads = heads
        self.kvHeads = kvHeads
        self.keyDim = keyDim
        self.valueDim = valueDim
        self.slots = slots
    }

    /// The same dimensions with another sequence length (e.g. T = 1 for a decode step).
    public func with(length: Int) -> GSAShapes {
        GSAShapes(batch: batch, length: length, heads: heads, kvHeads: kvHeads, keyDim: keyDim, valueDim: valueDim,
                  slots: slots)
    }

    /// G = H / Hkv: query heads per kv head.
    public var groupSize: Int { heads / kvHeads }

    /// q: [B, T, H, dk]
    public var queryShape: [Int] { [batch, length, heads, keyDim] }
    /// k: [B, T, Hkv, dk]
    public var keyShape: [Int] { [batch, length, kvHeads, keyDim] }
    /// v: [B, T, Hkv, dv]
    public var valueShape: [Int] { [batch, length, kvHeads, valueDim] }
    /// g: [B, T, Hkv, M]
    public var gateShape: [Int] { [batch, length, kvHeads, slots] }
    /// o: [B, T, H, dv]
    public var outputShape: [Int] { [batch, length, heads, valueDim] }
    /// hk: [B, Hkv, dk, M]
    public var keyStateShape: [Int] { [batch, kvHeads, keyDim, slots] }
    /// hv: [B, Hkv, M, dv]
    public var valueStateShape: [Int] { [batch, kvHeads, slots, valueDim] }

    /// Number of chunks of length `chunk` covering T.
    public func chunkCount(_ chunk: Int) -> Int { (length + chunk - 1) / chunk }

    /// "B … T … H … Hkv … dk … dv … M …", for messages.
    public var description: String {
        "B \(batch) T \(length) H \(heads) Hkv \(kvHeads) dk \(keyDim) dv \(valueDim) M \(slots)"
    }
}

/// Shape check shared by the GSA entry points: a wrong shape is a programmer error naming the tensor.
@inline(__always)
func checkShape(_ t: Tensor, _ expected: [Int], _ op: StaticString, _ name: StaticString) {
    precondition(t.shape == expected, "\(op): \(name) \(Shape.describe(t.shape)) != \(Shape.describe(expected))")
}

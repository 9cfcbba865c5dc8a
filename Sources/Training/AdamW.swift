// AdamW with PyTorch semantics (torch.optim.AdamW, single-tensor path): decoupled weight decay
// p ← p·(1 − lr·wd), then Adam with bias correction:
//   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p − (lr / (1−β1^t)) · m / (sqrt(v) / sqrt(1−β2^t) + eps)
// Moments exist for trainable parameters only (flat buffers parallel to ParameterBuffer.grads).
import Glibc
import TensorCore

public struct AdamWConfig: Sendable, Equatable {
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var eps: Double = 1e-8
    public var weightDecay: Double = 0.0
    /// Parameters with fewer dimensions (norm weights) get no weight decay.
    public var decayMinRank = 2
    public init() {}
}

public final class AdamW: @unchecked Sendable {
    public let config: AdamWConfig
    public let params: ParameterBuffer
    /// First and second moments of the updated entries, packed in entry order.
    public let m: TensorStorage
    public let v: TensorStorage
    /// Offsets of each updated entry's moments (by entry name).
    public let momentOffsets: [String: Int]
    /// Steps taken.
    public private(set) var step = 0

    /// An optimizer for the trainable entries of `params` that `updates` accepts (others keep their gradients
    /// but are not updated, e.g. LoRA-merged weights whose gradients feed the adapters).
    public init(params: ParameterBuffer, config: AdamWConfig, updates: (ParameterBuffer.Entry) -> Bool = { _ in true }) {
        self.params = params
        self.config = config
        var offs: [String: Int] = [:]
        var n = 0
        for e in params.entries where e.trainable && updates(e) {
            offs[e.name] = n
            n += e.count
        }
        momentOffsets = offs
        m = TensorStorage(capacity: n)
        v = TensorStorage(capacity: n)
    }

    /// The moment views of entry `name` (nil when this optimizer does not update it).
    public func moments(_ name: String) -> (m: Tensor, v: Tensor)? {
        guard let o = momentOffsets[name], let e = params.entry(name) else { return nil }
        return (Tensor(storage: m, offset: o, shape: e.shape), Tensor(storage: v, offset: o, shape: e.shape))
    }

    /// Applies one update with learning rate `lr` (the gradients are left untouched).
    public func update(lr: Double) {
        step += 1
        let c = config
        let bc1 = 1 - pow(c.beta1, Double(step)), bc2 = 1 - pow(c.beta2, Double(step))
        let stepSize = Float(lr / bc1), bc2Sqrt = Float(bc2.squareRoot())
        let b1 = Float(c.beta1), b2 = Float(c.beta2), eps = Float(c.eps)
        for e in params.entries where e.trainable {
            guard let mo = momentOffsets[e.name] else { continue }
            let p = params.values.base + e.offset, g = params.grads.base + e.gradOffset!
            let mp = m.base + mo, vp = v.base + mo
            let decay = e.shape.count >= c.decayMinRank ? Float(1 - lr * c.weightDecay) : 1
            let n = e.count
            parallelRanges(n, minChunk: 65536) { r in
                for i in r {
                    p[i] *= decay
                    mp[i] = b1 * mp[i] + (1 - b1) * g[i]
                    vp[i] = b2 * vp[i] + (1 - b2) * g[i] * g[i]
                    let denom = vp[i].squareRoot() / bc2Sqrt + eps
                    p[i] -= stepSize * mp[i] / denom
                }
            }
        }
    }

    /// Restores the step count (moments are restored by writing `m`/`v`).
    public func restore(step: Int) { self.step = step }
}


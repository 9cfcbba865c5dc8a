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
    /// First and second moments, laid out like `params.grads`.
    public let m: TensorStorage
    public let v: TensorStorage
    /// Steps taken.
    public private(set) var step = 0

    public init(params: ParameterBuffer, config: AdamWConfig) {
        self.params = params
        self.config = config
        m = TensorStorage(capacity: params.trainableCount)
        v = TensorStorage(capacity: params.trainableCount)
    }

    /// Applies one update with learning rate `lr` (the gradients are left untouched).
    public func update(lr: Double) {
        step += 1
        let c = config
        let bc1 = 1 - pow(c.beta1, Double(step)), bc2 = 1 - pow(c.beta2, Double(step))
        let stepSize = Float(lr / bc1), bc2Sqrt = Float(bc2.squareRoot())
        let b1 = Float(c.beta1), b2 = Float(c.beta2), eps = Float(c.eps)
        for e in params.entries where e.trainable {
            let p = params.values.base + e.offset, g = params.grads.base + e.gradOffset!
            let mp = m.base + e.gradOffset!, vp = v.base + e.gradOffset!
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


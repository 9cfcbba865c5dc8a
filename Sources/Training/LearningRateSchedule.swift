// Linear warmup then cosine decay to a floor (the "cosine_with_min_lr" schedule of transformers):
//   step < warmup:  lr = peak · (step + 1) / warmup
//   else:           lr = floor + (peak − floor) · ½(1 + cos(π · progress)), progress = (step − warmup) / (total − warmup)
// where floor = peak · minRatio.
import Glibc
import TensorCore

public struct LearningRateSchedule: Sendable, Equatable {
    public var peak: Double
    public var warmupSteps: Int
    public var totalSteps: Int
    public var minRatio: Double

    public init(peak: Double, warmupSteps: Int, totalSteps: Int, minRatio: Double) {
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.minRatio = minRatio
    }

    /// The learning rate of optimizer step `step` (0-based).
    public func rate(at step: Int) -> Double {
        if step < warmupSteps { return peak * Double(step + 1) / Double(warmupSteps) }
        let floor = peak * minRatio
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Double(step - warmupSteps) / Double(span))
        return floor + (peak - floor) * 0.5 * (1 + cos(Double.pi * progress))
    }
}

/// Scales all gradients so their global L2 norm is at most `maxNorm` (torch.nn.utils.clip_grad_norm_:
/// factor = maxNorm / (norm + 1e-6), applied only when < 1). Returns the norm before clipping.
@discardableResult
public func clipGradientNorm(_ params: ParameterBuffer, maxNorm: Double) -> Double {
    let norm = params.gradNorm()
    if maxNorm > 0 {
        let factor = maxNorm / (norm + 1e-6)
        if factor < 1 {
            let g = params.grads.base, f = Float(factor)
            for i in 0..<params.trainableCount { g[i] *= f }
        }
    }
    return norm
}

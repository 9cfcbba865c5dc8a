// Errors of the distillation loop.
import TensorCore

public enum TrainingError: T2RError, Equatable {
    case nonFinite(step: Int, what: String, lastCheckpoint: String?)
    case diverged(step: Int, loss: Double, reference: Double, lastCheckpoint: String?)
    case incompatibleResume(path: String, detail: String)
    case corruptCheckpoint(path: String, detail: String)
    case incompatibleModels(detail: String)
    case notEnoughData(path: String, tokens: Int, needed: Int)
    case nothingToResume(runDir: String)

    public var category: ErrorCategory {
        switch self {
        case .nonFinite, .diverged: .failure
        default: .badInput
        }
    }

    public var description: String {
        switch self {
        case let .nonFinite(s, w, c):
            "step \(s): \(w) is not finite (NaN or Inf); training stopped" + (c.map { ". The last good checkpoint is \($0)" } ?? " before any checkpoint was written")
        case let .diverged(s, l, r, c):
            "step \(s): the loss \(l) exceeds the divergence limit (\(r)); training stopped" + (c.map { ". Roll back with --resume from \($0)" } ?? "")
        case let .incompatibleResume(p, d): "\(p): cannot resume: \(d)"
        case let .corruptCheckpoint(p, d): "\(p): damaged checkpoint: \(d)"
        case let .incompatibleModels(d): "teacher and student do not fit together: \(d)"
        case let .notEnoughData(p, n, need): "\(p): \(n) tokens, but one batch needs \(need)"
        case let .nothingToResume(r): "\(r): --resume found no complete checkpoint under \(r)/checkpoints"
        }
    }
}

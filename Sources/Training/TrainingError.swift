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
    /// A checkpoint could not be written (disk full, read-only directory, …); nothing of it was kept.
    case checkpointWriteFailed(path: String, step: Int, reason: String, lastCheckpoint: String?)
    /// Another process is training into the same run directory.
    case runDirectoryBusy(runDir: String)
    /// The run's output (metrics, recipe, final student) could not be written.
    case outputWriteFailed(step: Int, reason: String, lastCheckpoint: String?)
    /// The teacher cache (`teacher_cache`) cannot serve this run: another teacher's, another k, a damaged file.
    case teacherCache(path: String, detail: String)
    /// A recipe value that does not fit the models (checked once they are loaded): `key` of the recipe.
    case incompatibleSetting(path: String, key: String, detail: String)

    public var category: ErrorCategory {
        switch self {
        case .nonFinite, .diverged, .checkpointWriteFailed, .outputWriteFailed, .runDirectoryBusy: .failure
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
        case let .checkpointWriteFailed(p, s, r, c):
            "step \(s): cannot write the checkpoint \(p): \(r); nothing of it was kept. "
                + (c.map { "The last complete checkpoint is \($0): make room (or fix the directory) and continue with --resume" }
                   ?? "No earlier checkpoint exists")
        case let .runDirectoryBusy(r):
            "\(r): another t2r process is training into this run directory (it holds \(r)/.lock); wait for it or choose another run.output"
        case let .teacherCache(p, d): "\(p): teacher_cache: \(d)"
        case let .incompatibleSetting(p, k, d): "\(p): recipe key \(k): \(d)"
        case let .outputWriteFailed(s, r, c):
            "step \(s): cannot write the run's output: \(r)" + (c.map { ". The last complete checkpoint is \($0); continue from it with --resume" } ?? "")
        }
    }
}

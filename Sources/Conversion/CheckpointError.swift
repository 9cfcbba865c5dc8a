// Errors of opening and checking checkpoints as models.
import TensorCore

public enum CheckpointError: T2RError, Equatable {
    /// Nothing t2r can read was found at the path.
    case notACheckpoint(path: String, detail: String)
    /// The tensors do not match what the configuration implies (every offender listed).
    case tensorSetMismatch(path: String, problems: [TensorSetProblem])
    /// The checkpoint is readable but describes a model t2r cannot use for this purpose.
    case unsupported(path: String, reason: String)

    public var category: ErrorCategory { .badInput }

    public var description: String {
        switch self {
        case let .notACheckpoint(p, d): "\(p): not a checkpoint t2r can read: \(d)"
        case let .tensorSetMismatch(p, probs):
            "\(p): the tensors do not match the configuration (\(probs.count) problem\(probs.count == 1 ? "" : "s")):\n"
                + probs.map { "  - \($0)" }.joined(separator: "\n")
        case let .unsupported(p, r): "\(p): unsupported model: \(r)"
        }
    }
}

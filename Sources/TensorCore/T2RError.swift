// The error protocol shared by every module, so the CLI can map any failure to an exit code
// without the library knowing about exit codes or printing anything.

/// What kind of failure an error is, from the user's point of view.
public enum ErrorCategory: Sendable {
    /// The command line was wrong (exit code 64, `EX_USAGE`).
    case usage
    /// An input file, recipe value or tensor was malformed or inconsistent (exit code 65, `EX_DATAERR`).
    case badInput
    /// Anything else: I/O failures, resource exhaustion, internal errors (exit code 1).
    case failure
}

/// An error whose description is a complete, user-facing sentence naming the file, tensor or key
/// involved and what was expected.
public protocol T2RError: Error, CustomStringConvertible {
    var category: ErrorCategory { get }
}

/// A generic I/O failure with the path and the operating-system reason.
public struct IOFailure: T2RError {
    public let path: String
    public let operation: String
    public let reason: String
    public init(path: String, operation: String, reason: String) {
        self.path = path
        self.operation = operation
        self.reason = reason
    }
    public var category: ErrorCategory { .failure }
    public var description: String { "\(path): cannot \(operation): \(reason)" }
}

// Errors from reading model configurations (HF config.json, GGUF metadata, KerasHub config).
import TensorCore

public struct ConfigError: T2RError, Equatable {
    /// The file the configuration came from.
    public let file: String
    /// The key involved (dotted path), or "" for the whole document.
    public let key: String
    /// What is wrong and what was expected.
    public let problem: String

    public init(file: String, key: String, problem: String) {
        self.file = file
        self.key = key
        self.problem = problem
    }

    public var category: ErrorCategory { .badInput }
    public var description: String { key.isEmpty ? "\(file): \(problem)" : "\(file): `\(key)`: \(problem)" }
}

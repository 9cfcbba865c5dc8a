// Recipe errors: every one names the file, the key path and what was expected (allowed values, a
// "did you mean" for unknown keys).
import TensorCore

public struct RecipeError: T2RError, Equatable {
    public let file: String
    /// Dotted key path, e.g. "optimizer.lr"; "" for the whole document.
    public let key: String
    public let problem: String

    public init(file: String, key: String, problem: String) {
        self.file = file
        self.key = key
        self.problem = problem
    }

    public var category: ErrorCategory { .badInput }
    public var description: String { key.isEmpty ? "\(file): \(problem)" : "\(file): `\(key)`: \(problem)" }
}

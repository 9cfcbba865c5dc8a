// The error of a structured input file (a model config, a recipe): the file, the key path involved and
// what is wrong with it and what was expected.

/// A problem with one key of a configuration-like file.
public struct KeyedInputError: T2RError, Equatable {
    /// The file the value came from.
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

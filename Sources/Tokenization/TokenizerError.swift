// Errors of loading tokenizer files (tokenizer.json, SentencePiece tokenizer.model, tokenizer_config.json,
// GGUF tokenizer arrays) and of writing token-id files. Every error names the file, the key or field, and
// what was expected.
import TensorCore

/// A tokenizer file that is malformed, inconsistent or uses a feature t2r does not implement.
public struct TokenizerError: T2RError, Equatable {
    /// What went wrong, from the user's point of view.
    public enum Kind: Sendable, Equatable {
        /// The file is not what its format requires (bad JSON, truncated protobuf, missing key, wrong type).
        case malformed
        /// The file is well-formed but uses a feature t2r does not implement (e.g. a Unigram model).
        case unsupported
        /// The file or directory does not exist or holds no tokenizer.
        case notFound
        /// Text or ids given to the tokenizer cannot be processed (e.g. invalid UTF-8, an id too large for .u16).
        case badValue
    }

    /// The file (or a description of the source, e.g. "GGUF arrays").
    public let file: String
    /// The key path or protobuf field, e.g. `model.merges[12]` or `ModelProto.pieces[7].score`; may be empty.
    public let field: String
    /// What was found and what was expected.
    public let reason: String
    /// The kind of failure.
    public let kind: Kind

    /// Creates an error about `field` of `file`.
    public init(_ kind: Kind, file: String, field: String = "", _ reason: String) {
        self.kind = kind
        self.file = file
        self.field = field
        self.reason = reason
    }

    /// Malformed input and unsupported features are the user's input problem (exit 65).
    public var category: ErrorCategory { .badInput }

    /// `file: field: reason` (with "unsupported" spelled out for unimplemented features).
    public var description: String {
        var s = file
        if !field.isEmpty { s += ": \(field)" }
        switch kind {
        case .unsupported: s += ": unsupported: "
        default: s += ": "
        }
        return s + reason
    }
}

/// Reads a tokenizer-related file; a missing or unreadable file is a `.notFound` TokenizerError.
func readTokenizerFile(_ path: String, limit: Int = FileLimits.tokenizer) throws -> [UInt8] {
    do { return try readFile(path, limit: limit) } catch let e as FileTooLarge { throw e } catch {
        throw TokenizerError(.notFound, file: path, "cannot read the file: \(error)")
    }
}

// Token-id files: a flat array of little-endian unsigned integers, `.u32` (uint32) or `.u16` (uint16,
// only when every id fits), no header — the format of the shared corpus files
// (`valid.mistral-v1.u16`, `*.smollm2.u32`) and of `t2r tokenize --out`.
import TensorCore

/// Reading and writing token-id files.
public enum TokenIDFile {
    /// Element width, from the file extension.
    public enum Width: Int, Sendable {
        case u16 = 2, u32 = 4

        /// The width `path`'s extension names (`.u16` / `.u32`), or nil.
        public init?(path: String) {
            if path.hasSuffix(".u16") { self = .u16 } else if path.hasSuffix(".u32") { self = .u32 } else { return nil }
        }
    }

    /// Encodes ids as little-endian values of `width`; throws if an id is negative or does not fit.
    public static func encode(_ ids: [Int], width: Width, file: String) throws -> [UInt8] {
        let limit = width == .u16 ? Int(UInt16.max) : Int(UInt32.max)
        var out = [UInt8](repeating: 0, count: ids.count * width.rawValue)
        for (i, id) in ids.enumerated() {
            guard id >= 0 && id <= limit else {
                throw TokenizerError(.badValue, file: file, "id \(id) at position \(i) does not fit in \(width == .u16 ? "uint16 (.u16); use .u32" : "uint32")")
            }
            for k in 0..<width.rawValue { out[i * width.rawValue + k] = UInt8(truncatingIfNeeded: id >> (8 * k)) }
        }
        return out
    }

    /// Writes `ids` to `path` atomically, in the width its extension names.
    public static func write(_ ids: [Int], to path: String) throws {
        guard let width = Width(path: path) else {
            throw TokenizerError(.badValue, file: path, "the output file must end in .u32 or .u16")
        }
        try writeFileAtomically(path, bytes: try encode(ids, width: width, file: path))
    }

    /// Decodes little-endian values of `width`; throws if the byte count is not a multiple of it.
    public static func decode(_ bytes: [UInt8], width: Width, file: String) throws -> [Int] {
        guard bytes.count % width.rawValue == 0 else {
            throw TokenizerError(.malformed, file: file, "\(bytes.count) bytes is not a whole number of \(width.rawValue)-byte ids")
        }
        let w = width.rawValue
        return (0..<(bytes.count / w)).map { i in
            var v = 0
            for k in 0..<w { v |= Int(bytes[i * w + k]) << (8 * k) }
            return v
        }
    }

    /// Reads a `.u16` / `.u32` file.
    public static func read(_ path: String) throws -> [Int] {
        guard let width = Width(path: path) else {
            throw TokenizerError(.badValue, file: path, "a token-id file must end in .u32 or .u16")
        }
        // The file, and its ids as Int (8 bytes each).
        let size = FileSystem.fileSize(path) ?? 0
        try MemoryBudget.check(size + size / (width == .u16 ? 2 : 4) * 8, for: "reading the token ids of \(path)")
        return try decode(try readFile(path), width: width, file: path)
    }

    /// Checks that encoding a text file of `path`'s size fits in memory: the bytes, the decoded text and the
    /// ids (at most one Int per byte, about one per 4 bytes of real text).
    public static func checkTextFits(_ path: String) throws {
        let size = FileSystem.fileSize(path) ?? 0
        try MemoryBudget.check(size * 4, for: "tokenizing \(path) (\(size) bytes of text)")
    }
}

extension TokenIDFile {
    /// Checks every id lies inside a model's vocabulary; the error names the first offender and its position.
    public static func validate(_ ids: [Int], vocabSize: Int, file: String) throws {
        if let i = ids.firstIndex(where: { $0 < 0 || $0 >= vocabSize }) {
            throw TokenizerError(.badValue, file: file, "token \(i) has id \(ids[i]), outside the model's vocabulary 0..<\(vocabSize)")
        }
    }
}

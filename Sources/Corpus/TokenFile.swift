// Pre-tokenized id files: little-endian uint16 (`.u16`) or uint32 (`.u32`), no header, so figures can
// be compared with other tools id for id (and ../shared/data/corpus/valid.mistral-v1.u16 reads as is).
import TensorCore

public enum TokenFileError: T2RError, Equatable {
    case unknownExtension(path: String)
    case truncated(path: String, bytes: Int, width: Int)
    case idTooLarge(path: String, id: Int, limit: Int)
    case idOutsideVocabulary(path: String, index: Int, id: Int, vocabSize: Int)

    public var category: ErrorCategory { .badInput }
    public var description: String {
        switch self {
        case let .unknownExtension(p): "\(p): unknown token file type (expected .u16 or .u32: little-endian uint16/uint32 ids)"
        case let .truncated(p, n, w): "\(p): \(n) bytes is not a whole number of \(w)-byte token ids"
        case let .idTooLarge(p, id, limit): "\(p): token id \(id) does not fit the file's id width (max \(limit)); use .u32"
        case let .idOutsideVocabulary(p, i, id, v): "\(p): token \(i) has id \(id), outside the model's vocabulary 0..<\(v)"
        }
    }
}

public enum TokenFile {
    /// Bytes per id for a path's extension.
    public static func width(of path: String) throws -> Int {
        if path.hasSuffix(".u16") { return 2 }
        if path.hasSuffix(".u32") { return 4 }
        throw TokenFileError.unknownExtension(path: path)
    }

    /// Reads all ids.
    public static func read(_ path: String) throws -> [Int] {
        let w = try width(of: path)
        let bytes = try readFile(path)
        guard bytes.count % w == 0 else { throw TokenFileError.truncated(path: path, bytes: bytes.count, width: w) }
        return bytes.withUnsafeBytes { b in
            (0..<(bytes.count / w)).map { i in
                w == 2 ? Int(UInt16(littleEndian: b.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
                    : Int(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
            }
        }
    }

    /// Writes ids atomically in the width the extension names.
    public static func write(_ ids: [Int], to path: String) throws {
        let w = try width(of: path)
        let limit = w == 2 ? Int(UInt16.max) : Int(UInt32.max)
        var bytes = [UInt8]()
        bytes.reserveCapacity(ids.count * w)
        for id in ids {
            guard id >= 0 && id <= limit else { throw TokenFileError.idTooLarge(path: path, id: id, limit: limit) }
            if w == 2 { withUnsafeBytes(of: UInt16(id).littleEndian) { bytes += $0 } } else {
                withUnsafeBytes(of: UInt32(id).littleEndian) { bytes += $0 }
            }
        }
        try writeFileAtomically(path, bytes: bytes)
    }

    /// Checks every id is inside a vocabulary.
    public static func validate(_ ids: [Int], vocabSize: Int, path: String) throws {
        if let i = ids.firstIndex(where: { $0 < 0 || $0 >= vocabSize }) {
            throw TokenFileError.idOutsideVocabulary(path: path, index: i, id: ids[i], vocabSize: vocabSize)
        }
    }
}

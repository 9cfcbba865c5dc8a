// Errors of the GGUF reader. Every case names the file and, where one is involved, the metadata key
// or tensor, with the byte offset for structural problems, so a truncated or hostile file is
// reported instead of crashing (the checks mirror ggml-org/llama.cpp `ggml/src/gguf.cpp`
// `gguf_init_from_file_impl`, plus caps on every count and length against the file size).
import TensorCore

/// Why a GGUF file could not be read, or a tensor or key in it could not be used.
public enum GGUFError: T2RError, Equatable {
    /// The first four bytes are not "GGUF".
    case badMagic(file: String, found: [UInt8])
    /// Version 1 (u32 counts), a byte-swapped (big-endian) version, or an unknown one.
    case unsupportedVersion(file: String, version: UInt32)
    /// The file ends inside a structure: `what` was being read at `offset` and needs `needed` bytes.
    case truncated(file: String, what: String, offset: Int, needed: Int)
    /// A count or length in the header cannot fit in the rest of the file.
    case countTooLarge(file: String, what: String, count: UInt64, offset: Int, limit: UInt64)
    /// A metadata value type id outside 0…12.
    case unknownValueType(file: String, key: String, type: UInt32)
    /// A metadata value that breaks the format (a bool that is neither 0 nor 1, arrays nested too deep, …).
    case invalidValue(file: String, key: String, detail: String)
    /// A string that is not valid UTF-8.
    case invalidUTF8(file: String, what: String, offset: Int)
    /// The same metadata key twice.
    case duplicateKey(file: String, key: String)
    /// The same tensor name twice.
    case duplicateTensor(file: String, tensor: String)
    /// `general.alignment` is not a power of two (or not an integer).
    case badAlignment(file: String, detail: String)
    /// A tensor description that breaks the format (too many dims, bad size, name too long, …).
    case invalidTensorInfo(file: String, tensor: String, detail: String)
    /// A ggml type id that is not in the table at all.
    case unknownTensorType(file: String, tensor: String, type: UInt32)
    /// A ggml type that was removed from ggml (its layout is not defined any more).
    case removedTensorType(file: String, tensor: String, type: UInt32, name: String)
    /// A tensor's data offset is not a multiple of the alignment.
    case misalignedTensor(file: String, tensor: String, offset: UInt64, alignment: Int)
    /// A tensor's data lies (partly) outside the file.
    case tensorOutOfBounds(file: String, tensor: String, offset: UInt64, byteCount: Int, dataSize: Int)
    /// Two tensors' data overlap.
    case overlappingTensors(file: String, first: String, second: String)
    /// A tensor whose ggml type t2r cannot decode to Float32.
    case unsupportedTensorType(file: String, tensor: String, type: String)
    /// No tensor of that name.
    case tensorNotFound(file: String, tensor: String)
    /// A required metadata key is absent.
    case missingKey(file: String, key: String)
    /// A metadata key holds a value of the wrong type.
    case wrongValueType(file: String, key: String, expected: String, found: String)

    public var category: ErrorCategory { .badInput }

    public var description: String {
        switch self {
        case let .badMagic(f, b):
            "\(f): not a GGUF file: the first bytes are \(b.map { hex2($0) }.joined(separator: " ")), expected 47 47 55 46 (\"GGUF\")"
        case let .unsupportedVersion(f, v):
            if v == 1 {
                "\(f): GGUF version 1 is not supported (it used 32-bit counts); re-convert the model with a current llama.cpp"
            } else if v.byteSwapped == 2 || v.byteSwapped == 3 {
                "\(f): GGUF version field \(v) is version \(v.byteSwapped) byte-swapped: big-endian GGUF files are not supported"
            } else {
                "\(f): unsupported GGUF version \(v) (expected 2 or 3)"
            }
        case let .truncated(f, w, o, n):
            "\(f): truncated file: \(w) at byte \(o) needs \(n) bytes, past the end of the file"
        case let .countTooLarge(f, w, c, o, l):
            "\(f): \(w) at byte \(o) is \(c), which cannot fit in the rest of the file (at most \(l))"
        case let .unknownValueType(f, k, t):
            "\(f): metadata `\(k)`: unknown value type \(t) (expected 0…12)"
        case let .invalidValue(f, k, d):
            "\(f): metadata `\(k)`: \(d)"
        case let .invalidUTF8(f, w, o):
            "\(f): \(w) at byte \(o) is not valid UTF-8"
        case let .duplicateKey(f, k):
            "\(f): metadata key `\(k)` appears more than once"
        case let .duplicateTensor(f, t):
            "\(f): tensor `\(t)` appears more than once"
        case let .badAlignment(f, d):
            "\(f): metadata `general.alignment`: \(d)"
        case let .invalidTensorInfo(f, t, d):
            "\(f): tensor `\(t)`: \(d)"
        case let .unknownTensorType(f, t, ty):
            "\(f): tensor `\(t)` has unknown ggml type \(ty)"
        case let .removedTensorType(f, t, ty, n):
            "\(f): tensor `\(t)` has ggml type \(ty) (\(n)), which was removed from ggml; re-quantize the model with a current llama.cpp"
        case let .misalignedTensor(f, t, o, a):
            "\(f): tensor `\(t)` has data offset \(o), which is not a multiple of the alignment \(a)"
        case let .tensorOutOfBounds(f, t, o, n, s):
            "\(f): tensor `\(t)` at data offset \(o) with \(n) bytes ends past the end of the data section (\(s) bytes): truncated file?"
        case let .overlappingTensors(f, a, b):
            "\(f): the data of tensors `\(a)` and `\(b)` overlap"
        case let .unsupportedTensorType(f, t, ty):
            "\(f): tensor `\(t)` has ggml type \(ty), which t2r cannot decode (supported: \(GGMLType.decodable.map(\.name).joined(separator: ", ")))"
        case let .tensorNotFound(f, t):
            "\(f): tensor `\(t)` not found"
        case let .missingKey(f, k):
            "\(f): metadata key `\(k)` is missing"
        case let .wrongValueType(f, k, e, found):
            "\(f): metadata `\(k)` is \(found), expected \(e)"
        }
    }
}

private func hex2(_ b: UInt8) -> String {
    let s = String(b, radix: 16, uppercase: false)
    return s.count == 1 ? "0" + s : s
}

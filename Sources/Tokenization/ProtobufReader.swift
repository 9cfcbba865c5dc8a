// A minimal protocol-buffers wire-format reader (proto2/proto3 encoding,
// https://protobuf.dev/programming-guides/encoding/): varints, 32/64-bit fixed values and
// length-delimited fields, every read bounds-checked. Used for SentencePiece `tokenizer.model` files.
// Errors name the file and the message field path being read.

/// Reads the fields of one protobuf message from a byte range.
struct ProtobufReader {
    /// Wire types.
    enum WireType: Int {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    /// File name, for errors.
    let file: String
    /// Path of the message being read (e.g. `ModelProto.pieces[3]`), for errors.
    let path: String

    /// A reader over `bytes[range]`.
    init(_ bytes: [UInt8], range: Range<Int>? = nil, file: String, path: String) {
        self.bytes = bytes
        let r = range ?? 0..<bytes.count
        self.position = r.lowerBound
        self.end = r.upperBound
        self.file = file
        self.path = path
    }

    func error(_ field: String, _ reason: String) -> TokenizerError {
        TokenizerError(.malformed, file: file, field: field.isEmpty ? path : "\(path).\(field)", reason)
    }

    var atEnd: Bool { position >= end }

    /// The next field's number and wire type, or nil at the end of the message.
    mutating func nextField() throws -> (number: Int, wireType: WireType)? {
        guard position < end else { return nil }
        let at = position
        let key = try readVarint("")
        guard let wt = WireType(rawValue: Int(key & 7)) else {
            throw error("", "invalid wire type \(key & 7) at byte \(at)")
        }
        let number = Int(key >> 3)
        guard number >= 1 && number <= (1 << 29) - 1 else { throw error("", "invalid field number \(number) at byte \(at)") }
        return (number, wt)
    }

    /// A base-128 varint (at most 10 bytes).
    mutating func readVarint(_ field: String) throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = position
        while true {
            guard position < end else { throw error(field, "truncated varint at byte \(start)") }
            let b = bytes[position]
            position += 1
            if shift == 63 && b > 1 { throw error(field, "varint longer than 64 bits at byte \(start)") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw error(field, "varint longer than 10 bytes at byte \(start)") }
        }
    }

    /// A little-endian 32-bit value.
    mutating func readFixed32(_ field: String) throws -> UInt32 { try readFixed(field) }

    /// A little-endian 64-bit value.
    mutating func readFixed64(_ field: String) throws -> UInt64 { try readFixed(field) }

    private mutating func readFixed<T: FixedWidthInteger & UnsignedInteger>(_ field: String) throws -> T {
        let n = T.bitWidth / 8
        guard end - position >= n else { throw error(field, "truncated \(T.bitWidth)-bit value at byte \(position)") }
        var v: T = 0
        for k in 0..<n { v |= T(bytes[position + k]) << (8 * k) }
        position += n
        return v
    }

    /// The byte range of a length-delimited field.
    mutating func readLengthDelimited(_ field: String) throws -> Range<Int> {
        let at = position
        let n = try readVarint(field)
        guard n <= UInt64(end - position) else {
            throw error(field, "length \(n) at byte \(at) runs past the end of the message (\(end - position) bytes left)")
        }
        let r = position..<(position + Int(n))
        position += Int(n)
        return r
    }

    /// A UTF-8 string field.
    mutating func readString(_ field: String) throws -> String {
        let r = try readLengthDelimited(field)
        guard let s = String(validating: bytes[r], as: UTF8.self) else { throw error(field, "not valid UTF-8") }
        return s
    }

    /// Skips a field of wire type `wt` (groups are rejected: SentencePiece files never use them).
    mutating func skip(_ wt: WireType, _ field: String) throws {
        switch wt {
        case .varint: _ = try readVarint(field)
        case .fixed64: _ = try readFixed64(field)
        case .lengthDelimited: _ = try readLengthDelimited(field)
        case .fixed32: _ = try readFixed32(field)
        case .startGroup, .endGroup: throw error(field, "deprecated group encoding (wire type \(wt.rawValue)) is not supported")
        }
    }

    /// Checks that field `field` has wire type `expected`.
    func expect(_ wt: WireType, _ expected: WireType, _ field: String) throws {
        guard wt == expected else { throw error(field, "wire type \(wt.rawValue), expected \(expected.rawValue)") }
    }
}

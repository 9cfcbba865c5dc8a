// safetensors reader: memory-mapped, validated like the reference implementation
// (huggingface/safetensors safetensors/src/tensor.rs @ 24b0b28, `read_metadata` + `validate`), and
// stricter in three places: duplicate tensor names, a non-object or non-string `__metadata__`, and
// error messages that name the file and tensor. Layout: u64 LE header length N, N bytes of JSON,
// then the byte buffer the tensors' data_offsets index.
import TensorCore

public final class SafetensorsFile: TensorStore, @unchecked Sendable {
    /// Largest header the reader accepts (the reference implementation's MAX_HEADER_SIZE).
    public static let maxHeaderSize: UInt64 = 100_000_000

    public struct Entry: Sendable {
        public let name: String
        public let dtype: SafetensorsDType
        public let shape: [Int]
        /// Byte range relative to the start of the data buffer.
        public let begin: Int
        public let end: Int
    }

    public let path: String
    public let file: MappedFile
    /// Entries in header order.
    public let entries: [Entry]
    public let metadata: [String: String]
    /// Absolute file offset of the data buffer (8 + N).
    public let dataStart: Int
    private let index: [String: Int]

    /// Opens and validates `path`. Throws `SafetensorsError` for malformed files, `IOFailure` for
    /// unreadable ones.
    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let (entries, metadata, dataStart) = try SafetensorsFile.parseHeader(file.bytes, path: path)
        self.entries = entries
        self.metadata = metadata
        self.dataStart = dataStart
        var idx: [String: Int] = [:]
        for (i, e) in entries.enumerated() { idx[e.name] = i }
        index = idx
    }

    public var tensorInfos: [TensorInfo] {
        entries.map { TensorInfo(name: $0.name, storageType: StorageType($0.dtype.rawValue), shape: $0.shape,
                                 byteCount: $0.end - $0.begin) }
    }

    public func info(_ name: String) -> TensorInfo? {
        guard let i = index[name] else { return nil }
        let e = entries[i]
        return TensorInfo(name: e.name, storageType: StorageType(e.dtype.rawValue), shape: e.shape, byteCount: e.end - e.begin)
    }

    public func entry(_ name: String) throws -> Entry {
        guard let i = index[name] else { throw SafetensorsError.tensorNotFound(file: path, tensor: name) }
        return entries[i]
    }

    /// The raw little-endian bytes of tensor `name` (valid while this object lives).
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        let e = try entry(name)
        return UnsafeRawBufferPointer(rebasing: file.bytes[(dataStart + e.begin)..<(dataStart + e.end)])
    }

    public func loadFloat32(_ name: String) throws -> Tensor {
        let e = try entry(name)
        let enc: FloatEncoding
        switch e.dtype {
        case .F32: enc = .float32
        case .F16: enc = .float16
        case .BF16: enc = .bfloat16
        case .F64: enc = .float64
        default: throw SafetensorsError.unsupportedDtype(file: path, tensor: name, dtype: e.dtype.rawValue, wanted: "float32")
        }
        try MemoryBudget.check(MemoryBudget.floatBytes(Shape.elementCount(e.shape) ?? Int.max),
                               for: "reading tensor `\(name)` of \(path) (shape \(Shape.describe(e.shape)) as float32)")
        let t = Tensor(uninitialized: e.shape)
        if t.count > 0 { Convert.toFloat32(file.bytes.baseAddress! + dataStart + e.begin, encoding: enc, t.pointer, count: t.count) }
        return t
    }

    /// Loads a floating-point tensor as Double (exact for F64).
    public func loadFloat64(_ name: String) throws -> [Double] {
        let e = try entry(name)
        let n = Shape.elementCount(e.shape) ?? 0
        let base = file.bytes.baseAddress.map { $0 + dataStart + e.begin }
        switch e.dtype {
        case .F64: return (0..<n).map { base!.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) }
        case .F32, .F16, .BF16: return try loadFloat32(name).toArray().map(Double.init)
        default: throw SafetensorsError.unsupportedDtype(file: path, tensor: name, dtype: e.dtype.rawValue, wanted: "float64")
        }
    }

    /// Loads an integer tensor (I64/I32/I16/I8/U8/U16/U32/BOOL) as Int.
    public func loadIntegers(_ name: String) throws -> [Int] {
        let e = try entry(name)
        let n = Shape.elementCount(e.shape) ?? 0
        guard n > 0 else { return [] }
        let b = file.bytes.baseAddress! + dataStart + e.begin
        switch e.dtype {
        case .I64: return (0..<n).map { Int(b.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        case .U64: return (0..<n).map { Int(truncatingIfNeeded: b.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self)) }
        case .I32: return (0..<n).map { Int(b.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
        case .U32: return (0..<n).map { Int(b.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
        case .I16: return (0..<n).map { Int(b.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self)) }
        case .U16: return (0..<n).map { Int(b.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
        case .I8: return (0..<n).map { Int(b.load(fromByteOffset: $0, as: Int8.self)) }
        case .U8, .BOOL: return (0..<n).map { Int(b.load(fromByteOffset: $0, as: UInt8.self)) }
        default: throw SafetensorsError.unsupportedDtype(file: path, tensor: name, dtype: e.dtype.rawValue, wanted: "integers")
        }
    }

    // MARK: Header parsing and validation

    static func parseHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws
        -> (entries: [Entry], metadata: [String: String], dataStart: Int)
    {
        // 1. length field present
        guard bytes.count >= 8 else { throw SafetensorsError.headerTooSmall(file: path, fileSize: bytes.count) }
        let n = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
        // 2. header length cap
        guard n <= maxHeaderSize else { throw SafetensorsError.headerTooLarge(file: path, headerLength: n) }
        // 3. header within the file
        guard 8 + Int(n) <= bytes.count else {
            throw SafetensorsError.invalidHeaderLength(file: path, headerLength: n, fileSize: bytes.count)
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + Int(n))])
        // 4. UTF-8
        guard String(validating: headerBytes, as: UTF8.self) != nil else {
            throw SafetensorsError.invalidHeaderUTF8(file: path)
        }
        // 5. JSON and schema
        let json: JSONValue
        do {
            json = try JSONParser.parse(headerBytes)
        } catch {
            if let dup = error.duplicateKey { throw SafetensorsError.duplicateTensorName(file: path, tensor: dup) }
            throw SafetensorsError.invalidHeaderJSON(file: path, detail: error.description)
        }
        guard let members = json.objectMembers else {
            throw SafetensorsError.invalidHeaderJSON(file: path, detail: "the header is \(json.typeNameWithArticle), expected an object")
        }
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        entries.reserveCapacity(members.count)
        for (name, value) in members {
            if name == "__metadata__" {
                guard let m = value.objectMembers else {
                    throw SafetensorsError.invalidMetadata(file: path, detail: "expected an object of strings, found \(value.typeNameWithArticle)")
                }
                for (k, v) in m {
                    guard let s = v.stringValue else {
                        throw SafetensorsError.invalidMetadata(file: path, detail: "value of \"\(k)\" is \(v.typeNameWithArticle), expected a string")
                    }
                    metadata[k] = s
                }
                continue
            }
            entries.append(try parseEntry(name: name, value, path: path))
        }
        // 6–9. offsets contiguous from 0 (in offset order), sizes consistent
        let sorted = entries.sorted { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var start = 0
        for e in sorted {
            if e.begin != start || e.end < e.begin { throw SafetensorsError.invalidOffset(file: path, tensor: e.name) }
            start = e.end
            guard let nel = Shape.elementCount(e.shape) else { throw SafetensorsError.validationOverflow(file: path, tensor: e.name) }
            let (nbits, o) = nel.multipliedReportingOverflow(by: e.dtype.bitSize)
            if o { throw SafetensorsError.validationOverflow(file: path, tensor: e.name) }
            if nbits % 8 != 0 { throw SafetensorsError.misalignedSlice(file: path, tensor: e.name) }
            if e.end - e.begin != nbits / 8 {
                throw SafetensorsError.tensorInvalidInfo(file: path, tensor: e.name, expectedBytes: nbits / 8, actualBytes: e.end - e.begin)
            }
        }
        // 10. the buffer is exactly covered
        let (expected, o) = (8 + Int(n)).addingReportingOverflow(start)
        if o || expected != bytes.count {
            throw SafetensorsError.metadataIncompleteBuffer(file: path, expectedSize: o ? Int.max : expected, fileSize: bytes.count)
        }
        return (entries, metadata, 8 + Int(n))
    }

    private static func parseEntry(name: String, _ value: JSONValue, path: String) throws -> Entry {
        func bad(_ d: String) -> SafetensorsError { .invalidHeaderJSON(file: path, detail: "tensor `\(name)`: \(d)") }
        guard let fields = value.objectMembers else { throw bad("expected an object, found \(value.typeNameWithArticle)") }
        var dtypeValue: JSONValue?, shapeValue: JSONValue?, offsetsValue: JSONValue?
        for (k, v) in fields {
            switch k {
            case "dtype": dtypeValue = v
            case "shape": shapeValue = v
            case "data_offsets": offsetsValue = v
            default: break  // unknown fields are ignored, as by the reference reader
            }
        }
        guard let dtypeValue else { throw bad("missing field dtype") }
        guard let shapeValue else { throw bad("missing field shape") }
        guard let offsetsValue else { throw bad("missing field data_offsets") }
        guard let ds = dtypeValue.stringValue else { throw bad("dtype is \(dtypeValue.typeNameWithArticle), expected a string") }
        guard let dtype = SafetensorsDType(rawValue: ds) else {
            throw SafetensorsError.unknownDtype(file: path, tensor: name, dtype: ds)
        }
        guard let shapeItems = shapeValue.arrayValue else { throw bad("shape is \(shapeValue.typeNameWithArticle), expected an array") }
        var shape: [Int] = []
        for s in shapeItems {
            guard let u = s.uint64Value else { throw bad("shape entry \(s) is not a non-negative integer") }
            guard u <= UInt64(Int.max) else { throw SafetensorsError.validationOverflow(file: path, tensor: name) }
            shape.append(Int(u))
        }
        guard let off = offsetsValue.arrayValue else { throw bad("data_offsets is \(offsetsValue.typeNameWithArticle), expected an array") }
        guard off.count == 2 else { throw bad("data_offsets has \(off.count) elements, expected 2") }
        guard let b = off[0].uint64Value, let e = off[1].uint64Value else {
            throw bad("data_offsets entries must be non-negative integers")
        }
        guard b <= UInt64(Int.max / 2), e <= UInt64(Int.max / 2) else { throw SafetensorsError.invalidOffset(file: path, tensor: name) }
        return Entry(name: name, dtype: dtype, shape: shape, begin: Int(b), end: Int(e))
    }
}

extension SafetensorsFile: RawTensorAccess {
    public func rawTensor(_ name: String) throws -> (dtype: SafetensorsDType, bytes: UnsafeRawBufferPointer, file: MappedFile, offset: Int)? {
        let e = try entry(name)
        return (e.dtype, try rawBytes(name), file, dataStart + e.begin)
    }
}

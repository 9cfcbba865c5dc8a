// GGUF v2/v3 reader (ggml-org/ggml `docs/gguf.md`; the checks follow ggml-org/llama.cpp
// `ggml/src/gguf.cpp` `gguf_init_from_file_impl`). Little-endian layout:
//
//   u32 magic "GGUF" | u32 version | u64 tensor_count | u64 kv_count
//   kv_count × (string key, u32 value_type, value)
//   tensor_count × (string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset)
//   padding to `general.alignment` (default 32) | tensor data (offsets relative to here)
//
// The file is memory-mapped. Every count, length and offset is checked against the bytes that remain
// before anything is allocated or read, so a truncated or hostile file raises a `GGUFError`, never a
// crash or a huge allocation. Tensors keep their raw GGUF names and ggml types; `loadFloat32`
// dequantises (GGUFDequantize.swift). Shapes are reported row-major: ne = [in, out] becomes [out, in].
import TensorCore

/// One tensor as described in a GGUF file.
public struct GGUFTensor: Sendable, Equatable {
    /// The GGUF name ("blk.0.attn_q.weight").
    public let name: String
    /// The ggml storage type.
    public let type: GGMLType
    /// ne0, ne1, … with ne0 the fastest-varying (the order stored in the file).
    public let dims: [Int]
    /// Offset of the data from the start of the data section.
    public let offset: Int
    /// Bytes of data.
    public let byteCount: Int

    /// Row-major shape: `dims` reversed ([out, in] for a weight matrix stored as ne = [in, out]).
    public var shape: [Int] { dims.reversed() }
    /// Weights in the tensor.
    public var elementCount: Int { dims.reduce(1, *) }
    /// Weights per row (ne0; 1 for a scalar).
    public var rowLength: Int { dims.first ?? 1 }
    /// Rows: the product of ne1, ne2, … (1 for a vector).
    public var rowCount: Int { dims.dropFirst().reduce(1, *) }
    /// Bytes per row.
    public var rowByteCount: Int { rowLength / type.blockSize * type.typeSize }
}

/// A memory-mapped GGUF file: metadata by key and tensors by raw GGUF name.
public final class GGUFFile: TensorStore, @unchecked Sendable {
    /// The only accepted magic, "GGUF" read as a little-endian u32.
    public static let magic: UInt32 = 0x4655_4747
    /// Alignment of tensor data when `general.alignment` is absent.
    public static let defaultAlignment = 32
    /// Longest tensor name the format allows.
    public static let maxTensorNameLength = 64
    /// Most dimensions a tensor may have (GGML_MAX_DIMS).
    public static let maxDimensions = 4
    /// Deepest nesting of arrays accepted in metadata (real files use at most 2).
    public static let maxArrayDepth = 16
    /// Most elements of one metadata array (a 256k-token vocabulary has 2^18); each element costs tens of
    /// bytes in memory, so the count of a large file's array is not believed beyond this.
    public static let maxArrayCount = 1 << 24
    /// Longest metadata string (chat templates are kilobytes).
    public static let maxStringLength = 1 << 26

    /// The file path (for messages).
    public let path: String
    /// The mapped bytes.
    public let file: MappedFile
    /// 2 or 3.
    public let version: UInt32
    /// Alignment of the data section and of every tensor offset.
    public let alignment: Int
    /// Absolute file offset of the data section.
    public let dataStart: Int
    /// Metadata key/values in file order.
    public let metadataEntries: [(key: String, value: GGUFValue)]
    /// Tensors in file order.
    public let tensors: [GGUFTensor]
    private let keyIndex: [String: Int]
    private let tensorIndex: [String: Int]

    /// Opens and validates `path`. Throws `GGUFError` for malformed files, `IOFailure` for unreadable ones.
    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        var r = GGUFByteReader(bytes: file.bytes, path: path)

        // Header.
        let magic = try r.u32("the magic number")
        guard magic == GGUFFile.magic else {
            throw GGUFError.badMagic(file: path, found: Array(file.bytes.prefix(4)))
        }
        version = try r.u32("the version")
        guard version == 2 || version == 3 else { throw GGUFError.unsupportedVersion(file: path, version: version) }
        let tensorCountOffset = r.position
        let tensorCount = try r.u64("the tensor count")
        let kvCountOffset = r.position
        let kvCount = try r.u64("the metadata key/value count")
        // Smallest encodings: a KV is a key length (8) + value type (4) + a 1-byte value; a tensor info is
        // a name length (8) + n_dims (4) + type (4) + offset (8).
        try r.checkCount(kvCount, elementSize: 13, what: "the metadata key/value count", at: kvCountOffset)

        // Metadata.
        var entries: [(key: String, value: GGUFValue)] = []
        entries.reserveCapacity(Int(kvCount))
        var keyIndex: [String: Int] = [:]
        for _ in 0..<Int(kvCount) {
            let key = try r.string("a metadata key")
            let rawType = try r.u32("the value type of `\(key)`")
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw GGUFError.unknownValueType(file: path, key: key, type: rawType)
            }
            let value = try r.value(type, key: key, depth: 0)
            guard keyIndex[key] == nil else { throw GGUFError.duplicateKey(file: path, key: key) }
            keyIndex[key] = entries.count
            entries.append((key, value))
        }
        metadataEntries = entries
        self.keyIndex = keyIndex

        // Alignment.
        var alignment = GGUFFile.defaultAlignment
        if let i = keyIndex["general.alignment"] {
            let v = entries[i].value
            guard let a = v.intValue else {
                throw GGUFError.badAlignment(file: path, detail: "is \(v.typeName) \(v), expected an unsigned integer")
            }
            guard a > 0, a & (a - 1) == 0, a <= 1 << 20 else {
                throw GGUFError.badAlignment(file: path, detail: "is \(a), expected a power of two (32 by default)")
            }
            alignment = a
        }
        self.alignment = alignment

        // Tensor infos.
        try r.checkCount(tensorCount, elementSize: 24, what: "the tensor count", at: tensorCountOffset)
        var infos: [(name: String, type: GGMLType, dims: [Int], offset: UInt64, byteCount: Int)] = []
        infos.reserveCapacity(Int(tensorCount))
        var tensorIndex: [String: Int] = [:]
        for _ in 0..<Int(tensorCount) {
            let name = try r.string("a tensor name")
            func bad(_ d: String) -> GGUFError { .invalidTensorInfo(file: path, tensor: name, detail: d) }
            guard name.utf8.count <= GGUFFile.maxTensorNameLength else {
                throw bad("the name has \(name.utf8.count) bytes, at most \(GGUFFile.maxTensorNameLength) are allowed")
            }
            guard tensorIndex[name] == nil else { throw GGUFError.duplicateTensor(file: path, tensor: name) }
            let nDims = try r.u32("n_dims of tensor `\(name)`")
            guard nDims <= GGUFFile.maxDimensions else {
                throw bad("n_dims is \(nDims), at most \(GGUFFile.maxDimensions) are allowed")
            }
            var dims: [Int] = []
            for d in 0..<Int(nDims) {
                let ne = try r.u64("ne[\(d)] of tensor `\(name)`")
                guard ne <= UInt64(Int64.max) else { throw bad("ne[\(d)] = \(ne) is negative as a signed 64-bit integer") }
                dims.append(Int(ne))
            }
            let typeID = try r.u32("the type of tensor `\(name)`")
            let offset = try r.u64("the data offset of tensor `\(name)`")
            guard let type = GGMLType.byID(typeID) else {
                if let removed = GGMLType.removed[typeID] {
                    throw GGUFError.removedTensorType(file: path, tensor: name, type: typeID, name: removed)
                }
                throw GGUFError.unknownTensorType(file: path, tensor: name, type: typeID)
            }
            // The product of the non-zero dimensions must fit too: a tensor with one zero dimension is empty,
            // but its row count (ne1·ne2·…) and shape are still computed.
            var elements = 1, nonZero = 1
            for d in dims {
                let (p, o) = nonZero.multipliedReportingOverflow(by: max(d, 1))
                guard !o else { throw bad("the element count of shape ne = \(dims) overflows") }
                nonZero = p
                elements *= d == 0 ? 0 : 1
            }
            elements *= nonZero
            let ne0 = dims.first ?? 1
            guard ne0 % type.blockSize == 0 else {
                throw bad("ne[0] = \(ne0) is not a multiple of the \(type.name) block size \(type.blockSize)")
            }
            let (byteCount, o) = (elements / type.blockSize).multipliedReportingOverflow(by: type.typeSize)
            guard !o else { throw bad("the byte size of shape ne = \(dims) in \(type.name) overflows") }
            tensorIndex[name] = infos.count
            infos.append((name, type, dims, offset, byteCount))
        }

        // Data section: aligned after the tensor infos.
        let (padded, _) = r.position.addingReportingOverflow((alignment - r.position % alignment) % alignment)
        dataStart = padded
        let dataSize = max(0, file.count - padded)
        if padded > file.count && infos.contains(where: { $0.byteCount > 0 }) {
            throw GGUFError.truncated(file: path, what: "the padding before the tensor data", offset: r.position,
                                      needed: padded - r.position)
        }
        var tensors: [GGUFTensor] = []
        tensors.reserveCapacity(infos.count)
        for t in infos {
            guard t.offset % UInt64(alignment) == 0 else {
                throw GGUFError.misalignedTensor(file: path, tensor: t.name, offset: t.offset, alignment: alignment)
            }
            guard t.offset <= UInt64(dataSize), t.byteCount <= dataSize - Int(t.offset) else {
                throw GGUFError.tensorOutOfBounds(file: path, tensor: t.name, offset: t.offset, byteCount: t.byteCount,
                                                  dataSize: dataSize)
            }
            tensors.append(GGUFTensor(name: t.name, type: t.type, dims: t.dims, offset: Int(t.offset), byteCount: t.byteCount))
        }
        let byOffset = tensors.filter { $0.byteCount > 0 }.sorted { ($0.offset, $0.name) < ($1.offset, $1.name) }
        for (a, b) in zip(byOffset, byOffset.dropFirst()) where b.offset < a.offset + a.byteCount {
            throw GGUFError.overlappingTensors(file: path, first: a.name, second: b.name)
        }
        self.tensors = tensors
        self.tensorIndex = tensorIndex
    }

    // MARK: Metadata

    /// The value of metadata key `key`, or nil.
    public subscript(key: String) -> GGUFValue? { keyIndex[key].map { metadataEntries[$0].value } }

    /// Metadata keys in file order.
    public var metadataKeys: [String] { metadataEntries.map(\.key) }

    /// `general.architecture` ("llama"), if present and a string.
    public var architecture: String? { self["general.architecture"]?.stringValue }

    /// A required string value.
    public func string(_ key: String) throws -> String {
        guard let s = try optionalString(key) else { throw GGUFError.missingKey(file: path, key: key) }
        return s
    }

    /// A string value, or nil when absent; throws when present with another type.
    public func optionalString(_ key: String) throws -> String? {
        try typed(key, "STRING") { $0.stringValue }
    }

    /// A required integer value of any integer type.
    public func int(_ key: String) throws -> Int {
        guard let i = try optionalInt(key) else { throw GGUFError.missingKey(file: path, key: key) }
        return i
    }

    /// An integer value of any integer type, or nil when absent; throws when present with another type.
    public func optionalInt(_ key: String) throws -> Int? {
        try typed(key, "an integer") { $0.intValue }
    }

    /// A FLOAT32/FLOAT64 (or integer) value as Double, or nil when absent.
    public func optionalDouble(_ key: String) throws -> Double? {
        try typed(key, "a number") { $0.doubleValue }
    }

    /// A BOOL value, or nil when absent.
    public func optionalBool(_ key: String) throws -> Bool? {
        try typed(key, "BOOL") { $0.boolValue }
    }

    /// An array of strings, or nil when absent (`tokenizer.ggml.tokens`, `tokenizer.ggml.merges`).
    public func optionalStringArray(_ key: String) throws -> [String]? {
        try typed(key, "ARRAY[STRING]") { $0.stringArray }
    }

    /// An array of integers of any integer type, or nil when absent (`tokenizer.ggml.token_type`).
    public func optionalIntegerArray(_ key: String) throws -> [Int]? {
        try typed(key, "an array of integers") { $0.integerArray }
    }

    /// An array of FLOAT32/FLOAT64, or nil when absent (`tokenizer.ggml.scores`).
    public func optionalFloatArray(_ key: String) throws -> [Float]? {
        try typed(key, "an array of floats") { $0.floatArray }
    }

    private func typed<T>(_ key: String, _ expected: String, _ get: (GGUFValue) -> T?) throws -> T? {
        guard let v = self[key] else { return nil }
        guard let t = get(v) else {
            throw GGUFError.wrongValueType(file: path, key: key, expected: expected, found: "\(v.typeName) \(v)")
        }
        return t
    }

    /// Every key with its value as text (arrays summarised), for `TensorStore` and display.
    public var metadata: [String: String] {
        Dictionary(metadataEntries.map { ($0.key, $0.value.description) }, uniquingKeysWith: { a, _ in a })
    }

    // MARK: Tensors

    public var tensorInfos: [TensorInfo] { tensors.map(GGUFFile.info) }

    public func info(_ name: String) -> TensorInfo? { tensorIndex[name].map { GGUFFile.info(tensors[$0]) } }

    private static func info(_ t: GGUFTensor) -> TensorInfo {
        TensorInfo(name: t.name, storageType: StorageType(t.type.name), shape: t.shape, byteCount: t.byteCount)
    }

    /// The tensor named `name` (raw GGUF name).
    public func tensor(_ name: String) throws -> GGUFTensor {
        guard let i = tensorIndex[name] else { throw GGUFError.tensorNotFound(file: path, tensor: name) }
        return tensors[i]
    }

    /// The raw bytes of tensor `name` (valid while this object lives).
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        let t = try tensor(name)
        return UnsafeRawBufferPointer(rebasing: file.bytes[(dataStart + t.offset)..<(dataStart + t.offset + t.byteCount)])
    }

    /// Dequantises tensor `name` to Float32, row-major in `shape` order.
    public func loadFloat32(_ name: String) throws -> Tensor {
        let t = try tensor(name)
        return try loadRows(t, 0..<t.rowCount).reshaped(t.shape)
    }

    /// Dequantises rows `rows` (along ne1, ne2, …) of tensor `name`: `[rows.count, ne0]`.
    public func loadRows(_ name: String, _ rows: Range<Int>) throws -> Tensor {
        try loadRows(try tensor(name), rows)
    }

    private func loadRows(_ t: GGUFTensor, _ rows: Range<Int>) throws -> Tensor {
        guard t.type.isDecodable else {
            throw GGUFError.unsupportedTensorType(file: path, tensor: t.name, type: t.type.name)
        }
        precondition(rows.lowerBound >= 0 && rows.upperBound <= t.rowCount,
                     "GGUFFile.loadRows: rows \(rows) out of 0..<\(t.rowCount) for `\(t.name)`")
        try MemoryBudget.check(MemoryBudget.floatBytes(rows.count * t.rowLength),
                               for: "dequantising tensor `\(t.name)` of \(path) (\(rows.count)×\(t.rowLength) as float32)")
        let out = Tensor(uninitialized: [rows.count, t.rowLength])
        guard out.count > 0 else { return out }
        let src = file.bytes.baseAddress! + dataStart + t.offset + rows.lowerBound * t.rowByteCount
        GGUFDequantize.rows(t.type, src, out.pointer, rowLength: t.rowLength, rowCount: rows.count)
        return out
    }
}

// MARK: - Bounds-checked little-endian reading

/// A cursor over the mapped bytes; every read checks the remaining length first.
struct GGUFByteReader {
    let bytes: UnsafeRawBufferPointer
    let path: String
    private(set) var position = 0

    init(bytes: UnsafeRawBufferPointer, path: String) {
        self.bytes = bytes
        self.path = path
    }

    var remaining: Int { bytes.count - position }

    mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws {
        guard n <= remaining else {
            throw GGUFError.truncated(file: path, what: what(), offset: position, needed: n)
        }
    }

    mutating func load<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws -> T {
        try need(MemoryLayout<T>.size, what())
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: T.self))
        position += MemoryLayout<T>.size
        return v
    }

    mutating func u32(_ what: @autoclosure () -> String) throws -> UInt32 { try load(UInt32.self, what()) }
    mutating func u64(_ what: @autoclosure () -> String) throws -> UInt64 { try load(UInt64.self, what()) }

    /// Throws unless `count` elements of at least `elementSize` bytes fit in the rest of the file.
    func checkCount(_ count: UInt64, elementSize: Int, what: String, at offset: Int) throws {
        let limit = UInt64(max(0, remaining) / elementSize)
        guard count <= limit else {
            throw GGUFError.countTooLarge(file: path, what: what, count: count, offset: offset, limit: limit)
        }
    }

    /// A u64-length-prefixed UTF-8 string.
    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let lengthOffset = position
        let n = try u64("the length of \(what())")
        try checkCount(n, elementSize: 1, what: "the length of \(what())", at: lengthOffset)
        guard n <= UInt64(GGUFFile.maxStringLength) else {
            throw GGUFError.countTooLarge(file: path, what: "the length of \(what())", count: n, offset: lengthOffset,
                                          limit: UInt64(GGUFFile.maxStringLength))
        }
        let slice = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + Int(n))])
        guard let s = String(validating: slice, as: UTF8.self) else {
            throw GGUFError.invalidUTF8(file: path, what: what(), offset: position)
        }
        position += Int(n)
        return s
    }

    /// A metadata value of `type`.
    mutating func value(_ type: GGUFValueType, key: String, depth: Int) throws -> GGUFValue {
        let what = "the value of `\(key)`"
        switch type {
        case .uint8: return .uint8(try load(UInt8.self, what))
        case .int8: return .int8(try load(Int8.self, what))
        case .uint16: return .uint16(try load(UInt16.self, what))
        case .int16: return .int16(try load(Int16.self, what))
        case .uint32: return .uint32(try load(UInt32.self, what))
        case .int32: return .int32(try load(Int32.self, what))
        case .uint64: return .uint64(try load(UInt64.self, what))
        case .int64: return .int64(try load(Int64.self, what))
        case .float32: return .float32(Float(bitPattern: try load(UInt32.self, what)))
        case .float64: return .float64(Double(bitPattern: try load(UInt64.self, what)))
        case .bool:
            let offset = position
            let b = try load(UInt8.self, what)
            guard b <= 1 else {
                throw GGUFError.invalidValue(file: path, key: key, detail: "BOOL byte at \(offset) is \(b), expected 0 or 1")
            }
            return .bool(b == 1)
        case .string: return .string(try string(what))
        case .array: return .array(try array(key: key, depth: depth + 1))
        }
    }

    /// An array: u32 element type, u64 count, elements.
    mutating func array(key: String, depth: Int) throws -> GGUFArray {
        guard depth <= GGUFFile.maxArrayDepth else {
            throw GGUFError.invalidValue(file: path, key: key,
                                         detail: "arrays nested more than \(GGUFFile.maxArrayDepth) deep at byte \(position)")
        }
        let rawType = try u32("the element type of `\(key)`")
        guard let type = GGUFValueType(rawValue: rawType) else {
            throw GGUFError.unknownValueType(file: path, key: key, type: rawType)
        }
        let countOffset = position
        let count = try u64("the element count of `\(key)`")
        try checkCount(count, elementSize: type.minimumEncodedSize, what: "the element count of `\(key)`", at: countOffset)
        guard count <= UInt64(GGUFFile.maxArrayCount) else {
            throw GGUFError.countTooLarge(file: path, what: "the element count of `\(key)`", count: count, offset: countOffset,
                                          limit: UInt64(GGUFFile.maxArrayCount))
        }
        let n = Int(count)
        var values: [GGUFValue] = []
        values.reserveCapacity(n)
        switch type {
        case .uint8: values = scalars(n, UInt8.self).map { .uint8($0) }
        case .int8: values = scalars(n, Int8.self).map { .int8($0) }
        case .uint16: values = scalars(n, UInt16.self).map { .uint16($0) }
        case .int16: values = scalars(n, Int16.self).map { .int16($0) }
        case .uint32: values = scalars(n, UInt32.self).map { .uint32($0) }
        case .int32: values = scalars(n, Int32.self).map { .int32($0) }
        case .uint64: values = scalars(n, UInt64.self).map { .uint64($0) }
        case .int64: values = scalars(n, Int64.self).map { .int64($0) }
        case .float32: values = scalars(n, UInt32.self).map { .float32(Float(bitPattern: $0)) }
        case .float64: values = scalars(n, UInt64.self).map { .float64(Double(bitPattern: $0)) }
        case .bool, .string, .array:
            for _ in 0..<n { values.append(try value(type, key: key, depth: depth)) }
        }
        return GGUFArray(elementType: type, values: values)
    }

    /// `n` little-endian fixed-width integers (the caller checked that they fit).
    private mutating func scalars<T: FixedWidthInteger>(_ n: Int, _: T.Type) -> [T] {
        let size = MemoryLayout<T>.size
        let base = bytes.baseAddress! + position
        let out = [T](unsafeUninitializedCapacity: n) { buf, initialized in
            for i in 0..<n { buf[i] = T(littleEndian: base.loadUnaligned(fromByteOffset: i * size, as: T.self)) }
            initialized = n
        }
        position += n * size
        return out
    }
}

// The byte format in which a libhdf5 reader child hands its answer (a file's structure, attribute names or
// strings, or the typed error it met) back to the parent through shared memory (HDF5Sandbox.swift).
// Little-endian integers and length-prefixed UTF-8; the parent decodes with bounds checks, since a child
// whose heap libhdf5 corrupted may write garbage without crashing.
import TensorCore

/// Appends values to a byte buffer.
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func int(_ v: Int) { withUnsafeBytes(of: Int64(v).littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func double(_ v: Double) { int(Int(truncatingIfNeeded: Int64(bitPattern: v.bitPattern))) }
    mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }
    mutating func string(_ s: String) {
        let utf8 = Array(s.utf8)
        int(utf8.count)
        bytes.append(contentsOf: utf8)
    }
    mutating func strings(_ list: [String]) {
        int(list.count)
        for s in list { string(s) }
    }
    /// Length-prefixed raw bytes.
    mutating func data(_ d: [UInt8]) {
        int(d.count)
        bytes.append(contentsOf: d)
    }
}

/// Reads values back; any overrun or impossible count throws `WireReader.Malformed`.
struct WireReader {
    struct Malformed: Error {}
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var atEnd: Bool { offset == bytes.count }

    mutating func int() throws -> Int {
        guard bytes.count - offset >= 8 else { throw Malformed() }
        var v: Int64 = 0
        withUnsafeMutableBytes(of: &v) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 8)])) }
        offset += 8
        return Int(Int64(littleEndian: v))
    }
    mutating func double() throws -> Double { Double(bitPattern: UInt64(bitPattern: Int64(try int()))) }
    mutating func bool() throws -> Bool {
        guard offset < bytes.count, bytes[offset] <= 1 else { throw Malformed() }
        offset += 1
        return bytes[offset - 1] == 1
    }
    /// A count of items that each take at least `minimumBytes` of what is left.
    mutating func count(minimumBytes: Int = 1) throws -> Int {
        let n = try int()
        guard n >= 0, n <= (bytes.count - offset) / max(minimumBytes, 1) else { throw Malformed() }
        return n
    }
    mutating func string() throws -> String {
        let n = try count()
        defer { offset += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)]), as: UTF8.self)
    }
    mutating func strings() throws -> [String] {
        try (0..<(try count(minimumBytes: 8))).map { _ in try string() }
    }
    /// Length-prefixed raw bytes.
    mutating func data() throws -> [UInt8] {
        let n = try count()
        defer { offset += n }
        return Array(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)]))
    }
}

extension HDF5ElementType {
    func encode(_ w: inout WireWriter) {
        switch self {
        case let .float(b, e): w.int(0); w.int(b); w.int(e)
        case .bfloat16Opaque: w.int(1)
        case let .unsupported(d): w.int(2); w.string(d)
        }
    }

    static func decode(_ r: inout WireReader) throws -> HDF5ElementType {
        switch try r.int() {
        case 0:
            // libhdf5's float types: 1 to 16 bytes, an exponent field narrower than the type.
            let bytes = try r.int(), exponentBits = try r.int()
            guard (1...16).contains(bytes), (0..<(bytes * 8)).contains(exponentBits) else { throw WireReader.Malformed() }
            return .float(bytes: bytes, exponentBits: exponentBits)
        case 1: return .bfloat16Opaque
        case 2: return .unsupported(try r.string())
        default: throw WireReader.Malformed()
        }
    }
}

extension HDF5Dataset {
    func encode(_ w: inout WireWriter) {
        w.string(path)
        w.int(shape.count)
        for d in shape { w.int(d) }
        element.encode(&w)
        w.int(elementBytes)
        w.int(storedBytes)
        w.bool(filtered)
        w.strings(externalFiles)
    }

    static func decode(_ r: inout WireReader) throws -> HDF5Dataset {
        let path = try r.string()
        let shape = try (0..<(try r.count(minimumBytes: 8))).map { _ in try r.int() }
        guard shape.allSatisfy({ $0 >= 0 }), Shape.elementCount(shape) != nil else { throw WireReader.Malformed() }
        let element = try HDF5ElementType.decode(&r)
        let elementBytes = try r.int(), storedBytes = try r.int()
        guard elementBytes >= 0, storedBytes >= 0 else { throw WireReader.Malformed() }
        var d = HDF5Dataset(path: path, shape: shape, element: element, elementBytes: elementBytes,
                            storedBytes: storedBytes, filtered: try r.bool())
        d.externalFiles = try r.strings()
        return d
    }
}

extension HDF5Error {
    func encode(_ w: inout WireWriter) {
        switch self {
        case let .notHDF5(f): w.int(0); w.string(f)
        case let .cannotOpen(f, d): w.int(1); w.string(f); w.string(d)
        case let .datasetNotFound(f, d): w.int(2); w.string(f); w.string(d)
        case let .unsupportedType(f, d, t): w.int(3); w.string(f); w.string(d); w.string(t)
        case let .invalidDataset(f, d, x): w.int(4); w.string(f); w.string(d); w.string(x)
        case let .attributeNotString(f, o, a, t): w.int(5); w.string(f); w.string(o); w.string(a); w.string(t)
        case let .readFailed(f, o, op, d): w.int(6); w.string(f); w.string(o); w.string(op); w.string(d)
        case let .libraryCrashed(f, o, op, s): w.int(7); w.string(f); w.string(o); w.string(op); w.string(s)
        case let .libraryHung(f, o, op, s): w.int(8); w.string(f); w.string(o); w.string(op); w.double(s)
        case let .externalData(f, d, s): w.int(9); w.string(f); w.string(d); w.strings(s)
        }
    }

    static func decode(_ r: inout WireReader) throws -> HDF5Error {
        switch try r.int() {
        case 0: return .notHDF5(file: try r.string())
        case 1: return .cannotOpen(file: try r.string(), detail: try r.string())
        case 2: return .datasetNotFound(file: try r.string(), dataset: try r.string())
        case 3: return .unsupportedType(file: try r.string(), dataset: try r.string(), type: try r.string())
        case 4: return .invalidDataset(file: try r.string(), dataset: try r.string(), detail: try r.string())
        case 5: return .attributeNotString(file: try r.string(), object: try r.string(), attribute: try r.string(), type: try r.string())
        case 6: return .readFailed(file: try r.string(), object: try r.string(), operation: try r.string(), detail: try r.string())
        case 7: return .libraryCrashed(file: try r.string(), object: try r.string(), operation: try r.string(), signal: try r.string())
        case 8: return .libraryHung(file: try r.string(), object: try r.string(), operation: try r.string(), seconds: try r.double())
        case 9: return .externalData(file: try r.string(), dataset: try r.string(), sources: try r.strings())
        default: throw WireReader.Malformed()
        }
    }
}

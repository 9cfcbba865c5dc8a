// safetensors writer. Reproduces the reference writer's layout (safetensors `prepare()`): tensors
// sorted by dtype (the reference's enum order, descending: 8-byte types first), then by name, packed from offset 0; `__metadata__` first in
// the header; the header padded with spaces to a multiple of 8. Tensor data is produced one tensor
// at a time by a closure, so a writer streaming a large model holds one tensor in memory.
// The file is written to a temporary name and renamed into place (TensorCore/AtomicFile.swift).
import Glibc
import TensorCore

public struct SafetensorsEntry {
    public let name: String
    public let dtype: SafetensorsDType
    public let shape: [Int]
    /// Fills exactly `byteCount` bytes of little-endian tensor data.
    public let fill: ((UnsafeMutableRawBufferPointer) throws -> Void)?
    /// Alternatively: bytes that already exist (e.g. a range of a memory-mapped input), written as
    /// they are without an intermediate buffer; `release` runs once they are written.
    public let borrow: (() throws -> UnsafeRawBufferPointer)?
    public let release: (() -> Void)?
    /// Alternatively: bytes copied from a range of a file with read(2) (no mapping, so a cold input is read
    /// with the kernel's full read-ahead and the writer's memory stays flat).
    public let copy: FileRange?

    public init(name: String, dtype: SafetensorsDType, shape: [Int],
                fill: @escaping (UnsafeMutableRawBufferPointer) throws -> Void) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.fill = fill
        borrow = nil
        release = nil
        copy = nil
    }

    /// An entry whose bytes are borrowed from existing memory (streamed straight to the file).
    public init(name: String, dtype: SafetensorsDType, shape: [Int], borrow: @escaping () throws -> UnsafeRawBufferPointer,
                release: (() -> Void)? = nil) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        fill = nil
        self.borrow = borrow
        self.release = release
        copy = nil
    }

    /// An entry whose bytes are copied from `range` of a file (streamed through the writer in 8 MiB pieces);
    /// `release` runs once they are written.
    public init(name: String, dtype: SafetensorsDType, shape: [Int], copyFrom range: FileRange, release: (() -> Void)? = nil) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        fill = nil
        borrow = nil
        self.release = release
        copy = range
    }

    /// An entry writing a Float32 tensor in `dtype` (F32, F16 or BF16; rounded to nearest-even).
    public init(name: String, tensor: Tensor, dtype: SafetensorsDType = .F32) {
        let enc: FloatEncoding
        switch dtype {
        case .F16: enc = .float16
        case .BF16: enc = .bfloat16
        case .F64: enc = .float64
        default: enc = .float32
        }
        precondition([.F32, .F16, .BF16, .F64].contains(dtype), "SafetensorsEntry: \(dtype) is not a float dtype")
        self.init(name: name, dtype: dtype, shape: tensor.shape) { buf in
            Convert.fromFloat32(tensor.pointer, buf.baseAddress!, encoding: enc, count: tensor.count)
        }
    }

    /// An entry writing integers as I64 (or I32).
    public init(name: String, integers: [Int], shape: [Int]? = nil, dtype: SafetensorsDType = .I64) {
        precondition(dtype == .I64 || dtype == .I32, "SafetensorsEntry: integers are written as I64 or I32")
        self.init(name: name, dtype: dtype, shape: shape ?? [integers.count]) { buf in
            for (i, v) in integers.enumerated() {
                if dtype == .I64 { buf.storeBytes(of: Int64(v), toByteOffset: i * 8, as: Int64.self) } else {
                    buf.storeBytes(of: Int32(truncatingIfNeeded: v), toByteOffset: i * 4, as: Int32.self)
                }
            }
        }
    }

    public var byteCount: Int? {
        guard let n = Shape.elementCount(shape) else { return nil }
        let (bits, o) = n.multipliedReportingOverflow(by: dtype.bitSize)
        return o || bits % 8 != 0 ? nil : bits / 8
    }
}

/// A byte range of a file.
public struct FileRange: Sendable, Equatable {
    public let path: String
    public let offset: Int
    public let count: Int
    public init(path: String, offset: Int, count: Int) {
        self.path = path
        self.offset = offset
        self.count = count
    }
}

public enum SafetensorsWriter {
    /// Builds the header JSON (padded to a multiple of 8) and the order in which data follows.
    static func layout(_ entries: [SafetensorsEntry], metadata: [String: String]?, path: String) throws
        -> (header: [UInt8], order: [Int], sizes: [Int])
    {
        var seen = Set<String>()
        var sizes: [Int] = []
        for e in entries {
            guard seen.insert(e.name).inserted else {
                throw SafetensorsError.invalidTensorForWriting(file: path, tensor: e.name, detail: "the name is used twice")
            }
            guard e.name != "__metadata__" else {
                throw SafetensorsError.invalidTensorForWriting(file: path, tensor: e.name, detail: "reserved name")
            }
            guard let b = e.byteCount else {
                throw SafetensorsError.invalidTensorForWriting(
                    file: path, tensor: e.name, detail: "shape \(Shape.describe(e.shape)) × \(e.dtype) is not a whole number of bytes")
            }
            sizes.append(b)
        }
        let order = entries.indices.sorted {
            let a = entries[$0], b = entries[$1]
            if a.dtype.writerRank != b.dtype.writerRank { return a.dtype.writerRank > b.dtype.writerRank }
            return a.name < b.name
        }
        var members: [(String, JSONValue)] = []
        if let metadata {
            members.append(("__metadata__", .object(metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))
        }
        var offset = 0
        for i in order {
            let e = entries[i]
            members.append((e.name, .object([
                ("dtype", .string(e.dtype.rawValue)),
                ("shape", .array(e.shape.map { .int($0) })),
                ("data_offsets", .array([.int(offset), .int(offset + sizes[i])])),
            ])))
            offset += sizes[i]
        }
        var header = Array(JSONValue.object(members).serialized().utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        return (header, order, sizes)
    }

    /// Writes a safetensors file atomically. `directIO` bypasses the page cache for the output (multi-gigabyte
    /// checkpoints; AtomicFileWriter).
    public static func write(_ entries: [SafetensorsEntry], metadata: [String: String]? = ["format": "pt"],
                             to path: String, directIO: Bool = false) throws {
        let (header, order, sizes) = try layout(entries, metadata: metadata, path: path)
        let w = try AtomicFileWriter(path: path, directIO: directIO)
        var n = UInt64(header.count).littleEndian
        try withUnsafeBytes(of: &n) { try w.write($0) }
        try w.write(header)
        let maxSize = order.filter { entries[$0].fill != nil }.map { sizes[$0] }.max() ?? 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(maxSize, 1), alignment: 64)
        defer { buffer.deallocate() }
        var source: (path: String, fd: Int32)?
        defer { if let source { close(source.fd) } }
        for i in order where sizes[i] > 0 {
            let e = entries[i]
            if let r = e.copy {
                guard r.count == sizes[i] else {
                    throw SafetensorsError.invalidTensorForWriting(file: path, tensor: e.name, detail: "\(r.count) bytes supplied, \(sizes[i]) expected")
                }
                if source?.path != r.path {
                    if let source { close(source.fd) }
                    source = nil
                    let fd = open(r.path, O_RDONLY | O_CLOEXEC)
                    if fd < 0 { throw IOFailure(path: r.path, operation: "open", reason: String(cString: strerror(errno))) }
                    source = (r.path, fd)
                    _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
                }
                try w.write(copyingFrom: source!.fd, offset: r.offset, count: r.count, sourcePath: r.path)
                // The source pages are not needed again: leave the page cache to the output's readers.
                _ = posix_fadvise(source!.fd, off_t(r.offset), off_t(r.count), Int32(POSIX_FADV_DONTNEED))
                e.release?()
            } else if let borrow = e.borrow {
                let bytes = try borrow()
                guard bytes.count == sizes[i] else {
                    throw SafetensorsError.invalidTensorForWriting(file: path, tensor: e.name,
                                                                   detail: "\(bytes.count) bytes supplied, \(sizes[i]) expected")
                }
                try w.write(bytes)
                e.release?()
            } else {
                let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<sizes[i]])
                try e.fill!(slice)
                try w.write(UnsafeRawBufferPointer(slice))
            }
        }
        try w.commit()
    }
}

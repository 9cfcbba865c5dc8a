// HDF5 reader over libhdf5's C API (Debian 1.10.8; formats.md §7): opens a file read-only, lists
// every dataset with its shape and element type, reads datasets as Float32 and string attributes.
// Names are dataset paths relative to the root ("layers/x/vars/0", "model.norm.weight"); mapping them
// to model tensors is Conversion's job. The serial libhdf5 is not thread-safe, so every call into it
// runs under one process-wide lock, with automatic error printing switched off, and every call that reads
// a file runs in a reader process (HDF5Sandbox.swift); failures become
// `HDF5Error`s that name the file and the object, with libhdf5's own reason.
import CHDF5
import Foundation
import TensorCore

/// How a dataset's elements are stored.
public enum HDF5ElementType: Sendable, Equatable {
    /// An HDF5 floating-point type (IEEE f16/f32/f64 or any other layout); libhdf5 converts it.
    case float(bytes: Int, exponentBits: Int)
    /// bfloat16 as Keras 3 / ml_dtypes write it: 2-byte opaque data with the dataset attribute
    /// `dtype = "bfloat16"` (formats.md §6.2); the raw bits are the high half of a float32.
    case bfloat16Opaque
    /// Anything else, described ("integer (4 bytes)", "opaque (2 bytes) without dtype = \"bfloat16\"", …).
    case unsupported(String)

    /// The safetensors-style name shown to users: F16, BF16, F32, F64, or a description.
    public var storageType: StorageType {
        switch self {
        case .float(2, 5): "F16"
        case .float(2, 8), .bfloat16Opaque: "BF16"
        case .float(4, 8): "F32"
        case .float(8, 11): "F64"
        case let .float(b, e): StorageType("float\(b * 8) (\(e) exponent bits)")
        case let .unsupported(d): StorageType(d)
        }
    }
}

/// One dataset of an HDF5 file.
public struct HDF5Dataset: Sendable, Equatable {
    /// Path relative to the root group, '/'-separated, without a leading '/'.
    public let path: String
    /// Dimensions ([] for a scalar dataspace).
    public let shape: [Int]
    /// How the elements are stored.
    public let element: HDF5ElementType
    /// Bytes of one element in the file.
    public let elementBytes: Int
    /// Bytes the dataset occupies in the file (after compression, if any).
    public let storedBytes: Int
    /// True when the dataset passes through filters (compression).
    public let filtered: Bool
    /// Other files its data would be read from (HDF5 external raw storage, or the sources of a virtual
    /// dataset); t2r refuses to read such datasets.
    public var externalFiles: [String] = []

    /// Number of elements (shape checked for overflow when the file was opened).
    public var elementCount: Int { Shape.elementCount(shape) ?? 0 }
}

/// The process-wide lock every libhdf5 call runs under (the serial library keeps global state).
/// libhdf5 (Debian's serial build) is not thread-safe: every use of libhdf5 in the process, t2r's (the
/// HDF5 reader process's loop, test fixture writers) or a caller's, goes through `locked`, which also
/// serialises the requests to reader processes.
public enum HDF5Library {
    static let lock = NSLock()

    /// Runs `body` holding the lock, with libhdf5 initialised, its error auto-printing off and its
    /// error stack empty (so a failure's message is that failure's).
    public static func locked<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        _ = H5open()
        _ = H5Eset_auto2(shim_H5E_DEFAULT(), nil, nil)
        _ = H5Eclear2(shim_H5E_DEFAULT())
        return try body()
    }

    /// The most specific message on libhdf5's error stack (and clears the stack). Lock held.
    static func takeError() -> String {
        var buffer = [CChar](repeating: 0, count: messageSize)
        shim_take_error(&buffer, buffer.count)
        return message(buffer)
    }

    /// Room for one libhdf5 error message.
    static let messageSize = 512

    /// The text of a NUL-terminated message buffer.
    static func message(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Collects the names a shim enumeration reports.
private final class NameList {
    var names: [String] = []

    /// Runs `enumerate(callback, context)` (a shim_* enumeration) and returns the names it reported,
    /// or nil when it failed. Lock held.
    static func collect(_ enumerate: (shim_name_callback, UnsafeMutableRawPointer) -> herr_t) -> [String]? {
        let list = NameList()
        let rc = enumerate({ name, context in
            guard let name, let context else { return 0 }
            Unmanaged<NameList>.fromOpaque(context).takeUnretainedValue().names.append(String(cString: name))
            return 0
        }, Unmanaged.passUnretained(list).toOpaque())
        return rc < 0 ? nil : list.names
    }
}

/// An HDF5 file opened read-only: every dataset as a tensor named by its path.
public final class HDF5File: TensorStore, @unchecked Sendable {
    /// Largest total size of one string attribute the reader accepts (bytes).
    public static let maxAttributeBytes = 64 << 20
    /// A filtered (compressed) dataset may expand to at most this many times its stored size
    /// (deflate's limit is about 1032); beyond it the shape is not believed.
    public static let maxCompressionRatio = 1100

    /// The file.
    public let path: String
    /// Every dataset, in name order.
    public let datasets: [HDF5Dataset]
    /// The root group's string attributes.
    public let metadata: [String: String]
    /// The file's size in bytes when it was opened (no dataset can store more).
    private let fileBytes: Int
    private let index: [String: Int]
    /// The process that runs libhdf5 on the file (HDF5Sandbox.swift).
    private let reader: HDF5Reader

    /// Opens `path` read-only and describes its datasets. Throws `HDF5Error` for files libhdf5 cannot
    /// read or whose datasets are inconsistent, `IOFailure` when the path does not exist. libhdf5 reads the
    /// file only in a reader process (HDF5Sandbox.swift); this object holds no libhdf5 handle.
    public init(path: String) throws {
        guard FileSystem.exists(path) else { throw IOFailure(path: path, operation: "open", reason: "no such file") }
        guard !FileSystem.isDirectory(path) else { throw IOFailure(path: path, operation: "read", reason: "it is a directory") }
        self.path = path
        fileBytes = FileSystem.fileSize(path) ?? 0
        let reader = HDF5Reader(path: path, handler: { request, file, area in try HDF5File.answer(request, file: file, path: path, area: area) })
        self.reader = reader
        let opened: ([HDF5Dataset], [String: String]) = try HDF5Library.locked {
            try reader.call(.structure, object: "/", operation: "read the structure of") { r in
                let datasets = try (0..<(try r.count())).map { _ in try HDF5Dataset.decode(&r) }
                let keys = try r.strings(), values = try r.strings()
                guard keys.count == values.count else { throw WireReader.Malformed() }
                return (datasets, Dictionary(zip(keys, values), uniquingKeysWith: { a, _ in a }))
            }
        }
        datasets = opened.0
        metadata = opened.1
        var idx: [String: Int] = [:]
        for (i, d) in datasets.enumerated() { idx[d.path] = i }
        index = idx
    }

    deinit {
        let reader = reader
        HDF5Library.locked { reader.stop() }
    }

    // MARK: TensorStore

    /// Every dataset as a tensor named by its path (storage type F16/BF16/F32/F64 or a description).
    public var tensorInfos: [TensorInfo] { datasets.map(HDF5File.tensorInfo) }

    /// The description of dataset `name`, or nil.
    public func info(_ name: String) -> TensorInfo? { dataset(name).map(HDF5File.tensorInfo) }

    /// The dataset at `path`, or nil.
    public func dataset(_ path: String) -> HDF5Dataset? { index[path].map { datasets[$0] } }

    /// Reads dataset `name` as Float32: floats through libhdf5's conversion to H5T_NATIVE_FLOAT,
    /// bfloat16-opaque data as raw 16-bit words (with the dataset's own type as the memory type)
    /// widened by `<< 16`.
    public func loadFloat32(_ name: String) throws -> Tensor {
        guard let ds = dataset(name) else { throw HDF5Error.datasetNotFound(file: path, dataset: name) }
        if case let .unsupported(description) = ds.element {
            throw HDF5Error.unsupportedType(file: path, dataset: name, type: description)
        }
        if !ds.externalFiles.isEmpty {
            throw HDF5Error.externalData(file: path, dataset: name, sources: ds.externalFiles)
        }
        try checkStorage(ds)
        let n = ds.elementCount
        let bf16 = ds.element == .bfloat16Opaque
        // The tensor, plus the shared memory the reader process fills.
        try MemoryBudget.check(MemoryBudget.floatBytes(n) * (bf16 ? 3 : 4) / 2,
                               for: "reading dataset `\(name)` of \(path) (shape \(Shape.describe(ds.shape)) as float32)")
        if n == 0 { return Tensor(uninitialized: ds.shape) }
        let bytes = n * (bf16 ? 2 : 4)
        let reader = reader, path = path
        return try HDF5Library.locked {
            // libhdf5 decodes the data (chunk indexes, filters) in the reader process; see HDF5Sandbox.swift.
            try reader.ask(.read(dataset: name, bfloat16: bf16, bytes: bytes), object: name, operation: "read dataset",
                           deadlineBytes: bytes) { area, length in
                guard length == bytes else {
                    throw HDF5Error.readFailed(file: path, object: name, operation: "read dataset",
                                               detail: "the libhdf5 reader process handed back \(length) bytes, not \(bytes)")
                }
                let t = Tensor(uninitialized: ds.shape)
                try area.withMemory(bytes: bytes) { data in
                    if bf16 {
                        Convert.toFloat32(UnsafeRawPointer(data), encoding: .bfloat16, t.pointer, count: n)
                    } else {
                        UnsafeMutableRawPointer(t.pointer).copyMemory(from: data, byteCount: bytes)
                    }
                }
                return t
            }
        }
    }

    // MARK: Attributes

    /// The names of the attributes of `object` ("." or "/" for the root group, else a group or dataset path).
    public func attributeNames(of object: String = ".") throws -> [String] {
        let reader = reader
        return try HDF5Library.locked {
            try reader.call(.attributeNames(object: object), object: object, operation: "list the attributes of") { r in try r.strings() }
        }
    }

    /// The text of string attribute `name` of `object` (one string: a scalar or a 1-element array);
    /// nil when the attribute does not exist. Reads variable- and fixed-length strings.
    public func stringAttribute(_ name: String, of object: String = ".") throws -> String? {
        guard let values = try stringListAttribute(name, of: object) else { return nil }
        guard values.count == 1 else {
            throw HDF5Error.attributeNotString(file: path, object: object, attribute: name, type: "a list of \(values.count) strings")
        }
        return values[0]
    }

    /// Every string of string attribute `name` of `object`; nil when the attribute does not exist.
    public func stringListAttribute(_ name: String, of object: String = ".") throws -> [String]? {
        let reader = reader
        return try HDF5Library.locked {
            try reader.call(.strings(object: object, attribute: name), object: "\(object)@\(name)", operation: "read attribute") { r in
                try r.bool() ? try r.strings() : nil
            }
        }
    }

    // MARK: The reader process's side (HDF5Sandbox.swift)

    /// Runs the HDF5 reader for `path` (`t2r hdf5-reader PATH`, started by `HDF5File` itself) and returns
    /// its exit status.
    public static func serveReader(path: String) -> Int32 {
        HDF5Reader.serve(path: path) { request, file, area in try answer(request, file: file, path: path, area: area) }
    }

    /// Answers `request` on the open `file`: the answer (encoded, or a dataset's data) goes into `area`;
    /// returns its length.
    private static func answer(_ request: HDF5Request, file f: hid_t, path: String, area: HDF5AnswerArea) throws -> Int {
        var w = WireWriter()
        switch request {
        case .structure:
            let (datasets, metadata) = try walk(f, path: path)
            w.int(datasets.count)
            for d in datasets { d.encode(&w) }
            let keys = metadata.keys.sorted()
            w.strings(keys)
            w.strings(keys.map { metadata[$0]! })
        case let .attributeNames(object):
            w.strings(try attributeNames(file: f, path: path, object: object))
        case let .strings(object, attribute):
            let strings = try readStrings(file: f, path: path, object: object, attribute: attribute)
            w.bool(strings != nil)
            if let strings { w.strings(strings) }
        case let .read(name, bf16, bytes):
            let d = H5Dopen2(f, name, shim_H5P_DEFAULT())
            if d < 0 { throw HDF5Error.readFailed(file: path, object: name, operation: "open dataset", detail: HDF5Library.takeError()) }
            defer { _ = H5Dclose(d) }
            try area.withMemory(bytes: bytes) { data in
                let rc: herr_t
                if bf16 {
                    // The dataset's own (opaque) type as the memory type: the raw 16-bit words.
                    let fileType = H5Dget_type(d)
                    defer { if fileType >= 0 { _ = H5Tclose(fileType) } }
                    rc = fileType < 0 ? -1 : H5Dread(d, fileType, shim_H5S_ALL(), shim_H5S_ALL(), shim_H5P_DEFAULT(), data)
                } else {
                    rc = H5Dread(d, shim_H5T_NATIVE_FLOAT(), shim_H5S_ALL(), shim_H5S_ALL(), shim_H5P_DEFAULT(), data)
                }
                if rc < 0 { throw HDF5Error.readFailed(file: path, object: name, operation: "read dataset", detail: HDF5Library.takeError()) }
            }
            return bytes
        }
        try area.store(w.bytes)
        return w.bytes.count
    }

    /// Describes every dataset and root string attribute of the open file `f` (at `path`).
    private static func walk(_ f: hid_t, path: String) throws -> ([HDF5Dataset], [String: String]) {
        guard let names = NameList.collect({ shim_visit_datasets(f, $0, $1) }) else {
            throw HDF5Error.readFailed(file: path, object: "/", operation: "list the datasets of",
                                       detail: HDF5Library.takeError())
        }
        let datasets = try names.map { try HDF5File.describe(file: f, path: path, dataset: $0) }
        var metadata: [String: String] = [:]
        for name in try HDF5File.attributeNames(file: f, path: path, object: ".") {
            // Non-text root attributes are not metadata; skip them.
            if let v = try? HDF5File.readStrings(file: f, path: path, object: ".", attribute: name), v.count == 1 {
                metadata[name] = v[0]
            }
        }
        return (datasets, metadata)
    }

    private static func tensorInfo(_ d: HDF5Dataset) -> TensorInfo {
        TensorInfo(name: d.path, storageType: d.element.storageType, shape: d.shape, byteCount: d.storedBytes)
    }

    /// Refuses datasets whose stored bytes cannot hold what the shape claims, before allocating for them.
    private func checkStorage(_ ds: HDF5Dataset) throws {
        let n = ds.elementCount
        guard n > 0 else { return }
        let (logical, overflow) = n.multipliedReportingOverflow(by: ds.elementBytes)
        if overflow { throw HDF5Error.invalidDataset(file: path, dataset: ds.path, detail: "its size in bytes overflows") }
        if ds.storedBytes == 0 {
            throw HDF5Error.invalidDataset(file: path, dataset: ds.path, detail: "no data is stored for its \(n) elements")
        }
        if ds.storedBytes > fileBytes {
            throw HDF5Error.invalidDataset(file: path, dataset: ds.path,
                                           detail: "it claims \(ds.storedBytes) stored bytes, more than the whole file (\(fileBytes) bytes)")
        }
        if !ds.filtered && ds.storedBytes < logical {
            throw HDF5Error.invalidDataset(
                file: path, dataset: ds.path,
                detail: "shape \(Shape.describe(ds.shape)) needs \(logical) bytes but only \(ds.storedBytes) are stored")
        }
        if ds.filtered && logical / HDF5File.maxCompressionRatio > ds.storedBytes {
            throw HDF5Error.invalidDataset(
                file: path, dataset: ds.path,
                detail: "shape \(Shape.describe(ds.shape)) needs \(logical) bytes, more than \(HDF5File.maxCompressionRatio)× the \(ds.storedBytes) compressed bytes stored")
        }
    }

    private static func describe(file f: hid_t, path: String, dataset name: String) throws -> HDF5Dataset {
        func failed(_ op: String) -> HDF5Error {
            .readFailed(file: path, object: name, operation: op, detail: HDF5Library.takeError())
        }
        let d = H5Dopen2(f, name, shim_H5P_DEFAULT())
        if d < 0 { throw failed("open dataset") }
        defer { _ = H5Dclose(d) }

        let space = H5Dget_space(d)
        if space < 0 { throw failed("get the dataspace of") }
        defer { _ = H5Sclose(space) }
        let spaceClass = H5Sget_simple_extent_type(space)
        if spaceClass == H5S_NULL {
            throw HDF5Error.invalidDataset(file: path, dataset: name, detail: "it has a null dataspace (no elements, no shape)")
        }
        let rank = H5Sget_simple_extent_ndims(space)
        if rank < 0 { throw failed("get the rank of") }
        var dims = [hsize_t](repeating: 0, count: Int(rank))
        if rank > 0 && H5Sget_simple_extent_dims(space, &dims, nil) < 0 { throw failed("get the shape of") }
        guard dims.allSatisfy({ $0 <= hsize_t(Int.max) }), let _ = Shape.elementCount(dims.map { Int($0) }) else {
            throw HDF5Error.invalidDataset(file: path, dataset: name, detail: "its element count overflows (dims \(dims))")
        }
        let shape = dims.map { Int($0) }

        let type = H5Dget_type(d)
        if type < 0 { throw failed("get the type of") }
        defer { _ = H5Tclose(type) }
        let typeClass = H5Tget_class(type)
        let size = H5Tget_size(type)
        let element: HDF5ElementType
        switch typeClass {
        case H5T_FLOAT:
            var spos = 0, epos = 0, esize = 0, mpos = 0, msize = 0
            if H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0 { throw failed("get the float layout of") }
            element = .float(bytes: size, exponentBits: esize)
        case H5T_OPAQUE:
            let tag = (try? readStrings(file: d, path: path, object: ".", attribute: "dtype", display: name)) ?? nil
            if size == 2 && tag == ["bfloat16"] {
                element = .bfloat16Opaque
            } else {
                element = .unsupported("opaque (\(size) bytes)" + (tag.map { " with dtype = \($0.joined(separator: ", "))" } ?? " without dtype = \"bfloat16\""))
            }
        case H5T_INTEGER: element = .unsupported("integer (\(size) bytes)")
        case H5T_STRING: element = .unsupported("string")
        case H5T_COMPOUND: element = .unsupported("compound")
        default: element = .unsupported("HDF5 type class \(typeClass.rawValue)")
        }

        let plist = H5Dget_create_plist(d)
        if plist < 0 { throw failed("get the creation properties of") }
        defer { _ = H5Pclose(plist) }
        let filters = H5Pget_nfilters(plist)
        let stored = H5Dget_storage_size(d)
        var dataset = HDF5Dataset(path: name, shape: shape, element: element, elementBytes: size,
                                  storedBytes: stored > hsize_t(Int.max) ? Int.max : Int(stored), filtered: filters > 0)
        dataset.externalFiles = externalSources(plist)
        return dataset
    }

    /// The files a dataset's data comes from besides this one: external raw storage (H5Pset_external) or a
    /// virtual dataset's sources. A weights file from the internet could otherwise make t2r read any file
    /// on the machine (/etc/…, ~/.ssh/…) as tensor data.
    private static func externalSources(_ plist: hid_t) -> [String] {
        var sources: [String] = []
        let count = H5Pget_external_count(plist)
        if count > 0 {
            for i in 0..<UInt32(min(count, 64)) {
                var name = [CChar](repeating: 0, count: 4096)
                var offset: off_t = 0
                var size: hsize_t = 0
                if H5Pget_external(plist, i, name.count, &name, &offset, &size) >= 0 { sources.append(HDF5Library.message(name)) }
            }
            if sources.isEmpty { sources.append("(external storage)") }
        }
        if H5Pget_layout(plist) == H5D_VIRTUAL {
            var n: Int = 0
            if H5Pget_virtual_count(plist, &n) < 0 || n == 0 { sources.append("(virtual dataset)") }
            for i in 0..<min(n, 64) {
                let len = H5Pget_virtual_filename(plist, i, nil, 0)
                if len < 0 { continue }
                var name = [CChar](repeating: 0, count: len + 1)
                _ = H5Pget_virtual_filename(plist, i, &name, name.count)
                sources.append(HDF5Library.message(name))
            }
        }
        return sources
    }

    private static func attributeNames(file f: hid_t, path: String, object: String) throws -> [String] {
        let o = H5Oopen(f, object, shim_H5P_DEFAULT())
        if o < 0 { throw HDF5Error.readFailed(file: path, object: object, operation: "open object", detail: HDF5Library.takeError()) }
        defer { _ = H5Oclose(o) }
        guard let names = NameList.collect({ shim_attribute_names(o, $0, $1) }) else {
            throw HDF5Error.readFailed(file: path, object: object, operation: "list the attributes of", detail: HDF5Library.takeError())
        }
        return names
    }

    /// Reads string attribute `attribute` of `object` (relative to `loc`); nil when absent.
    /// `display` names the object in errors (defaults to `object`).
    private static func readStrings(file loc: hid_t, path: String, object: String, attribute: String,
                                    display: String? = nil) throws -> [String]? {
        let shown = display ?? object
        func failed(_ op: String) -> HDF5Error {
            .readFailed(file: path, object: "\(shown)@\(attribute)", operation: op, detail: HDF5Library.takeError())
        }
        let exists = H5Aexists_by_name(loc, object, attribute, shim_H5P_DEFAULT())
        if exists < 0 { throw failed("look up attribute") }
        if exists == 0 { return nil }
        let a = H5Aopen_by_name(loc, object, attribute, shim_H5P_DEFAULT(), shim_H5P_DEFAULT())
        if a < 0 { throw failed("open attribute") }
        defer { _ = H5Aclose(a) }
        let type = H5Aget_type(a)
        if type < 0 { throw failed("get the type of attribute") }
        defer { _ = H5Tclose(type) }
        guard H5Tget_class(type) == H5T_STRING else {
            throw HDF5Error.attributeNotString(file: path, object: shown, attribute: attribute,
                                               type: "of HDF5 type class \(H5Tget_class(type).rawValue)")
        }
        let space = H5Aget_space(a)
        if space < 0 { throw failed("get the dataspace of attribute") }
        defer { _ = H5Sclose(space) }
        let points = H5Sget_simple_extent_npoints(space)
        guard points >= 0, points <= Int64(maxAttributeBytes) else { throw failed("count the strings of attribute") }
        let n = Int(points)
        if n == 0 { return [] }

        if H5Tis_variable_str(type) > 0 {
            let memType = H5Tcopy(shim_H5T_C_S1())
            if memType < 0 { throw failed("make a string type for attribute") }
            defer { _ = H5Tclose(memType) }
            _ = H5Tset_size(memType, shim_H5T_VARIABLE())
            _ = H5Tset_cset(memType, H5Tget_cset(type))
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
            if H5Aread(a, memType, &pointers) < 0 { throw failed("read attribute") }
            let strings = pointers.map { $0.map { String(cString: $0) } ?? "" }
            _ = shim_reclaim(memType, space, &pointers)
            return strings
        }
        let size = H5Tget_size(type)
        guard size > 0, size <= maxAttributeBytes / n else { throw failed("size attribute") }
        var bytes = [UInt8](repeating: 0, count: size * n)
        if H5Aread(a, type, &bytes) < 0 { throw failed("read attribute") }
        let spacePadded = H5Tget_strpad(type) == H5T_STR_SPACEPAD
        return (0..<n).map { i in
            var s = bytes[(i * size)..<((i + 1) * size)]
            if let nul = s.firstIndex(of: 0) { s = s[..<nul] }
            if spacePadded { while s.last == 0x20 { s = s.dropLast() } }
            return String(decoding: s, as: UTF8.self)
        }
    }
}

import CheckpointIO
import Dispatch
import Foundation
import TensorCore
import TestSupport
import Testing

/// Tests/Fixtures/hdf5/raw/types.h5 (tools/fixtures/make_hdf5_fixtures.py `write_raw`).
private let types = Fixtures.fixture("hdf5/raw/types.h5")

@Suite struct HDF5FileTests {
    @Test func listsDatasetsWithShapesAndStorageTypes() throws {
        let f = try HDF5File(path: types)
        let byPath = Dictionary(uniqueKeysWithValues: f.tensorInfos.map { ($0.name, $0) })
        #expect(f.datasets.map(\.path) == f.datasets.map(\.path).sorted())
        #expect(Set(byPath.keys) == ["bf16", "f16", "f32be", "f64", "group/nested", "gzip_f32", "int32", "opaque_no_attr",
                                     "overcompressed", "scalar", "unallocated"])
        #expect(byPath["f64"]?.storageType == "F64")
        #expect(byPath["f32be"]?.storageType == "F32")
        #expect(byPath["f32be"]?.shape == [2, 2])
        #expect(byPath["f16"]?.storageType == "F16")
        #expect(byPath["bf16"]?.storageType == "BF16")
        #expect(byPath["bf16"]?.byteCount == 6)
        #expect(byPath["scalar"]?.shape == [])
        #expect(byPath["int32"]?.storageType == "integer (4 bytes)")
        #expect(byPath["opaque_no_attr"]?.storageType == "opaque (2 bytes) without dtype = \"bfloat16\"")
        #expect(f.dataset("bf16")?.element == .bfloat16Opaque)
        #expect(f.dataset("gzip_f32")?.filtered == true)
        #expect(f.dataset("f64")?.filtered == false)
    }

    @Test func readsEveryFloatTypeAsFloat32() throws {
        let f = try HDF5File(path: types)
        #expect(try f.loadFloat32("f64").toArray() == [0.5, -1.25, 3.0])
        #expect(try f.loadFloat32("f32be").toArray() == [1.5, -2.0, 0.25, 8.0])
        #expect(try f.loadFloat32("f16").toArray() == [1.0, -0.5, 65504.0, 0x1p-24])
        #expect(try f.loadFloat32("bf16").toArray() == [1.0, -3.5, 0x1p100])
        #expect(try f.loadFloat32("gzip_f32").toArray() == (0..<64).map { Float($0) / 4 })
        let s = try f.loadFloat32("scalar")
        #expect(s.shape == [] && s.toArray() == [7.5])
        #expect(try f.loadFloat32("group/nested").toArray() == [4.0, 5.0])
    }

    /// The reader child leaves after a second without requests; the next request starts a fresh one, and
    /// an error answered by the child (an unreadable dataset) leaves it serving.
    @Test func readsAgainAfterTheReaderChildLeft() throws {
        let f = try HDF5File(path: types)
        #expect(try f.loadFloat32("f64").toArray() == [0.5, -1.25, 3.0])
        #expect(throws: HDF5Error.self) { try f.stringListAttribute("x", of: "no/such/object") }  // the child's error
        #expect(try f.loadFloat32("f16").toArray() == [1.0, -0.5, 65504.0, 0x1p-24])
        Thread.sleep(forTimeInterval: 1.5)
        #expect(try f.loadFloat32("f32be").toArray() == [1.5, -2.0, 0.25, 8.0])
    }

    @Test func refusesWhatIsNotAFloat() throws {
        let f = try HDF5File(path: types)
        #expect(throws: HDF5Error.unsupportedType(file: types, dataset: "int32", type: "integer (4 bytes)")) {
            try f.loadFloat32("int32")
        }
        #expect(throws: HDF5Error.unsupportedType(file: types, dataset: "opaque_no_attr",
                                                  type: "opaque (2 bytes) without dtype = \"bfloat16\"")) {
            try f.loadFloat32("opaque_no_attr")
        }
        #expect(throws: HDF5Error.datasetNotFound(file: types, dataset: "nope")) { try f.loadFloat32("nope") }
    }

    @Test func refusesShapesTheStoredBytesCannotHold() throws {
        // Never allocates for the claimed 2^40 / 2^36 elements.
        let f = try HDF5File(path: types)
        #expect(throws: HDF5Error.invalidDataset(file: types, dataset: "unallocated",
                                                 detail: "no data is stored for its 1099511627776 elements")) {
            try f.loadFloat32("unallocated")
        }
        let stored = try #require(f.dataset("overcompressed")).storedBytes
        #expect(throws: HDF5Error.invalidDataset(
            file: types, dataset: "overcompressed",
            detail: "shape [68719476736] needs 274877906944 bytes, more than 1100× the \(stored) compressed bytes stored")) {
            try f.loadFloat32("overcompressed")
        }
    }

    @Test func readsStringAttributes() throws {
        let f = try HDF5File(path: types)
        #expect(try f.attributeNames() == ["fixed", "fixed_list", "list", "number", "vlen"])
        #expect(try f.stringAttribute("vlen") == "h\u{e9}llo")
        #expect(try f.stringAttribute("fixed") == "fixed text")
        #expect(try f.stringListAttribute("list") == ["a", "bc"])
        #expect(try f.stringListAttribute("fixed_list") == ["ab", "c"])
        #expect(try f.stringAttribute("absent") == nil)
        #expect(try f.stringAttribute("unit", of: "f64") == "none")
        #expect(try f.stringAttribute("dtype", of: "bf16") == "bfloat16")
        #expect(f.metadata == ["fixed": "fixed text", "vlen": "h\u{e9}llo"])
        #expect(throws: HDF5Error.attributeNotString(file: types, object: ".", attribute: "list", type: "a list of 2 strings")) {
            try f.stringAttribute("list")
        }
        #expect(throws: HDF5Error.attributeNotString(file: types, object: ".", attribute: "number", type: "of HDF5 type class 0")) {
            try f.stringAttribute("number")
        }
    }

    @Test func notHDF5AndTruncatedFilesAreTypedErrors() throws {
        let notHDF5 = Fixtures.fixture("hdf5/flat/malformed/not-hdf5.h5")
        #expect(throws: HDF5Error.notHDF5(file: notHDF5)) { try HDF5File(path: notHDF5) }
        let truncated = Fixtures.fixture("hdf5/flat/malformed/truncated.h5")
        do {
            _ = try HDF5File(path: truncated)
            Issue.record("a truncated file opened")
        } catch let HDF5Error.cannotOpen(file, detail) {
            #expect(file == truncated)
            #expect(detail.contains("truncated"), "\(detail)")
        }
        #expect(throws: IOFailure.self) { try HDF5File(path: "/nonexistent/x.h5") }
    }

    @Test func corruptDataIsAReadError() throws {
        let path = Fixtures.fixture("hdf5/raw/corrupt-chunk.h5")
        let f = try HDF5File(path: path)
        #expect(f.dataset("data")?.shape == [256])
        do {
            _ = try f.loadFloat32("data")
            Issue.record("a corrupt chunk was read")
        } catch let HDF5Error.readFailed(file, object, operation, detail) {
            #expect(file == path && object == "data" && operation == "read dataset")
            #expect(!detail.isEmpty, "libhdf5's reason is kept")
        }
    }

    @Test func concurrentReadsAgree() throws {
        // libhdf5 is serial: the reader's lock must make concurrent use safe.
        let f = try HDF5File(path: types)
        let expected = try f.loadFloat32("gzip_f32").toArray()
        let results = Results(count: 16)
        DispatchQueue.concurrentPerform(iterations: 16) { i in
            let name = i % 2 == 0 ? "gzip_f32" : "f32be"
            results.set(i, (try? f.loadFloat32(name).toArray()) ?? [])
        }
        for i in 0..<16 {
            #expect(results.get(i) == (i % 2 == 0 ? expected : [1.5, -2.0, 0.25, 8.0]))
        }
    }
}

private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [[Float]]
    init(count: Int) { values = Array(repeating: [], count: count) }
    func set(_ i: Int, _ v: [Float]) { lock.withLock { values[i] = v } }
    func get(_ i: Int) -> [Float] { lock.withLock { values[i] } }
}

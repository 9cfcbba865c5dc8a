import CheckpointIO
import TensorCore
import TestSupport
import Testing

@Suite struct SafetensorsWriterTests {
    @Test func writesTheSameBytesAsPythonSafetensors() throws {
        // reference.safetensors was written by Python's safetensors; re-writing its tensors must give the same file.
        let refPath = Fixtures.fixture("safetensors/reference.safetensors")
        let ref = try SafetensorsFile(path: refPath)
        let entries = ref.entries.map { e in
            SafetensorsEntry(name: e.name, dtype: e.dtype, shape: e.shape) { buf in
                let src = try! ref.rawBytes(e.name)
                buf.copyMemory(from: src)
            }
        }
        let dir = Fixtures.temporaryDirectory()
        let out = "\(dir)/copy.safetensors"
        try SafetensorsWriter.write(entries, metadata: ["format": "pt"], to: out)
        #expect(try readFile(out) == readFile(refPath))
    }

    @Test(arguments: [false, true])
    func copiesTensorsFromFileRanges(directIO: Bool) throws {
        // The tensors of the reference file, copied by file range (as `t2r convert` copies same-dtype tensors),
        // give the same file as writing them from memory.
        let refPath = Fixtures.fixture("safetensors/reference.safetensors")
        let ref = try SafetensorsFile(path: refPath)
        var released: [String] = []
        let entries = try ref.entries.map { e in
            let raw = try #require(try ref.rawTensor(e.name))
            return SafetensorsEntry(name: e.name, dtype: e.dtype, shape: e.shape,
                                    copyFrom: FileRange(path: refPath, offset: raw.offset, count: raw.bytes.count)) { released.append(e.name) }
        }
        let out = "\(Fixtures.temporaryDirectory())/copy.safetensors"
        try SafetensorsWriter.write(entries, metadata: ["format": "pt"], to: out, directIO: directIO)
        #expect(try readFile(out) == readFile(refPath))
        #expect(Set(released) == Set(ref.entries.filter { $0.end > $0.begin }.map(\.name)))
    }

    @Test func aFileRangeOfTheWrongSizeIsRejected() throws {
        let refPath = Fixtures.fixture("safetensors/reference.safetensors")
        let e = SafetensorsEntry(name: "x", dtype: .F32, shape: [4], copyFrom: FileRange(path: refPath, offset: 0, count: 12))
        #expect(throws: SafetensorsError.self) {
            try SafetensorsWriter.write([e], to: "\(Fixtures.temporaryDirectory())/bad.safetensors")
        }
    }

    @Test func roundTripIsBitIdentical() throws {
        var rng = SeededRNG(seed: 7)
        let a = Tensor(zeros: [5, 3]); a.fillNormal(std: 1, rng: &rng)
        let b = Tensor(zeros: [17]); b.fillNormal(std: 100, rng: &rng)
        b.pointer[0] = .infinity; b.pointer[1] = -0.0; b.pointer[2] = .leastNonzeroMagnitude
        let c = Tensor(zeros: [2, 0])
        let dir = Fixtures.temporaryDirectory()
        let path = "\(dir)/rt.safetensors"
        try SafetensorsWriter.write([
            SafetensorsEntry(name: "a", tensor: a, dtype: .F32),
            SafetensorsEntry(name: "b.bf16", tensor: b, dtype: .BF16),
            SafetensorsEntry(name: "b.f16", tensor: b, dtype: .F16),
            SafetensorsEntry(name: "c", tensor: c),
            SafetensorsEntry(name: "ids", integers: [1, -2, 3]),
        ], metadata: ["format": "pt", "note": "round trip"], to: path)
        let f = try SafetensorsFile(path: path)
        #expect(f.metadata == ["format": "pt", "note": "round trip"])
        #expect(try f.loadFloat32("a").toArray().map(\.bitPattern) == a.toArray().map(\.bitPattern))
        let bf = try f.loadFloat32("b.bf16").toArray()
        #expect(bf.map(\.bitPattern) == b.toArray().map { bf16ToFloat(floatToBF16($0)).bitPattern })
        let h = try f.loadFloat32("b.f16").toArray()
        #expect(h.map(\.bitPattern) == b.toArray().map { Float(Float16($0)).bitPattern })
        #expect(try f.loadFloat32("c").shape == [2, 0])
        #expect(try f.loadIntegers("ids") == [1, -2, 3])
        // The header is padded to a multiple of 8, so 8-byte data is naturally aligned.
        #expect(f.dataStart % 8 == 0)
        // Writing again over an existing file replaces it atomically (no temporary left behind).
        try SafetensorsWriter.write([SafetensorsEntry(name: "a", tensor: a)], to: path)
        #expect(try SafetensorsFile(path: path).entries.map(\.name) == ["a"])
        #expect(try FileSystem.listDirectory(dir) == ["rt.safetensors"])
    }

    @Test func failingFillLeavesTheOldFileIntact() throws {
        struct Boom: Error {}
        let dir = Fixtures.temporaryDirectory()
        let path = "\(dir)/keep.safetensors"
        let a = Tensor(shape: [2], values: [1, 2])
        try SafetensorsWriter.write([SafetensorsEntry(name: "a", tensor: a)], to: path)
        let before = try readFile(path)
        #expect(throws: Boom.self) {
            try SafetensorsWriter.write([SafetensorsEntry(name: "x", dtype: .F32, shape: [4]) { _ in throw Boom() }], to: path)
        }
        #expect(try readFile(path) == before)
        #expect(try FileSystem.listDirectory(dir) == ["keep.safetensors"])
    }

    @Test func duplicateNamesAreRejected() {
        let a = Tensor(shape: [1], values: [1])
        #expect(throws: SafetensorsError.invalidTensorForWriting(file: "/tmp/x.safetensors", tensor: "a", detail: "the name is used twice")) {
            try SafetensorsWriter.write([SafetensorsEntry(name: "a", tensor: a), SafetensorsEntry(name: "a", tensor: a)],
                                        to: "/tmp/x.safetensors")
        }
    }
}

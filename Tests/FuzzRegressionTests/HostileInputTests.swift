// Hostile inputs beyond what a small fuzz input can reach: paths out of the checkpoint directory (shard
// names, HDF5 external storage and links), files far larger than their kind (sparse files), GGUF counts
// that fit the file but not memory, and the memory check's arithmetic.
import CheckpointIO
import Conversion
import Glibc
import Models
import TensorCore
import TestSupport
import Testing
import Tokenization

/// A sparse file of `size` bytes starting with `prefix` (no disk space used for the hole).
func sparseFile(_ path: String, size: Int, prefix: [UInt8] = []) throws {
    try writeFileAtomically(path, bytes: prefix)
    guard truncate(path, off_t(size)) == 0 else { throw IOFailure(path: path, operation: "extend", reason: String(cString: strerror(errno))) }
}

@Suite struct HostileInputTests {
    /// Every spelling of "a file outside the directory" in a sharded index is refused before any file is opened.
    @Test(arguments: ["../model-00001-of-00002.safetensors", "/etc/passwd", "sub/model.safetensors", "..", ".", "",
                      "a\\..\\b.safetensors", "model\u{0}.safetensors"])
    func shardNamesCannotLeaveTheDirectory(_ shard: String) throws {
        let dir = Fixtures.temporaryDirectory("t2r-hostile")
        let index = JSONValue.object([("weight_map", .object([("a.weight", .string(shard))]))]).serialized()
        try writeFileAtomically("\(dir)/model.safetensors.index.json", text: index)
        #expect(throws: SafetensorsError.unsafeShardPath(file: "\(dir)/model.safetensors.index.json", shard: shard)) {
            try ShardedSafetensors(indexPath: "\(dir)/model.safetensors.index.json")
        }
        // The checkpoint-level readers stop at the same check.
        #expect(throws: SafetensorsError.self) { try CheckpointInspection.inspect(dir) }
    }

    /// An HDF5 dataset whose raw data lives in another file (H5Pset_external) would let a downloaded
    /// checkpoint read any file on the machine as a tensor: it is refused, naming the file.
    @Test func hdf5ExternalStorageIsRefused() throws {
        let dir = Fixtures.temporaryDirectory("t2r-hostile")
        try writeFileAtomically("\(dir)/secret.bin", bytes: Array(repeating: 0x41, count: 16))
        let path = try #require(HDF5Description("file model.h5\nexternal stolen \(dir)/secret.bin\ndset fine f32 2,3\n").write(in: dir))
        let f = try HDF5File(path: path)
        #expect(f.dataset("stolen")?.externalFiles == ["\(dir)/secret.bin"])
        #expect(throws: HDF5Error.externalData(file: path, dataset: "stolen", sources: ["\(dir)/secret.bin"])) { try f.loadFloat32("stolen") }
        #expect(try f.loadFloat32("fine").shape == [2, 3])
    }

    /// HDF5 external links (to other files) are not followed: they are not datasets of this file.
    @Test func hdf5ExternalLinksAreNotFollowed() throws {
        let dir = Fixtures.temporaryDirectory("t2r-hostile")
        _ = try #require(HDF5Description("file other.h5\ndset secret f32 4\n").write(in: dir))
        let path = try #require(HDF5Description("file model.h5\nelink link \(dir)/other.h5 /secret\ndset own f32 2\n").write(in: dir))
        let f = try HDF5File(path: path)
        #expect(f.datasets.map(\.path) == ["own"])
        #expect(throws: HDF5Error.datasetNotFound(file: path, dataset: "link")) { try f.loadFloat32("link") }
    }

    /// A huge file where a small JSON file belongs (a weights file renamed config.json, a device) is refused
    /// before it is read.
    @Test func oversizedJSONFilesAreRefusedUnread() throws {
        let dir = Fixtures.temporaryDirectory("t2r-hostile")
        try sparseFile("\(dir)/config.json", size: FileLimits.json + 1, prefix: Array("{\"model_type\": \"mistral\"".utf8))
        #expect(throws: FileTooLarge(path: "\(dir)/config.json", size: FileLimits.json + 1, limit: FileLimits.json)) {
            try TransformerConfig.load(huggingFaceConfigAt: "\(dir)/config.json")
        }
        #expect(throws: FileTooLarge.self) { try GSAConfig.load("\(dir)/config.json") }
        try sparseFile("\(dir)/model.safetensors.index.json", size: FileLimits.json + 1)
        #expect(throws: FileTooLarge.self) { try ShardedSafetensors(indexPath: "\(dir)/model.safetensors.index.json") }
        try sparseFile("\(dir)/tokenizer_config.json", size: FileLimits.json + 1)
        #expect(throws: FileTooLarge.self) { try TokenizerConfig.loadHuggingFace("\(dir)/tokenizer_config.json") }
    }

    /// A GGUF metadata array whose count fits in a (sparse) file but would cost gigabytes as values.
    @Test func ggufArrayCountIsCapped() throws {
        let dir = Fixtures.temporaryDirectory("t2r-hostile")
        var h: [UInt8] = Array("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { h += $0 } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { h += $0 } }
        u32(3); u64(0); u64(1)  // version, tensors, metadata entries
        let key = Array("t2r.huge".utf8)
        u64(UInt64(key.count)); h += key
        u32(9); u32(0)  // ARRAY of UINT8
        let count = UInt64(GGUFFile.maxArrayCount + 1)
        u64(count)
        try sparseFile("\(dir)/huge.gguf", size: h.count + Int(count) + 64, prefix: h)
        #expect(throws: GGUFError.countTooLarge(file: "\(dir)/huge.gguf", what: "the element count of `t2r.huge`", count: count,
                                                offset: h.count - 8, limit: UInt64(GGUFFile.maxArrayCount))) {
            try GGUFFile(path: "\(dir)/huge.gguf")
        }
    }

    @Test func memoryCheckArithmetic() throws {
        #expect(MemoryBudget.parseSize("8G") == 8 << 30)
        #expect(MemoryBudget.parseSize("512m") == 512 << 20)
        #expect(MemoryBudget.parseSize("12345") == 12345)
        #expect(MemoryBudget.parseSize("x") == nil && MemoryBudget.parseSize("-1") == nil && MemoryBudget.parseSize("99999999999T") == nil)
        #expect(MemoryBudget.floatBytes(Int.max / 2) == Int.max)
        #expect(MemoryBudget.format(1_500_000_000) == "1.5 GB")
        let e = InsufficientMemory(what: "loading x", needed: 3 << 30, available: 1 << 30, source: "test")
        #expect(throws: e) { try MemoryBudget.check(3 << 30, for: "loading x", available: (1 << 30, "test")) }
        #expect(e.description.contains("loading x needs about 3.2 GB of memory, but only 1.0 GB is available (test)"))
        try MemoryBudget.check(1 << 30, for: "fits", available: (1 << 30, "test"))
        try MemoryBudget.check(Int.max, for: "unknown machine", available: nil)
        // This machine reports something.
        let measured = try #require(MemoryBudget.available())
        #expect(measured.bytes > 0)
    }
}

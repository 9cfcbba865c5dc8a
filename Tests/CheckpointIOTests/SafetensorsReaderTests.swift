import CheckpointIO
import Foundation
import TensorCore
import TestSupport
import Testing

private func malformed(_ name: String) -> String { Fixtures.fixture("safetensors/malformed/\(name).safetensors") }

/// Each malformed fixture with the exact error the reader must raise (tools/fixtures/make_safetensors_fixtures.py).
private let malformedCases: [(String, @Sendable (String) -> SafetensorsError)] = [
    ("header_too_small", { .headerTooSmall(file: $0, fileSize: 2) }),
    ("header_too_large", { .headerTooLarge(file: $0, headerLength: 100_000_001) }),
    ("invalid_header_length", { .invalidHeaderLength(file: $0, headerLength: 100, fileSize: 10) }),
    ("invalid_utf8", { .invalidHeaderUTF8(file: $0) }),
    ("duplicate_name", { .duplicateTensorName(file: $0, tensor: "t") }),
    ("unknown_dtype", { .unknownDtype(file: $0, tensor: "t", dtype: "F17") }),
    ("lowercase_dtype", { .unknownDtype(file: $0, tensor: "t", dtype: "f32") }),
    ("metadata_not_string", { .invalidMetadata(file: $0, detail: "value of \"a\" is a number, expected a string") }),
    ("offset_hole", { .invalidOffset(file: $0, tensor: "t") }),
    ("offset_overlap", { .invalidOffset(file: $0, tensor: "b") }),
    ("offset_reversed", { .invalidOffset(file: $0, tensor: "t") }),
    ("shape_overflow", { .validationOverflow(file: $0, tensor: "t") }),
    ("bytes_overflow", { .validationOverflow(file: $0, tensor: "t") }),
    ("misaligned_slice", { .misalignedSlice(file: $0, tensor: "t") }),
    ("tensor_invalid_info", { .tensorInvalidInfo(file: $0, tensor: "t", expectedBytes: 12, actualBytes: 8) }),
    ("trailing_byte", { .metadataIncompleteBuffer(file: $0, expectedSize: 70, fileSize: 71) }),
    ("truncated_data", { .metadataIncompleteBuffer(file: $0, expectedSize: 70, fileSize: 69) }),
]

/// Malformed fixtures whose error is invalid JSON / schema, with the exact detail.
private let jsonCases: [(String, String)] = [
    ("invalid_json", "unexpected end of input in object at byte 1"),
    ("not_an_object", "the header is an array, expected an object"),
    ("missing_shape", "tensor `t`: missing field shape"),
    ("offsets_arity", "tensor `t`: data_offsets has 3 elements, expected 2"),
    ("negative_shape", "tensor `t`: shape entry -2 is not a non-negative integer"),
    ("float_offset", "tensor `t`: data_offsets entries must be non-negative integers"),
]

@Suite struct SafetensorsReaderTests {
    @Test(arguments: malformedCases.map(\.0))
    func malformedFileRaisesItsError(_ name: String) throws {
        let path = malformed(name)
        let expected = malformedCases.first { $0.0 == name }!.1(path)
        do {
            _ = try SafetensorsFile(path: path)
            Issue.record("\(name): opened without error, expected \(expected)")
        } catch let e as SafetensorsError {
            #expect(e == expected)
            #expect(e.description.hasPrefix(path), "the message names the file: \(e)")
        }
    }

    @Test(arguments: jsonCases.map(\.0))
    func malformedJSONRaisesInvalidHeaderJSON(_ name: String) throws {
        let path = malformed(name)
        let fragment = jsonCases.first { $0.0 == name }!.1  // the whole detail
        do {
            _ = try SafetensorsFile(path: path)
            Issue.record("\(name): opened without error")
        } catch let SafetensorsError.invalidHeaderJSON(file, detail) {
            #expect(file == path)
            #expect(detail == fragment)
        }
    }

    @Test func everyMalformedFixtureIsCovered() throws {
        let files = try FileSystem.listDirectory(Fixtures.fixture("safetensors/malformed")).map { String($0.dropLast(12)) }
        let covered = Set(malformedCases.map(\.0) + jsonCases.map(\.0))
        #expect(Set(files) == covered)
    }

    @Test func acceptedEdgeCases() throws {
        let dir = Fixtures.fixture("safetensors/accepted")
        let ws = try SafetensorsFile(path: "\(dir)/leading_whitespace.safetensors")
        #expect(try ws.loadFloat32("t").toArray() == [1.5, -2.0])
        #expect(try SafetensorsFile(path: "\(dir)/empty.safetensors").entries.isEmpty)
        let scalar = try SafetensorsFile(path: "\(dir)/scalar.safetensors")
        #expect(try scalar.loadFloat32("t").shape == [])
        #expect(try scalar.loadFloat32("t").toArray() == [1.5])
        let zero = try SafetensorsFile(path: "\(dir)/zero_size.safetensors")
        #expect(try zero.loadFloat32("t").shape == [2, 0])
    }

    @Test func tensorNotFoundNamesTheTensor() throws {
        let f = try SafetensorsFile(path: Fixtures.fixture("safetensors/reference.safetensors"))
        #expect(throws: SafetensorsError.tensorNotFound(file: f.path, tensor: "nope")) { try f.loadFloat32("nope") }
        #expect(throws: SafetensorsError.unsupportedDtype(file: f.path, tensor: "ids", dtype: "I64", wanted: "float32")) {
            try f.loadFloat32("ids")
        }
    }

    @Test func valuesMatchPythonSafetensors() throws {
        let ref = try JSONParser.parse(try readFile(Fixtures.fixture("safetensors/reference.json")))
        func doubles(_ key: String) -> [Double] {
            ref[key]!.arrayValue!.map { v in
                if let d = v.doubleValue { return d }
                switch v.stringValue! {
                case "inf": return .infinity
                case "-inf": return -.infinity
                default: return .nan
                }
            }
        }
        let f = try SafetensorsFile(path: Fixtures.fixture("safetensors/reference.safetensors"))
        #expect(f.metadata == ["format": "pt"])
        #expect(try f.loadFloat32("w.f32").shape == [3, 5])
        #expect(try f.loadFloat32("w.f32").toArray().map(Double.init) == doubles("w.f32"))
        #expect(try f.loadFloat32("w.f16").toArray().map(Double.init) == doubles("w.f16"))
        #expect(try f.loadFloat32("b").toArray().map(Double.init) == doubles("b"))
        #expect(try f.loadIntegers("ids") == ref["ids"]!.arrayValue!.map { $0.intValue! })
        #expect(try f.loadIntegers("ids32") == ref["ids32"]!.arrayValue!.map { $0.intValue! })
        #expect(try f.loadIntegers("mask") == ref["mask"]!.arrayValue!.map { $0.intValue! })
        #expect(f.entries.first { $0.name == "ids32" }?.dtype == .I32 && f.entries.first { $0.name == "mask" }?.shape == [2, 2])
        #expect(throws: SafetensorsError.unsupportedDtype(file: f.path, tensor: "mask", dtype: "U8", wanted: "float32")) {
            try f.loadFloat32("mask")
        }
        let bf = try SafetensorsFile(path: Fixtures.fixture("safetensors/bf16.safetensors"))
        #expect(try bf.loadFloat32("x").toArray().map(Double.init) == doubles("bf16"))
    }

    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func tinyMistralValuesMatchPythonSafetensors() throws {
        let ref = try JSONParser.parse(try readFile(Fixtures.fixture("tiny-mistral-values.json")))
        let store = try ShardedSafetensors(indexPath: Fixtures.shared("checkpoints/tiny-mistral/model.safetensors.index.json"))
        #expect(store.tensorInfos.count == 57)
        #expect(store.tensorInfos.allSatisfy { $0.storageType == "BF16" })
        #expect(store.warnings.isEmpty)
        for (name, r) in ref["tensors"]!.objectMembers! {
            let t = try store.loadFloat32(name)
            #expect(t.shape == r["shape"]!.arrayValue!.map { $0.intValue! }, "\(name)")
            let a = t.toArray()
            #expect(Array(a.prefix(16)).map(Double.init) == r["first"]!.arrayValue!.map { $0.doubleValue! }, "\(name)")
            #expect(Array(a.suffix(4)).map(Double.init) == r["last"]!.arrayValue!.map { $0.doubleValue! }, "\(name)")
            let sum = a.reduce(0.0) { $0 + Double($1) }
            #expect(abs(sum - r["sum"]!.doubleValue!) <= 1e-9 * max(1, abs(r["sum_abs"]!.doubleValue!)), "\(name): sum \(sum)")
        }
    }
}

@Suite struct ShardedSafetensorsTests {
    private func dir(_ name: String) -> String { Fixtures.fixture("safetensors/sharded/\(name)") }
    private func index(_ name: String) -> String { "\(dir(name))/model.safetensors.index.json" }

    @Test func goodIndexOpensAndLoads() throws {
        let s = try ShardedSafetensors(indexPath: index("good"))
        #expect(s.tensorNames.sorted() == ["a.weight", "b.weight", "c.weight"])
        #expect(try s.loadFloat32("c.weight").toArray() == [0, 1, 2, 3, 4, 5])
        #expect(s.warnings.isEmpty)
    }

    @Test func crossChecksFail() {
        #expect(throws: SafetensorsError.missingShard(file: index("missing_shard"), shard: "model-00002-of-00002.safetensors")) {
            try ShardedSafetensors(indexPath: index("missing_shard"))
        }
        #expect(throws: SafetensorsError.tensorMissingFromShard(
            file: index("tensor_missing_from_shard"), tensor: "d.weight", shard: "model-00002-of-00002.safetensors")) {
            try ShardedSafetensors(indexPath: index("tensor_missing_from_shard"))
        }
        #expect(throws: SafetensorsError.tensorNotInIndex(
            file: index("tensor_not_in_index"), tensor: "b.weight", shard: "model-00001-of-00002.safetensors")) {
            try ShardedSafetensors(indexPath: index("tensor_not_in_index"))
        }
        #expect(throws: SafetensorsError.unsafeShardPath(file: index("unsafe_path"), shard: "../model-00001-of-00002.safetensors")) {
            try ShardedSafetensors(indexPath: index("unsafe_path"))
        }
        #expect(throws: SafetensorsError.invalidIndex(file: index("invalid_index"), detail: "missing object \"weight_map\"")) {
            try ShardedSafetensors(indexPath: index("invalid_index"))
        }
        #expect(throws: SafetensorsError.tensorInSeveralShards(
            file: index("duplicate_across_shards"), tensor: "a.weight",
            shards: ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])) {
            try ShardedSafetensors(indexPath: index("duplicate_across_shards"))
        }
    }
}

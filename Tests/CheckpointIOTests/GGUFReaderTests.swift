import CheckpointIO
import Foundation
import TensorCore
import TestSupport
import Testing

private func gguf(_ name: String) -> String { Fixtures.fixture("gguf/\(name)") }
private func malformed(_ name: String) -> String { gguf("malformed/\(name).gguf") }

/// Each malformed fixture (tools/fixtures/make_gguf_fixtures.py) with the exact error the reader must raise.
private let malformedCases: [(String, @Sendable (String) -> GGUFError)] = [
    ("empty", { .truncated(file: $0, what: "the magic number", offset: 0, needed: 4) }),
    ("bad_magic", { .badMagic(file: $0, found: Array("GGML".utf8)) }),
    ("version_1", { .unsupportedVersion(file: $0, version: 1) }),
    ("version_big_endian", { .unsupportedVersion(file: $0, version: 0x0300_0000) }),
    ("truncated_header", { .truncated(file: $0, what: "the tensor count", offset: 8, needed: 8) }),
    ("truncated_metadata", { .countTooLarge(file: $0, what: "the length of a metadata key", count: 20, offset: 24, limit: 8) }),
    ("truncated_tensor_info", { .truncated(file: $0, what: "the data offset of tensor `a`", offset: 93, needed: 8) }),
    ("truncated_data", { .tensorOutOfBounds(file: $0, tensor: "b", offset: 32, byteCount: 32, dataSize: 60) }),
    ("kv_count_huge", { .countTooLarge(file: $0, what: "the metadata key/value count", count: 1 << 62, offset: 16, limit: 15) }),
    ("tensor_count_huge", { .countTooLarge(file: $0, what: "the tensor count", count: 1 << 60, offset: 8, limit: 6) }),
    ("string_length_huge", { .countTooLarge(file: $0, what: "the length of a metadata key", count: 1 << 60, offset: 24, limit: 32) }),
    ("array_count_huge", { .countTooLarge(file: $0, what: "the element count of `arr`", count: 1 << 61, offset: 87, limit: 20) }),
    ("unknown_value_type", { .unknownValueType(file: $0, key: "weird", type: 13) }),
    ("bad_bool", { .invalidValue(file: $0, key: "flag", detail: "BOOL byte at 84 is 2, expected 0 or 1") }),
    ("nested_too_deep", { .invalidValue(file: $0, key: "deep", detail: "arrays nested more than 16 deep at byte 276") }),
    ("invalid_utf8_key", { .invalidUTF8(file: $0, what: "a metadata key", offset: 76) }),
    ("duplicate_key", { .duplicateKey(file: $0, key: "general.architecture") }),
    ("bad_alignment", { .badAlignment(file: $0, detail: "is 3, expected a power of two (32 by default)") }),
    ("alignment_not_integer", { .badAlignment(file: $0, detail: "is STRING 32, expected an unsigned integer") }),
    ("unknown_ggml_type", { .unknownTensorType(file: $0, tensor: "a", type: 99) }),
    ("removed_ggml_type", { .removedTensorType(file: $0, tensor: "a", type: 4, name: "Q4_2") }),
    ("n_dims_5", { .invalidTensorInfo(file: $0, tensor: "a", detail: "n_dims is 5, at most 4 are allowed") }),
    ("negative_dim", { .invalidTensorInfo(file: $0, tensor: "a", detail: "ne[0] = 9223372036854775808 is negative as a signed 64-bit integer") }),
    ("shape_overflow", { .invalidTensorInfo(file: $0, tensor: "a", detail: "the element count of shape ne = [1099511627776, 1099511627776] overflows") }),
    ("byte_size_overflow", { .invalidTensorInfo(file: $0, tensor: "a", detail: "the byte size of shape ne = [4611686018427387904] in F32 overflows") }),
    ("row_not_whole_blocks", { .invalidTensorInfo(file: $0, tensor: "a", detail: "ne[0] = 33 is not a multiple of the Q8_0 block size 32") }),
    ("name_too_long", { .invalidTensorInfo(file: $0, tensor: String(repeating: "a", count: 65), detail: "the name has 65 bytes, at most 64 are allowed") }),
    ("duplicate_tensor", { .duplicateTensor(file: $0, tensor: "a") }),
    ("misaligned_offset", { .misalignedTensor(file: $0, tensor: "b", offset: 16, alignment: 32) }),
    ("offset_past_eof", { .tensorOutOfBounds(file: $0, tensor: "b", offset: 1 << 40, byteCount: 32, dataSize: 64) }),
    ("overlapping_tensors", { .overlappingTensors(file: $0, first: "a", second: "b") }),
]

@Suite struct GGUFReaderTests {
    @Test func everyMalformedFixtureIsCovered() throws {
        let names = try FileSystem.listDirectory(gguf("malformed")).map { String($0.dropLast(5)) }
        #expect(Set(names) == Set(malformedCases.map(\.0)))
    }

    @Test(arguments: malformedCases.map(\.0))
    func malformedFileRaisesItsError(_ name: String) throws {
        let path = malformed(name)
        let expected = malformedCases.first { $0.0 == name }!.1(path)
        do {
            _ = try GGUFFile(path: path)
            Issue.record("\(name): opened without error, expected \(expected)")
        } catch let e as GGUFError {
            #expect(e == expected, "\(name): \(e)")
            #expect(e.description.hasPrefix(path), "the message names the file: \(e)")
            #expect(e.category == .badInput)
        }
    }

    @Test func messagesAreSpecific() {
        #expect(GGUFError.unsupportedVersion(file: "f", version: 0x0300_0000).description.contains("big-endian"))
        #expect(GGUFError.unsupportedVersion(file: "f", version: 1).description.contains("version 1 is not supported"))
        #expect(GGUFError.unsupportedTensorType(file: "f", tensor: "t", type: "IQ2_XXS").description
            == "f: tensor `t` has ggml type IQ2_XXS, which t2r cannot decode (supported: F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, F64, BF16)")
    }

    @Test func acceptedEdgeCases() throws {
        let v2 = try GGUFFile(path: gguf("accepted/version2.gguf"))
        #expect(v2.version == 2)
        #expect(try v2.loadFloat32("b").toArray() == [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(try v2.loadFloat32("b").shape == [2, 4])

        let none = try GGUFFile(path: gguf("accepted/no_tensors.gguf"))
        #expect(none.tensors.isEmpty)
        #expect(none.architecture == "test")

        let a64 = try GGUFFile(path: gguf("accepted/empty_array_alignment_64.gguf"))
        #expect(a64.alignment == 64)
        #expect(a64.dataStart % 64 == 0)
        #expect(a64["empty"]?.stringArray == [])
        #expect(try a64.int("count64") == 7)
        #expect(try a64.loadFloat32("a").toArray() == [0, 1, 2, 3])
        #expect(try a64.loadFloat32("zero").shape == [3, 0])
        #expect(try a64.loadFloat32("b").toArray() == [0, 1, 2, 3, 4, 5, 6, 7])
    }

    @Test func tinyLlamaHeaderAndMetadata() throws {
        let f = try GGUFFile(path: gguf("tiny_llama.gguf"))
        #expect(f.version == 3)
        #expect(f.alignment == 32)
        #expect(f.tensors.count == 21)
        #expect(f.architecture == "llama")
        #expect(try f.int("llama.block_count") == 2)
        #expect(try f.optionalDouble("llama.rope.freq_base") == 500000)
        #expect(try f.optionalDouble("llama.attention.layer_norm_rms_epsilon") == 1e-6)
        #expect(try f.optionalString("tokenizer.ggml.pre") == "smollm")
        #expect(try f.optionalBool("tokenizer.ggml.add_bos_token") == true)
        let tokens = try #require(try f.optionalStringArray("tokenizer.ggml.tokens"))
        #expect(tokens.count == 288)
        #expect(tokens[0] == "<|endoftext|>")
        #expect(tokens.contains("Ġ"))
        let types = try #require(try f.optionalIntegerArray("tokenizer.ggml.token_type"))
        #expect(types.prefix(4) == [3, 3, 3, 1])
        #expect(try f.optionalStringArray("tokenizer.ggml.merges")?.first?.contains(" ") == true)
        #expect(try f.optionalStringArray("no.such.key") == nil)

        // Every value type.
        #expect(f["t2r.test.u8"] == .uint8(200))
        #expect(f["t2r.test.i8"] == .int8(-100))
        #expect(f["t2r.test.u16"] == .uint16(60000))
        #expect(f["t2r.test.i16"] == .int16(-30000))
        #expect(f["t2r.test.u32"] == .uint32(4_000_000_000))
        #expect(f["t2r.test.i32"] == .int32(-2_000_000_000))
        #expect(f["t2r.test.f32"] == .float32(0.1))
        #expect(f["t2r.test.f32"]?.doubleValue == 0.1)
        #expect(f["t2r.test.bool"] == .bool(true))
        #expect(f["t2r.test.string"] == .string("héllo wörld ✓"))
        #expect(f["t2r.test.u64"] == .uint64(18_000_000_000_000_000_000))
        #expect(f["t2r.test.u64"]?.intValue == nil)
        #expect(f["t2r.test.i64"] == .int64(-9_000_000_000_000_000_000))
        #expect(f["t2r.test.f64"] == .float64(2.718281828459045))
        #expect(f["t2r.test.u64_array"]?.integerArray == [1, 2, 3])
        #expect(f["t2r.test.bool_array"] == .array(GGUFArray(elementType: .bool, values: [.bool(true), .bool(false), .bool(true)])))
        #expect(f["t2r.test.f64_array"]?.floatArray == [0.5, -1.25])
        let nested = try #require(f["t2r.test.nested"]?.arrayValue)
        #expect(nested.elementType == .array)
        #expect(nested.count == 3)
        #expect(nested[0].integerArray == [1, 2])
        #expect(nested[1].arrayValue?.elementType == .int32)
        #expect(nested[2].stringArray == ["a", "b", "c"])
        #expect(f["t2r.test.nested"]?.typeName == "ARRAY[ARRAY]")
        #expect(f.metadata["t2r.test.u32"] == "4000000000")
        #expect(f.metadata["tokenizer.ggml.tokens"] == "[STRING × 288]")

        // Typed accessors refuse the wrong type, naming the key.
        #expect(throws: GGUFError.wrongValueType(file: f.path, key: "t2r.test.string", expected: "an integer",
                                                 found: "STRING héllo wörld ✓")) { try f.int("t2r.test.string") }
        #expect(throws: GGUFError.missingKey(file: f.path, key: "llama.nothing")) { try f.int("llama.nothing") }
    }

    @Test func tensorInfosUseRowMajorShapes() throws {
        let f = try GGUFFile(path: gguf("tiny_llama.gguf"))
        let q = try f.tensor("blk.0.attn_q.weight")
        #expect(q.type == .q4_0)
        #expect(q.dims == [64, 64])
        let k = try #require(f.info("blk.0.attn_k.weight"))
        #expect(k.shape == [32, 64])
        #expect(k.storageType == "Q4_1")
        #expect(k.byteCount == 32 * 2 * 20)
        #expect(f.info("token_embd.weight")?.shape == [288, 64])
        #expect(f.info("output_norm.weight")?.shape == [64])
        #expect(throws: GGUFError.tensorNotFound(file: f.path, tensor: "nope")) { try f.loadFloat32("nope") }
    }
}

// Malformed, truncated and unsupported tokenizer files give a TokenizerError that names the file, the
// key or protobuf field and what was expected — never a crash.
import TensorCore
import Testing
@testable import Tokenization

@Suite struct MalformedTokenizerTests {
    /// The error `body` throws (or nil), for checking its text.
    func error(_ body: () throws -> Void) -> TokenizerError? {
        do { try body() } catch let e as TokenizerError { return e } catch { Issue.record("unexpected error type: \(error)") }
        return nil
    }

    // MARK: tokenizer.json

    /// A small valid tokenizer.json with `patch` applied to the top-level object (key → JSON text, "" removes).
    func json(_ patch: [String: String] = [:], model: [String: String] = [:]) -> [UInt8] {
        var modelFields: [(String, String)] = [
            ("type", #""BPE""#), ("unk_token", #""<unk>""#), ("byte_fallback", "false"), ("fuse_unk", "false"),
            ("vocab", #"{"<unk>": 0, "<s>": 1, "a": 2, "b": 3, "ab": 4}"#), ("merges", #"["a b"]"#),
        ]
        for (k, v) in model {
            modelFields.removeAll { $0.0 == k }
            if !v.isEmpty { modelFields.append((k, v)) }
        }
        var top: [(String, String)] = [
            ("added_tokens", #"[{"id": 1, "content": "<s>", "special": true, "normalized": false, "lstrip": false, "rstrip": false, "single_word": false}]"#),
            ("normalizer", "null"), ("pre_tokenizer", "null"), ("post_processor", "null"), ("decoder", "null"),
            ("model", "{" + modelFields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"),
        ]
        for (k, v) in patch {
            top.removeAll { $0.0 == k }
            if !v.isEmpty { top.append((k, v)) }
        }
        return Array(("{" + top.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}").utf8)
    }

    func jsonError(_ patch: [String: String] = [:], model: [String: String] = [:]) -> String {
        error { _ = try TokenizerJSON.parse(json(patch, model: model), file: "t.json") }?.description ?? "no error"
    }

    @Test func theBaseFixtureLoads() throws {
        let tok = try TokenizerJSON.parse(json(), file: "t.json")
        #expect(tok.encode("ab<s>a", addSpecialTokens: false, parseSpecial: true) == [4, 1, 2])
    }

    @Test func malformedTokenizerJSON() {
        #expect(error { _ = try TokenizerJSON.parse(Array("{\"model\": ".utf8), file: "t.json") }?.description.hasPrefix("t.json: not valid JSON") == true)
        #expect(error { _ = try TokenizerJSON.parse(Array("[]".utf8), file: "t.json") }?.description == "t.json: expected an object, found array")
        #expect(jsonError(["model": ""]) == "t.json: model: missing")
        #expect(jsonError(model: ["vocab": ""]) == "t.json: model.vocab: missing")
        #expect(jsonError(model: ["vocab": "[]"]) == "t.json: model.vocab: expected an object of token → id, found array")
        #expect(jsonError(model: ["vocab": #"{"a": -1}"#]) == #"t.json: model.vocab["a"]: expected a non-negative integer id, found -1"#)
        #expect(jsonError(model: ["vocab": #"{"a": 0, "b": 0}"#]) == #"t.json: model.vocab: id 0 is given to both "a" and "b""#)
        #expect(jsonError(model: ["vocab": #"{"a": 2000000000}"#]) == "t.json: model.vocab: ids are too sparse: largest id 2000000000 for 1 tokens")
        #expect(jsonError(["added_tokens": #"[{"id": 999999999, "content": "<x>"}]"#])
            == "t.json: added_tokens[0].id: id 999999999 is far beyond the vocabulary (5 tokens)")
        #expect(jsonError(["post_processor": #"{"type": "RobertaProcessing", "cls": ["<s>", 70], "sep": ["</s>", 2]}"#])
            == "t.json: post_processor: special token id 70 is not below the vocabulary size 5")
        #expect(jsonError(model: ["merges": #"["a c"]"#]) == #"t.json: model.merges[0]: token "c" is not in the vocabulary"#)
        #expect(jsonError(model: ["merges": #"["b a"]"#]) == #"t.json: model.merges[0]: merged token "ba" is not in the vocabulary"#)
        #expect(jsonError(model: ["merges": #"["a  b"]"#]) == #"t.json: model.merges[0]: expected "left right" (one space), found "a  b""#)
        #expect(jsonError(model: ["merges": #"[["a"]]"#]) == #"t.json: model.merges[0]: expected a pair of strings, found ["a"]"#)
        #expect(jsonError(model: ["merges": "3"]) == "t.json: model.merges: expected an array, found number")
        #expect(jsonError(model: ["unk_token": #""<zz>""#]) == #"t.json: model.unk_token: "<zz>" is not in the vocabulary"#)
        #expect(jsonError(model: ["byte_fallback": "1"]) == "t.json: model.byte_fallback: expected true or false, found 1")
        #expect(jsonError(["added_tokens": #"[{"content": "x"}]"#]) == "t.json: added_tokens[0].id: missing")
        #expect(jsonError(["post_processor": #"{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<q>"}}, {"Sequence": {"id": "A"}}]}"#])
            == #"t.json: post_processor.single[0].SpecialToken.id: unknown special token "<q>""#)
        #expect(jsonError(["post_processor": #"{"type": "TemplateProcessing", "single": []}"#]) == "t.json: post_processor.single: the template has no Sequence A")
        #expect(jsonError(["decoder": #"{"type": "Strip", "content": "ab", "start": 1, "stop": 0}"#]) == #"t.json: decoder.content: expected one character, found "ab""#)
        #expect(jsonError(["pre_tokenizer": #"{"type": "Metaspace", "prepend_scheme": "sometimes"}"#])
            == #"t.json: pre_tokenizer.prepend_scheme: expected always, first or never, found "sometimes""#)
    }

    @Test func unsupportedFeaturesAreNamed() {
        #expect(jsonError(model: ["type": #""WordPiece""#]) == #"t.json: model.type: unsupported: "WordPiece" models (only BPE is implemented)"#)
        #expect(jsonError(model: ["dropout": "0.1"]) == "t.json: model.dropout: unsupported: BPE dropout 0.1 (sampling is not implemented)")
        #expect(jsonError(model: ["continuing_subword_prefix": "\"##\""]) == "t.json: model.continuing_subword_prefix: unsupported: \"##\" (only null is implemented)")
        #expect(jsonError(["normalizer": #"{"type": "NFKC"}"#]) == #"t.json: normalizer.type: unsupported: normalizer "NFKC""#)
        #expect(jsonError(["normalizer": #"{"type": "Sequence", "normalizers": [{"type": "Lowercase"}]}"#])
            == #"t.json: normalizer.normalizers[0].type: unsupported: normalizer "Lowercase""#)
        #expect(jsonError(["normalizer": #"{"type": "Replace", "pattern": {"Regex": " +"}, "content": " "}"#])
            == #"t.json: normalizer.pattern.Regex: unsupported: regex pattern " +" (only String patterns here)"#)
        #expect(jsonError(["pre_tokenizer": #"{"type": "Whitespace"}"#]) == #"t.json: pre_tokenizer.type: unsupported: pre-tokenizer "Whitespace""#)
        #expect(jsonError(["pre_tokenizer": #"{"type": "Split", "pattern": {"Regex": "\\d+"}, "behavior": "Isolated", "invert": false}"#])
            == #"t.json: pre_tokenizer: unsupported: Split with pattern "\\d+", behavior Isolated, invert false (only the GPT-2 regex, Isolated, is implemented)"#)
        #expect(jsonError(["added_tokens": #"[{"id": 1, "content": "<s>", "lstrip": true}]"#])
            == #"t.json: added_tokens[0].lstrip: unsupported: added token "<s>" sets lstrip (only false is implemented)"#)
        #expect(jsonError(["decoder": #"{"type": "WordPiece"}"#]) == #"t.json: decoder.type: unsupported: decoder "WordPiece""#)
        #expect(jsonError(["post_processor": #"{"type": "Custom"}"#]) == #"t.json: post_processor.type: unsupported: post-processor "Custom""#)
    }

    @Test func truncatedRealFileIsAnError() throws {
        let bytes = try readFile(TokenizationFixtures.path("toy-sp/tokenizer.json"))
        for cut in [0, 1, 100, bytes.count / 2, bytes.count - 1] {
            let e = error { _ = try TokenizerJSON.parse(Array(bytes[0..<cut]), file: "cut.json") }
            #expect(e?.description.hasPrefix("cut.json: not valid JSON") == true, "cut at \(cut)")
        }
        #expect(error { _ = try TokenizerJSON.load("/nonexistent/tokenizer.json") }?.kind == .notFound)
    }

    /// Canonically equivalent but distinct tokens ("é" and "e" + U+0301) stay distinct: keys are bytes.
    @Test func canonicallyEquivalentTokensStayDistinct() throws {
        let tok = try TokenizerJSON.parse(json(["added_tokens": "[]"], model: ["vocab": "{\"<unk>\": 0, \"\u{E9}\": 1, \"e\": 2, \"\u{301}\": 3, \"e\u{301}\": 4}",
                                                       "merges": "[\"e \u{301}\"]"]), file: "t.json")
        #expect(tok.encode("\u{E9}", addSpecialTokens: false, parseSpecial: false) == [1])
        #expect(tok.encode("e\u{301}", addSpecialTokens: false, parseSpecial: false) == [4])
        #expect(tok.id(ofToken: "e\u{301}") == 4 && tok.id(ofToken: "\u{E9}") == 1)
    }

    // MARK: SentencePiece protobuf

    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        repeat {
            out.append(UInt8(v & 0x7F) | (v >= 0x80 ? 0x80 : 0))
            v >>= 7
        } while v > 0
        return out
    }
    static func field(_ n: Int, _ wt: Int, _ payload: [UInt8]) -> [UInt8] { varint(UInt64(n << 3 | wt)) + payload }
    static func bytesField(_ n: Int, _ b: [UInt8]) -> [UInt8] { field(n, 2, varint(UInt64(b.count)) + b) }
    static func piece(_ s: String, score: Float = 0, type: Int = 1) -> [UInt8] {
        var b = bytesField(1, Array(s.utf8))
        withUnsafeBytes(of: score.bitPattern.littleEndian) { b += field(2, 5, Array($0)) }
        return bytesField(1, b + field(3, 0, varint(UInt64(type))))
    }
    static let bpeTrainer = bytesField(2, field(3, 0, varint(2)))

    func protoError(_ bytes: [UInt8]) -> String {
        error { _ = try SentencePieceModel.parse(bytes, file: "m.model").tokenizer(file: "m.model") }?.description ?? "no error"
    }

    @Test func handMadeProtobufParses() throws {
        let m = try SentencePieceModel.parse(Self.piece("<unk>", type: 2) + Self.piece("a", score: -1.5) + Self.bpeTrainer, file: "m.model")
        #expect(m.pieces == [SentencePieceModel.Piece(piece: "<unk>", score: 0, type: .unknown),
                             SentencePieceModel.Piece(piece: "a", score: -1.5, type: .normal)])
        #expect(m.modelType == .bpe && m.addDummyPrefix && m.removeExtraWhitespaces && !m.byteFallback)
        // A negative int32 (pad_id = -1) is a 10-byte varint.
        let padded = try SentencePieceModel.parse(Self.piece("a") + Self.bytesField(2, Self.field(43, 0, Self.varint(UInt64(bitPattern: -1)))), file: "m")
        #expect(padded.padId == -1)
    }

    @Test func malformedProtobuf() throws {
        let ok = Self.piece("<unk>", type: 2) + Self.piece("a") + Self.bpeTrainer
        #expect(protoError([]) == "m.model: ModelProto.pieces: no pieces: not a SentencePiece model")
        #expect(protoError(Self.piece("a")) == "m.model: ModelProto.trainer_spec: missing")
        #expect(protoError(Array(ok.dropLast())) == "m.model: ModelProto.trainer_spec: length 2 at byte 29 runs past the end of the message (1 bytes left)")
        #expect(protoError([0x0A, 0xFF]) == "m.model: ModelProto.pieces[0]: truncated varint at byte 1")
        #expect(protoError([0x0A] + [UInt8](repeating: 0xFF, count: 11)) == "m.model: ModelProto.pieces[0]: varint longer than 64 bits at byte 1")
        #expect(protoError([0x0E, 0x00]) == "m.model: ModelProto: invalid wire type 6 at byte 0")
        #expect(protoError([0x0B]) == "m.model: ModelProto.field 1: wire type 3, expected 2".replacingOccurrences(of: "field 1", with: "pieces[0]"))
        #expect(protoError(Self.field(9, 3, [])) == "m.model: ModelProto.field 9: deprecated group encoding (wire type 3) is not supported")
        #expect(protoError(Self.bytesField(1, Self.bytesField(1, [0xC3, 0x28]))) == "m.model: ModelProto.pieces[0].piece: not valid UTF-8")
        #expect(protoError(Self.bytesField(1, Self.field(2, 5, [0, 0, 0, 0]))) == "m.model: ModelProto.pieces[0].piece: missing")
        #expect(protoError(Self.bytesField(1, Self.bytesField(1, Array("a".utf8)) + Self.field(2, 0, [1])))
            == "m.model: ModelProto.pieces[0].score: wire type 0, expected 5")
        #expect(protoError(Self.bytesField(1, Self.bytesField(1, Array("a".utf8)) + Self.field(2, 5, [0, 0])))
            == "m.model: ModelProto.pieces[0].score: truncated 32-bit value at byte 6")
        #expect(protoError(Self.piece("a", type: 9)) == "m.model: ModelProto.pieces[0].type: unknown piece type 9")
        #expect(protoError(Self.piece("a") + Self.piece("a") + Self.bpeTrainer) == #"m.model: ModelProto.pieces[1]: piece "a" repeats piece 0"#)
        #expect(protoError(Self.piece("a") + Self.bytesField(2, Self.field(40, 0, Self.varint(5))) + Self.bpeTrainer)
            == "m.model: ModelProto.trainer_spec.unk_id: 5 is not below the piece count 1")
        #expect(protoError([0x0A, 0x80, 0x80, 0x80, 0x80, 0x08]) == "m.model: ModelProto.pieces[0]: length 2147483648 at byte 1 runs past the end of the message (0 bytes left)")
    }

    @Test func unsupportedSentencePieceModels() {
        #expect(protoError(Self.piece("a")) != "no error")
        #expect(protoError(Self.piece("a") + Self.bytesField(2, []))
            == "m.model: ModelProto.trainer_spec.model_type: unsupported: unigram SentencePiece models (only BPE is implemented)")
        #expect(protoError(Self.piece("a") + Self.bpeTrainer + Self.bytesField(3, Self.bytesField(1, Array("nmt_nfkc".utf8)) + Self.bytesField(2, [1, 2, 3])))
            == #"m.model: ModelProto.normalizer_spec.precompiled_charsmap: unsupported: normalization rule "nmt_nfkc" (3 bytes; only the identity normalizer is implemented)"#)
        #expect(protoError(Self.piece("a") + Self.bytesField(2, Self.field(3, 0, Self.varint(2)) + Self.field(24, 0, [1])))
            == "m.model: ModelProto.trainer_spec.treat_whitespace_as_suffix: unsupported: true")
    }

    @Test func truncatedRealModelNeverCrashes() throws {
        let bytes = try readFile(TokenizationFixtures.path("toy-sp/tokenizer.model"))
        #expect(try SentencePieceModel.parse(bytes, file: "toy").pieces.count > 1000)
        var rng = SeededRNG(seed: 3)
        for cut in [1, 2, 3, 10, 1000, bytes.count / 2, bytes.count - 40, bytes.count - 1] {
            #expect(error { _ = try SentencePieceModel.parse(Array(bytes[0..<cut]), file: "toy") } != nil, "cut at \(cut)")
        }
        // Random single-byte corruptions: an error or a model, never a trap.
        for _ in 0..<200 {
            var b = bytes
            b[rng.nextInt(below: b.count)] = UInt8(rng.nextInt(below: 256))
            _ = try? SentencePieceModel.parse(b, file: "toy").tokenizer(file: "toy")
        }
    }

    // MARK: GGUF-style arrays

    @Test func malformedArrays() {
        func arraysError(_ tokens: [String], _ merges: [String], types: [Int] = [], bos: Int? = nil, pre: String = "smollm") -> String {
            error {
                _ = try ByteLevelBPEArrays(tokens: tokens, merges: merges, tokenTypes: types, bosTokenId: bos, eosTokenId: nil,
                                           addBOS: false, preTokenizerName: pre, source: "x.gguf").tokenizer()
            }?.description ?? "no error"
        }
        #expect(arraysError(["a", "b", "ab"], ["a b"]) == "no error")
        #expect(arraysError(["a", "b", "ab"], ["ab"]) == #"x.gguf: tokenizer.ggml.merges[0]: expected "left right", found "ab""#)
        #expect(arraysError(["a", "b", "ab"], ["a c"]) == #"x.gguf: tokenizer.ggml.merges[0]: "a c": a part is not a token"#)
        #expect(arraysError(["a", "b"], ["a b"]) == #"x.gguf: tokenizer.ggml.merges[0]: "a b": the merged token is not in the vocabulary"#)
        #expect(arraysError(["a", "a"], []) == #"x.gguf: tokenizer.ggml.tokens[1]: token "a" repeats token 0"#)
        #expect(arraysError(["a", "b"], [], types: [1]) == "x.gguf: tokenizer.ggml.token_type: 1 entries for 2 tokens")
        #expect(arraysError(["a", "b"], [], bos: 2) == "x.gguf: tokenizer.ggml.bos_token_id: 2 is not below the token count 2")
        #expect(arraysError([], []) == "x.gguf: tokenizer.ggml.tokens: 0 tokens")
        #expect(arraysError(["a"], [], pre: "qwen2").hasPrefix(#"x.gguf: tokenizer.ggml.pre: unsupported: pre-tokenizer "qwen2""#))
    }
}

// The real Mistral v1 tokenizer (../shared/data/tokenizers/mistral-v1), from tokenizer.json and from the
// SentencePiece tokenizer.model, against Hugging Face tokenizers (and sentencepiece): the edge cases of
// cases.json, every document of the valid split as ../shared/data/corpus/valid.mistral-v1.u16 holds it
// (how it was made: Tests/Fixtures/tokenization/mistral_valid.json), and each valid file encoded whole.
import TensorCore
import TestSupport
import Testing
@testable import Tokenization

@Suite(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
struct MistralTokenizerTests {
    static let files = ["tokenizer.json", "tokenizer.model"]

    static func load(_ file: String) throws -> BPETokenizer {
        try TokenizerLoader.load("\(TokenizationFixtures.mistralDir)/\(file)")
    }

    static let manifest: JSONValue = (try? JSONParser.parse(try readFile(TokenizationFixtures.path("mistral_valid.json")))) ?? .null

    @Test(arguments: files)
    func edgeCasesMatchHuggingFace(_ file: String) throws {
        let tok = try Self.load(file)
        #expect(tok.bosTokenId == 1 && tok.eosTokenId == 2 && tok.addsBOS && !tok.addsEOS)
        #expect(tok.vocabularySize == 32000)
        let cases = TokenizationFixtures.cases("mistral-v1")
        #expect(cases.count > 40)
        for c in cases {
            expectIds(tok.encode(c.text, addSpecialTokens: true, parseSpecial: true), c.special ?? [], "\(file) \(c.text.debugDescription) special")
            let plain = tok.encode(c.text, addSpecialTokens: false, parseSpecial: false)
            expectIds(plain, c.plain, "\(file) \(c.text.debugDescription) plain")
            expectIds(plain, c.sentencepiece ?? [], "\(file) \(c.text.debugDescription) vs sentencepiece")
            #expect(tok.decode(c.special ?? []) == c.decoded, "\(file) decode \(c.text.debugDescription)")
            #expect(tok.decode(c.special ?? [], skipSpecialTokens: false) == c.decodedAll, "\(file) decode_all \(c.text.debugDescription)")
        }
    }

    /// The §9.4 table of formats.md (legacy layout), spelled as Mistral v1 tokens: one `▁` per space, a
    /// dummy prefix on every run of text (also after a special token), byte fallback for `\n` and for
    /// characters outside the vocabulary.
    @Test func legacyLayoutTable() throws {
        let tok = try Self.load("tokenizer.json")
        func tokens(_ s: String, special: Bool = true) -> [String] {
            tok.encode(s, addSpecialTokens: special, parseSpecial: special).map { tok.token(for: $0) ?? "?" }
        }
        #expect(tokens("hello world") == ["<s>", "▁hell", "o", "▁world"])
        #expect(tokens(" hello") == ["<s>", "▁", "▁hell", "o"])
        #expect(tokens("hello  world") == ["<s>", "▁hell", "o", "▁", "▁world"])
        #expect(tokens("hello\nworld") == ["<s>", "▁hell", "o", "<0x0A>", "world"])
        #expect(tokens("hello</s>world") == ["<s>", "▁hell", "o", "</s>", "▁world"])
        #expect(tokens("hello <s> world") == ["<s>", "▁hell", "o", "▁", "<s>", "▁", "▁world"])
        #expect(tokens("hello</s>world", special: false) == ["▁hell", "o", "</", "s", ">", "world"])
        #expect(tokens("") == ["<s>"])
        #expect(tokens("\u{1F916}", special: false) == ["▁", "<0xF0>", "<0x9F>", "<0xA4>", "<0x96>"])
    }

    @Test(arguments: files)
    func validSplitDocumentsMatchTheSharedIds(_ file: String) throws {
        let tok = try Self.load(file)
        let expected = try TokenIDFile.read(Fixtures.shared("data/corpus/valid.mistral-v1.u16"))
        let docs = try #require(Self.manifest["documents"]?.arrayValue)
        #expect(docs.count == 86)
        var texts: [String: [UInt8]] = [:]
        for f in TokenizationFixtures.validFiles { texts[f] = try readFile(Fixtures.shared("data/corpus/valid/\(f)")) }
        var ids: [Int] = []
        for d in docs {
            let bytes = try #require(texts[d["file"]?.stringValue ?? ""])
            let start = try #require(d["start"]?.intValue), end = try #require(d["end"]?.intValue)
            let text = try #require(String(validating: bytes[start..<end], as: UTF8.self))
            ids += tok.encode(text, addSpecialTokens: true, parseSpecial: true)
        }
        #expect(ids.count == 264_818)
        expectIds(ids, expected, "\(file): valid.mistral-v1.u16")
    }

    @Test(arguments: files)
    func wholeValidFilesMatchHuggingFace(_ file: String) throws {
        let tok = try Self.load(file)
        for name in TokenizationFixtures.validFiles {
            let want = try #require(Self.manifest["whole_files"]?[name])
            let text = try TokenizationFixtures.validText(name)
            let ids = tok.encode(text, addSpecialTokens: false, parseSpecial: false)
            #expect(ids.count == want["count"]?.intValue, "\(file) \(name)")
            expectIds(Array(ids.prefix(32)), want["head"]?.arrayValue?.compactMap(\.intValue) ?? [], "\(file) \(name) head")
            expectIds(Array(ids.suffix(16)), want["tail"]?.arrayValue?.compactMap(\.intValue) ?? [], "\(file) \(name) tail")
            #expect(fnv1a64(ids) == want["fnv1a64_u32le"]?.stringValue, "\(file) \(name): ids differ from Hugging Face tokenizers")
            #expect(tok.decode(ids) == text, "\(file) \(name): decode does not give the text back")
        }
    }
}

/// FNV-1a 64 of the ids as little-endian u32, as hex (the generator's `fnv1a64_u32`).
func fnv1a64(_ ids: [Int]) -> String {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for id in ids {
        for k in 0..<4 {
            h ^= UInt64((id >> (8 * k)) & 0xFF)
            h = h &* 0x0000_0100_0000_01B3
        }
    }
    let hex = String(h, radix: 16)
    return String(repeating: "0", count: 16 - hex.count) + hex
}

// SmolLM2's byte-level BPE (GGUF pre-tokenizer `smollm`), built from the GGUF's tokenizer arrays and from
// the equivalent byte-level tokenizer.json, against the shared golden ids
// (../shared/checkpoints/smollm2-golden: tokenizer_tests.json, and the whole valid split as
// persuasion.smollm2.u32 / wikipedia_valid.smollm2.u32, from Hugging Face tokenizers and llama.cpp).
import Conversion
import TensorCore
import TestSupport
import Testing
@testable import Tokenization

@Suite(.enabled(if: Fixtures.sharedAvailable && !TokenizationFixtures.smolSources.isEmpty,
                Comment(rawValue: Fixtures.sharedAvailable ? Fixtures.smollm2MissingReason : Fixtures.sharedMissingReason)))
struct SmolLM2TokenizerTests {
    static var sources: [String] { TokenizationFixtures.smolSources }

    static func load(_ source: String) throws -> BPETokenizer {
        switch source {
        case "gguf": return try GGUFTokenizer.load(Fixtures.smollm2GGUF)
        case "tokenizer.json": return try TokenizerJSON.load("\(TokenizationFixtures.smolDir)/tokenizer.json")
        default: return try TokenizationFixtures.arrays("\(TokenizationFixtures.smolDir)/\(source)").tokenizer()
        }
    }

    @Test(arguments: sources)
    func goldenTestStringsInBothSpecialModes(_ source: String) throws {
        let tok = try Self.load(source)
        #expect(tok.vocabularySize == 49152)
        #expect(!tok.addsBOS && !tok.addsEOS)
        let tests = try JSONParser.parse(try readFile(Fixtures.shared("checkpoints/smollm2-golden/tokenizer_tests.json")))
        let cases = try #require(tests["cases"]?.arrayValue)
        #expect(cases.count == 10)
        for c in cases {
            let text = try #require(c["text"]?.stringValue)
            let ids = c["ids"]?.arrayValue?.compactMap(\.intValue) ?? []
            let idsSpecial = c["ids_parse_special"]?.arrayValue?.compactMap(\.intValue) ?? []
            let got = tok.encode(text, addSpecialTokens: true, parseSpecial: false)
            expectIds(got, ids, "\(source) \(text.debugDescription)")
            expectIds(tok.encode(text, addSpecialTokens: true, parseSpecial: true), idsSpecial, "\(source) \(text.debugDescription) parse_special")
            let tokens = c["tokens"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(got.map { tok.token(for: $0) ?? "?" } == tokens, "\(source) \(text.debugDescription) tokens")
            #expect(tok.decode(got) == text)
            #expect(tok.decode(idsSpecial, skipSpecialTokens: false) == text)
        }
        let p = try #require(tests["persuasion"])
        let text = try TokenizationFixtures.validText("austen_persuasion.txt")
        let ids = tok.encode(text, addSpecialTokens: true, parseSpecial: false)
        #expect(ids.count == p["n_tokens"]?.intValue)
        expectIds(Array(ids.prefix(32)), p["first_32_ids"]?.arrayValue?.compactMap(\.intValue) ?? [], "\(source) Persuasion head")
        expectIds(Array(ids.suffix(8)), p["last_8_ids"]?.arrayValue?.compactMap(\.intValue) ?? [], "\(source) Persuasion tail")
    }

    @Test func knownAnswers() throws {
        let tok = try Self.load(Self.sources[0])
        #expect(tok.encode("Once upon a time") == [6403, 1980, 253, 655])
        #expect(tok.encode("The capital of France is") == [504, 3575, 282, 4649, 314])
        #expect(tok.bosTokenId == 1 && tok.eosTokenId == 2)
    }

    @Test(arguments: sources)
    func wholeValidSplitMatchesTheGoldenIds(_ source: String) throws {
        let tok = try Self.load(source)
        for (file, golden) in [("austen_persuasion.txt", "persuasion"), ("wikipedia_valid.txt", "wikipedia_valid")] {
            let text = try TokenizationFixtures.validText(file)
            let expected = try TokenIDFile.read(Fixtures.shared("checkpoints/smollm2-golden/\(golden).smollm2.u32"))
            let ids = tok.encode(text, addSpecialTokens: true, parseSpecial: false)
            expectIds(ids, expected, "\(source) \(file)")
            #expect(tok.decode(ids) == text, "\(source) \(file): decode does not give the text back")
        }
    }

    @Test func edgeCasesMatchHuggingFace() throws {
        let tok = try Self.load(Self.sources[0])
        for c in TokenizationFixtures.cases("smollm2") {
            expectIds(tok.encode(c.text, addSpecialTokens: true, parseSpecial: true), c.special ?? [], "\(c.text.debugDescription) special")
            expectIds(tok.encode(c.text, addSpecialTokens: false, parseSpecial: false), c.plain, "\(c.text.debugDescription) plain")
            #expect(tok.decode(c.special ?? []) == c.decoded, "decode \(c.text.debugDescription)")
        }
    }
}

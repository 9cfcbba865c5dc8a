// Toy tokenizers (subsets of Mistral v1 and SmolLM2, committed under Tests/Fixtures/tokenization) against
// the ids Hugging Face tokenizers / sentencepiece gave for the edge-case strings and corpus excerpts.
import TensorCore
import TestSupport
import Testing
@testable import Tokenization

@Suite struct ToyTokenizerTests {
    static let jsonTokenizers = ["toy-sp/tokenizer.json", "toy-sp/metaspace-first.json", "toy-sp/metaspace-split.json",
                                 "toy-bytelevel/smollm.json", "toy-bytelevel/gpt2-prefix.json", "toy-bytelevel/split-digits.json"]

    @Test(arguments: jsonTokenizers)
    func tokenizerJSONMatchesHuggingFace(_ name: String) throws {
        let tok = try TokenizerJSON.load(TokenizationFixtures.path(name))
        let cases = TokenizationFixtures.cases(name)
        #expect(cases.count > 40)
        for c in cases {
            let special = tok.encode(c.text, addSpecialTokens: true, parseSpecial: true)
            expectIds(special, c.special ?? [], "\(name) \(c.text.debugDescription) special")
            let plain = tok.encode(c.text, addSpecialTokens: false, parseSpecial: false)
            expectIds(plain, c.plain, "\(name) \(c.text.debugDescription) plain")
            #expect(tok.decode(c.special ?? []) == c.decoded, "\(name) decode of \(c.text.debugDescription)")
            #expect(tok.decode(c.special ?? [], skipSpecialTokens: false) == c.decodedAll, "\(name) decode_all of \(c.text.debugDescription)")
        }
    }

    @Test func sentencePieceModelMatchesSentencePiece() throws {
        let tok = try SentencePieceModel.load(TokenizationFixtures.path("toy-sp/tokenizer.model"))
            .tokenizer(file: "toy-sp/tokenizer.model")
        for c in TokenizationFixtures.cases("toy-sp/tokenizer.model") {
            let plain = tok.encode(c.text, addSpecialTokens: false, parseSpecial: false)
            expectIds(plain, c.plain, c.text.debugDescription)
            expectIds(tok.encode(c.text, addSpecialTokens: true, parseSpecial: false), [1] + c.plain, "\(c.text.debugDescription) with BOS")
        }
    }

    /// transformers `legacy=False` for a SentencePiece model: Metaspace(prepend_scheme first) instead of the
    /// dummy-prefix normalizer. Compared with the equivalent tokenizer.json on the strings where the two
    /// models agree in the legacy layout (they differ only where SentencePiece merges through characters that
    /// are no piece).
    @Test func sentencePieceNonLegacyMatchesMetaspaceFirst() throws {
        let tok = try SentencePieceModel.load(TokenizationFixtures.path("toy-sp/tokenizer.model"))
            .tokenizer(legacy: false, file: "toy-sp/tokenizer.model")
        let spCases = TokenizationFixtures.cases("toy-sp/tokenizer.model")
        let legacyJSON = TokenizationFixtures.cases("toy-sp/tokenizer.json")
        var compared = 0
        for (k, c) in TokenizationFixtures.cases("toy-sp/metaspace-first.json").enumerated() where spCases[k].plain == legacyJSON[k].plain {
            expectIds(tok.encode(c.text, addSpecialTokens: true, parseSpecial: true), c.special ?? [], "\(c.text.debugDescription) special")
            expectIds(tok.encode(c.text, addSpecialTokens: false, parseSpecial: false), c.plain, "\(c.text.debugDescription) plain")
            compared += 1
        }
        #expect(compared > 40)
    }

    @Test func ggmlArraysMatchTheEquivalentTokenizerJSON() throws {
        let tok = try TokenizationFixtures.arrays(TokenizationFixtures.path("toy-bytelevel/ggml-arrays.json")).tokenizer()
        for c in TokenizationFixtures.cases("toy-bytelevel/smollm.json") {
            let special = tok.encode(c.text, addSpecialTokens: true, parseSpecial: true)
            expectIds(special, c.special ?? [], "\(c.text.debugDescription) special")
            let plain = tok.encode(c.text, addSpecialTokens: false, parseSpecial: false)
            expectIds(plain, c.plain, "\(c.text.debugDescription) plain")
            #expect(tok.decode(c.special ?? []) == c.decoded)
        }
    }
}

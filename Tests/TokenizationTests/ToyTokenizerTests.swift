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

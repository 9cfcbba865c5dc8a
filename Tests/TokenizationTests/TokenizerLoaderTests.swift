// Finding a checkpoint's tokenizer (HF directory, KerasHub preset, tokenizer files, GGUF), the
// BOS/EOS settings of tokenizer_config.json / preprocessor.json, and token-id files.
import CheckpointIO
import Conversion
import TensorCore
import TestSupport
import Testing
@testable import Tokenization

@Suite struct TokenizerLoaderTests {
    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func checkpointDirectories() throws {
        let hf = try TokenizerLoader.locate(Fixtures.shared("checkpoints/tiny-mistral"))
        #expect(hf.kind == .huggingFaceJSON && hf.file.hasSuffix("tiny-mistral/tokenizer.json") && hf.configFile?.hasSuffix("tokenizer_config.json") == true)
        let keras = try TokenizerLoader.locate(Fixtures.shared("checkpoints/tiny-mistral-keras"))
        #expect(keras.kind == .sentencePiece && keras.file.hasSuffix("assets/tokenizer/vocabulary.spm"))
        #expect(keras.configIsKeras && keras.configFile?.hasSuffix("preprocessor.json") == true)

        let text = "The tokenizer of both presets."
        let a = try CheckpointTokenizer.load(Fixtures.shared("checkpoints/tiny-mistral"))
        let b = try CheckpointTokenizer.load(Fixtures.shared("checkpoints/tiny-mistral-keras"))
        let plainA = a.encode(text, addSpecialTokens: false, parseSpecial: false)
        #expect(plainA == b.encode(text, addSpecialTokens: false, parseSpecial: false))
        #expect(a.encode(text) == [1] + plainA)
        // KerasHub's MistralCausalLMPreprocessor adds both start and end tokens.
        #expect(b.addsBOS && b.addsEOS)
        #expect(b.encode(text) == [1] + plainA + [2])

        // tokenizer.model alone (no tokenizer_config.json beside it): Llama defaults, BOS yes, EOS no.
        let dir = Fixtures.temporaryDirectory()
        try writeFileAtomically("\(dir)/tokenizer.model", bytes: try readFile(Fixtures.shared("data/tokenizers/mistral-v1/tokenizer.model")))
        let sp = try TokenizerLoader.load(dir)
        #expect(sp.addsBOS && !sp.addsEOS && sp.encode(text) == [1] + plainA)
    }

    @Test func tokenizerConfigControlsBOSAndEOS() throws {
        let dir = Fixtures.temporaryDirectory()
        try writeFileAtomically("\(dir)/tokenizer.json", bytes: try readFile(TokenizationFixtures.path("toy-sp/tokenizer.json")))
        let base = try TokenizerLoader.load(dir)
        let plain = base.encode("hello", addSpecialTokens: false, parseSpecial: false)
        #expect(base.encode("hello") == [1] + plain)

        try writeFileAtomically("\(dir)/tokenizer_config.json", text: #"{"add_bos_token": false, "add_eos_token": true, "eos_token": {"content": "</s>"}}"#)
        let eosOnly = try TokenizerLoader.load(dir)
        #expect(!eosOnly.addsBOS && eosOnly.addsEOS && eosOnly.encode("hello") == plain + [2])
        #expect(eosOnly.encode("hello", addSpecialTokens: false, parseSpecial: true) == plain)

        try writeFileAtomically("\(dir)/tokenizer_config.json", text: #"{"bos_token": "<unk>"}"#)
        #expect(try TokenizerLoader.load(dir).bosTokenId == 0)

        try writeFileAtomically("\(dir)/tokenizer_config.json", text: #"{"add_eos_token": true, "eos_token": "<nope>"}"#)
        #expect(throws: TokenizerError.self) { try TokenizerLoader.load(dir) }
        do { _ = try TokenizerLoader.load(dir) } catch let e as TokenizerError {
            #expect(e.description == #"\#(dir)/tokenizer_config.json: eos_token: token "<nope>" is not in the vocabulary"#)
        }
        try writeFileAtomically("\(dir)/tokenizer_config.json", text: #"{"add_bos_token": "yes"}"#)
        do { _ = try TokenizerLoader.load(dir); Issue.record("no error") } catch let e as TokenizerError {
            #expect(e.description == #"\#(dir)/tokenizer_config.json: add_bos_token: expected true or false, found "yes""#)
        }
    }

    @Test func missingTokenizer() throws {
        let dir = Fixtures.temporaryDirectory()
        do { _ = try TokenizerLoader.load(dir); Issue.record("no error") } catch let e as TokenizerError {
            #expect(e.kind == .notFound)
            #expect(e.description == "\(dir): no tokenizer: looked for tokenizer.json, tokenizer.model and assets/tokenizer/vocabulary.spm")
        }
        #expect(throws: TokenizerError.self) { try TokenizerLoader.load("\(dir)/absent") }
        #expect(throws: TokenizerError.self) { try TokenizerLoader.load(TokenizationFixtures.path("cases.txt")) }
    }

    @Test func ggufVocabularies() throws {
        // Byte-level ("gpt2", pre "smollm"): the same ids as the equivalent tokenizer.json.
        let bl = try CheckpointTokenizer.load(TokenizationFixtures.path("toy-bytelevel/vocab.gguf"))
        for c in TokenizationFixtures.cases("toy-bytelevel/smollm.json") {
            expectIds(bl.encode(c.text, addSpecialTokens: true, parseSpecial: true), c.special ?? [], "gguf gpt2 \(c.text.debugDescription)")
            expectIds(bl.encode(c.text, addSpecialTokens: false, parseSpecial: false), c.plain, "gguf gpt2 plain \(c.text.debugDescription)")
        }
        // A directory with no tokenizer files but one .gguf uses the GGUF's tokenizer.
        let dir = Fixtures.temporaryDirectory()
        try writeFileAtomically("\(dir)/model.gguf", bytes: try readFile(TokenizationFixtures.path("toy-bytelevel/vocab.gguf")))
        #expect(try CheckpointTokenizer.load(dir).encode("Hello world") == bl.encode("Hello world"))
        // The tokenizer files `t2r export` writes for a GGUF load to the same tokenizer.
        let exported = Fixtures.temporaryDirectory()
        let files = try #require(try GGUFTokenizerExport.files(try GGUFFile(path: TokenizationFixtures.path("toy-bytelevel/vocab.gguf")),
                                                               contextLength: 8192).files)
        for (name, json) in files { try writeFileAtomically("\(exported)/\(name)", text: json.serialized()) }
        let ex = try TokenizerLoader.load(exported)
        #expect(ex.bosTokenId == bl.bosTokenId && ex.eosTokenId == bl.eosTokenId && ex.addsBOS == bl.addsBOS)
        for c in TokenizationFixtures.cases("toy-bytelevel/smollm.json") {
            expectIds(ex.encode(c.text, addSpecialTokens: true, parseSpecial: true), c.special ?? [], "exported \(c.text.debugDescription)")
            #expect(ex.decode(c.special ?? []) == c.decoded)
        }
        // SentencePiece ("llama"): sentencepiece's ids, BOS from add_bos_token.
        let sp = try CheckpointTokenizer.load(TokenizationFixtures.path("toy-sp/vocab.gguf"))
        #expect(sp.addsBOS && !sp.addsEOS)
        for c in TokenizationFixtures.cases("toy-sp/tokenizer.model") {
            expectIds(sp.encode(c.text, addSpecialTokens: false, parseSpecial: false), c.plain, "gguf llama \(c.text.debugDescription)")
        }
    }

    @Test(.enabled(if: Fixtures.smollm2Available && Fixtures.sharedAvailable,
                   Comment(rawValue: Fixtures.sharedAvailable ? Fixtures.smollm2MissingReason : Fixtures.sharedMissingReason)))
    func smollm2GGUF() throws {
        let tok = try CheckpointTokenizer.load(Fixtures.smollm2GGUF)
        #expect(tok.vocabularySize == 49152 && !tok.addsBOS && tok.bosTokenId == 1 && tok.eosTokenId == 2)
        let text = try TokenizationFixtures.validText("austen_persuasion.txt")
        expectIds(tok.encode(text, addSpecialTokens: true, parseSpecial: false),
                  try TokenIDFile.read(Fixtures.shared("checkpoints/smollm2-golden/persuasion.smollm2.u32")), "Persuasion from the GGUF")
        #expect(tok.encode("<|im_start|>user", addSpecialTokens: true, parseSpecial: true) == [1, 4093])
    }

    @Test func tokenIdFiles() throws {
        let dir = Fixtures.temporaryDirectory()
        let ids = [0, 1, 255, 256, 65535, 7]
        try TokenIDFile.write(ids, to: "\(dir)/a.u16")
        #expect(try readFile("\(dir)/a.u16") == [0, 0, 1, 0, 255, 0, 0, 1, 255, 255, 7, 0])
        #expect(try TokenIDFile.read("\(dir)/a.u16") == ids)
        try TokenIDFile.write(ids + [70000], to: "\(dir)/a.u32")
        #expect(try TokenIDFile.read("\(dir)/a.u32") == ids + [70000])
        #expect(try readFile("\(dir)/a.u32").count == 28)
        do { try TokenIDFile.write([1, 65536], to: "\(dir)/b.u16"); Issue.record("no error") } catch let e as TokenizerError {
            #expect(e.description == "\(dir)/b.u16: id 65536 at position 1 does not fit in uint16 (.u16); use .u32")
        }
        #expect(!FileSystem.exists("\(dir)/b.u16"))
        #expect(throws: TokenizerError.self) { try TokenIDFile.write([1], to: "\(dir)/c.bin") }
        try writeFileAtomically("\(dir)/odd.u32", bytes: [1, 2, 3])
        do { _ = try TokenIDFile.read("\(dir)/odd.u32"); Issue.record("no error") } catch let e as TokenizerError {
            #expect(e.description == "\(dir)/odd.u32: 3 bytes is not a whole number of 4-byte ids")
        }
    }

    @Test func strictUTF8Input() throws {
        #expect(try UTF8Text.decode(Array("héllo".utf8), file: "t") == "héllo")
        do { _ = try UTF8Text.decode([0x61, 0xC3, 0xA9, 0xFF, 0x62], file: "t.txt"); Issue.record("no error") } catch let e as TokenizerError {
            #expect(e.description == "t.txt: invalid UTF-8 at byte 3 (0xFF)")
        }
        #expect(throws: TokenizerError.self) { try UTF8Text.decode([0xE2, 0x82], file: "t") }
    }
}

// tokenizer.json from a SentencePiece model (SentencePieceTokenizerExport) and the tokenizer files an
// export of a KerasHub preset gets: Mistral v1's tokenizer.model gives Mistral's own tokenizer.json, and
// the exported preset tokenizes as the preset does.
import CheckpointIO
import Conversion
import Foundation
import TensorCore
import TestSupport
import Testing
import Tokenization

private func json(_ path: String) throws -> JSONValue { try JSONParser.parse(try readFile(path)) }

@Suite struct SentencePieceExportTests {
    /// transformers' LlamaConverter output for this model is the tokenizer.json shipped beside it: the same
    /// JSON, member order included, merges (58,980) in the same order.
    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func mistralTokenizerModelGivesMistralsTokenizerJSON() throws {
        let file = Fixtures.shared("checkpoints/tiny-mistral/tokenizer.model")
        let model = try SentencePieceModel.load(file)
        let (built, reason) = try SentencePieceTokenizerExport.tokenizerJSON(model, addBOS: true, addEOS: false, file: file)
        #expect(reason == nil)
        let original = try json(Fixtures.shared("checkpoints/tiny-mistral/tokenizer.json"))
        let b = try #require(built)
        #expect(b["model"]?["merges"]?.arrayValue?.count == 58980)
        #expect(b.serialized(indent: 0) == original.serialized(indent: 0))
        // EOS too: TemplateProcessing with both, the pair's second part of type 1.
        let (both, _) = try SentencePieceTokenizerExport.tokenizerJSON(model, addBOS: true, addEOS: true, file: file)
        let single = try #require(both?["post_processor"]?["single"]?.arrayValue)
        #expect(single.map { $0["SpecialToken"]?["id"]?.stringValue ?? $0["Sequence"]?["id"]?.stringValue } == ["<s>", "A", "</s>"])
        let pair = try #require(both?["post_processor"]?["pair"]?.arrayValue)
        #expect(pair.compactMap { ($0["SpecialToken"] ?? $0["Sequence"])?["type_id"]?.intValue } == [0, 0, 0, 1, 1, 1])
        // Models the Llama layout cannot express are not exported, with the reason.
        var squeezing = model
        squeezing.removeExtraWhitespaces = true
        let (none, why) = try SentencePieceTokenizerExport.tokenizerJSON(squeezing, addBOS: true, addEOS: false, file: "x.model")
        #expect(none == nil && why?.hasPrefix("x.model normalizes text") == true)
    }

    /// A KerasHub preset's export has a real tokenizer.json (not the preset's Keras layer config), the
    /// SentencePiece model and a tokenizer_config.json adding what the preset's preprocessor adds; t2r reads
    /// it back to the preset's ids on the valid split.
    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func kerasPresetExportHasHuggingFaceTokenizerFiles() throws {
        let preset = Fixtures.shared("checkpoints/tiny-mistral-keras")
        let out = FileSystem.join(Fixtures.temporaryDirectory(), "hf")
        let r = try HuggingFaceExport.export(try CheckpointLocator.locate(preset).openTeacher(), to: out)
        #expect(r.files == ["model.safetensors", "config.json", "tokenizer.json", "tokenizer.model", "tokenizer_config.json"])
        #expect(r.notes.isEmpty)
        let tok = try json(FileSystem.join(out, "tokenizer.json"))
        #expect(tok["model"]?["type"]?.stringValue == "BPE" && tok["class_name"] == nil)
        let tc = try json(FileSystem.join(out, "tokenizer_config.json"))
        #expect(tc["add_bos_token"]?.boolValue == true && tc["add_eos_token"]?.boolValue == true)
        #expect(tc["tokenizer_class"]?.stringValue == "LlamaTokenizer" && tc["eos_token"]?.stringValue == "</s>")
        #expect(try readFile(FileSystem.join(out, "tokenizer.model")) == (try readFile(FileSystem.join(preset, "assets/tokenizer/vocabulary.spm"))))

        let exported = try TokenizerLoader.load(out)
        #expect(try TokenizerLoader.locate(out).kind == .huggingFaceJSON)
        let original = try CheckpointTokenizer.load(preset)
        let valid = Fixtures.shared("data/corpus/valid")
        for name in try FileSystem.listDirectory(valid).sorted() where name.hasSuffix(".txt") {
            let text = try readTextFile(FileSystem.join(valid, name))
            #expect(exported.encode(text, addSpecialTokens: true, parseSpecial: false)
                    == original.encode(text, addSpecialTokens: true, parseSpecial: false), "\(name)")
        }
    }
}

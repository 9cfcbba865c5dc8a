import CheckpointIO
import Conversion
import Foundation
import Models
import TensorCore
import TestSupport
import Testing

private func gguf(_ name: String) -> String { Fixtures.fixture("gguf/\(name)") }

private func json(_ path: String) throws -> JSONValue { try JSONParser.parse(try readFile(path)) }

/// Object members sorted by key at every level (JSON object order carries no meaning).
private func canonical(_ v: JSONValue) -> JSONValue {
    switch v {
    case .object(let m): .object(m.map { ($0.0, canonical($0.1)) }.sorted { $0.0 < $1.0 })
    case .array(let a): .array(a.map(canonical))
    default: v
    }
}

@Suite struct HuggingFaceExportTests {
    @Test func tinyGGUFExportReloadsAsTheSameModel() throws {
        let out = FileSystem.join(Fixtures.temporaryDirectory(), "hf")
        let teacher = try CheckpointLocator.locate(gguf("tiny_llama.gguf")).openTeacher()
        var events = 0
        let r = try HuggingFaceExport.export(teacher, to: out) { _ in events += 1 }
        #expect(r.files == ["model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json"])
        #expect(r.tensorCount == 21 && events == 21 + 3)
        #expect(r.notes.isEmpty)
        #expect(try FileSystem.listDirectory(out).sorted() == r.files.sorted())

        let back = try CheckpointLocator.locate(out).openTeacher()
        #expect(back.format == .safetensors)
        var config = back.config
        config.declaredDtype = nil
        #expect(config == teacher.config)
        #expect(back.tensorProblems.isEmpty)
        for t in TeacherTensor.all(for: teacher.config) {
            #expect(try back.load(t).toArray() == (try teacher.load(t)).toArray(), "\(t)")
        }
        // The header says "pt", like transformers' save_pretrained.
        #expect(try SafetensorsFile(path: FileSystem.join(out, "model.safetensors")).metadata == ["format": "pt"])
        // config.json carries both transformers 5 and 4 keys for RoPE.
        let cj = try json(FileSystem.join(out, "config.json"))
        #expect(cj["rope_theta"]?.doubleValue == 500000 && cj["rope_parameters"]?["rope_theta"]?.doubleValue == 500000)
        #expect(cj["tie_word_embeddings"]?.boolValue == false && cj["torch_dtype"]?.stringValue == "float32")

        // tokenizer.json equals what HF `tokenizers` builds from the same GGUF arrays (fixture generator).
        let tok = try json(FileSystem.join(out, "tokenizer.json"))
        #expect(tok == (try json(gguf("tiny_llama.tokenizer.json"))))
        let tc = try json(FileSystem.join(out, "tokenizer_config.json"))
        #expect(tc["add_bos_token"]?.boolValue == true)
        #expect(tc["bos_token"]?.stringValue == "<|im_start|>" && tc["eos_token"]?.stringValue == "<|im_end|>")
        #expect(tc["added_tokens_decoder"]?["2"]?["content"]?.stringValue == "<|im_end|>")
        #expect(tc["chat_template"]?.stringValue?.hasPrefix("{% for m in messages %}") == true)
        #expect(tc["model_max_length"]?.intValue == 256)
    }

    @Test func bf16ExportRoundsToNearestEven() throws {
        let out = FileSystem.join(Fixtures.temporaryDirectory(), "hf")
        let teacher = try CheckpointLocator.locate(gguf("tiny_llama.gguf")).openTeacher()
        _ = try HuggingFaceExport.export(teacher, to: out, dtype: .BF16)
        let f = try SafetensorsFile(path: FileSystem.join(out, "model.safetensors"))
        #expect(f.entries.allSatisfy { $0.dtype == .BF16 })
        #expect(try json(FileSystem.join(out, "config.json"))["dtype"]?.stringValue == "bfloat16")
        for t in TeacherTensor.all(for: teacher.config) {
            let want = try teacher.load(t).copy()
            Convert.roundInPlace(want, to: .bfloat16)
            #expect(try f.loadFloat32(t.huggingFaceName).toArray() == want.toArray(), "\(t)")
        }
    }

    @Test func largeExportsAreShardedWithAnIndex() throws {
        let out = FileSystem.join(Fixtures.temporaryDirectory(), "hf")
        let teacher = try CheckpointLocator.locate(gguf("tiny_llama.gguf")).openTeacher()
        let r = try HuggingFaceExport.export(teacher, to: out, maxShardBytes: 100_000)
        let shards = r.files.filter { $0.hasPrefix("model-") }
        #expect(shards.count == 4)
        #expect(shards.first == "model-00001-of-00004.safetensors")
        #expect(r.files.contains("model.safetensors.index.json") && !r.files.contains("model.safetensors"))
        let index = try ShardedSafetensors(indexPath: FileSystem.join(out, "model.safetensors.index.json"))
        #expect(index.warnings.isEmpty)  // total_size matches the tensors
        for s in index.shards.values { #expect(s.totalBytes <= 100_000 || s.entries.count == 1) }
        let back = try CheckpointLocator.locate(out).openTeacher()
        #expect(back.format == .shardedSafetensors && back.tensorProblems.isEmpty)
        for t in TeacherTensor.all(for: teacher.config) {
            #expect(try back.load(t).toArray() == (try teacher.load(t)).toArray(), "\(t)")
        }
    }

    @Test func outputMustBeNewOrEmptyAndNothingIsLeftBehind() throws {
        let parent = Fixtures.temporaryDirectory()
        let teacher = try CheckpointLocator.locate(gguf("tiny_llama.gguf")).openTeacher()
        let busy = FileSystem.join(parent, "busy")
        try FileSystem.createDirectory(busy)
        try writeFileAtomically(FileSystem.join(busy, "keep.txt"), text: "x")
        #expect(throws: ExportError.outputExists(path: busy)) { try HuggingFaceExport.export(teacher, to: busy) }
        #expect(try FileSystem.listDirectory(busy) == ["keep.txt"])
        let empty = FileSystem.join(parent, "empty")
        try FileSystem.createDirectory(empty)
        _ = try HuggingFaceExport.export(teacher, to: empty)
        #expect(FileSystem.exists(FileSystem.join(empty, "model.safetensors")))
        #expect(throws: ExportError.self) { try HuggingFaceExport.export(teacher, to: FileSystem.join(parent, "x"), dtype: .F16) }
        #expect(try FileSystem.listDirectory(parent).sorted() == ["busy", "empty"], "no staging directory left")
    }

    /// A safetensors source keeps its own tokenizer files.
    @Test func tokenizerFilesAreCopiedFromSourceDirectories() throws {
        let src = FileSystem.join(Fixtures.temporaryDirectory(), "src")
        try FileSystem.createDirectory(src)
        for name in ["config.json", "model.safetensors"] {
            try writeFileAtomically(FileSystem.join(src, name), bytes: try readFile(gguf("tiny_llama_hf/\(name)")))
        }
        try writeFileAtomically(FileSystem.join(src, "tokenizer.json"), bytes: try readFile(gguf("tiny_llama.tokenizer.json")))
        try writeFileAtomically(FileSystem.join(src, "special_tokens_map.json"), text: #"{"bos_token": "<|im_start|>"}"#)
        let out = FileSystem.join(FileSystem.directoryName(src), "out")
        let r = try HuggingFaceExport.export(try CheckpointLocator.locate(src).openTeacher(), to: out)
        #expect(r.files == ["model.safetensors", "config.json", "tokenizer.json", "special_tokens_map.json"])
        #expect(try readFile(FileSystem.join(out, "tokenizer.json")) == (try readFile(gguf("tiny_llama.tokenizer.json"))))
        // Without tokenizer files the export says so.
        let bare = try HuggingFaceExport.export(try CheckpointLocator.locate(gguf("tiny_llama_hf")).openTeacher(),
                                                to: FileSystem.join(FileSystem.directoryName(src), "bare"))
        #expect(bare.notes.count == 1 && bare.notes[0].hasPrefix("no tokenizer files written"))
    }

    /// Flat HDF5 (beside / standalone) and KerasHub sources export, as F32, exactly the tensors and config of
    /// their safetensors twins, and the export reloads as the same teacher.
    @Test(arguments: ["flat/beside", "flat/standalone/nested-f16.h5", "flat/standalone/llama-nested-bf16.h5", "keras/mistral"])
    func hdf5SourcesExportLikeTheirTwins(_ name: String) throws {
        let src = try CheckpointLocator.locate(Fixtures.fixture("hdf5/\(name)")).openTeacher()
        let twin = try TeacherCheckpoint.open(Fixtures.fixture(name.contains("llama") ? "hdf5/llama-twin" : "hdf5/mistral-twin"))
        let out = FileSystem.join(Fixtures.temporaryDirectory(), "hf")
        let r = try HuggingFaceExport.export(src, to: out, dtype: .F32)
        #expect(r.tensorCount == twin.store.tensorInfos.count)
        let back = try TeacherCheckpoint.open(out)
        #expect(back.format == .safetensors && back.config == twin.config)
        for info in twin.store.tensorInfos {
            #expect(try back.store.loadFloat32(info.name).toArray() == (try src.store.loadFloat32(info.name).toArray()), "\(name): \(info.name)")
        }
    }

    /// A sharded safetensors source (tiny-mistral, three BF16 shards) and its KerasHub twin export the same
    /// F32 tensors.
    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func shardedAndKerasTinyMistralExportTheSameTensors() throws {
        let dir = Fixtures.temporaryDirectory()
        try HuggingFaceExport.export(try TeacherCheckpoint.open(Fixtures.shared("checkpoints/tiny-mistral")), to: "\(dir)/a", dtype: .F32)
        try HuggingFaceExport.export(try TeacherCheckpoint.open(Fixtures.shared("checkpoints/tiny-mistral-keras")), to: "\(dir)/b", dtype: .F32)
        let a = try SafetensorsFile(path: "\(dir)/a/model.safetensors"), b = try SafetensorsFile(path: "\(dir)/b/model.safetensors")
        #expect(a.entries.count == 57 && Set(a.entries.map(\.name)) == Set(b.entries.map(\.name)))
        for e in a.entries { #expect(Array(try a.rawBytes(e.name)) == Array(try b.rawBytes(e.name)), "\(e.name)") }
    }

    @Test func incompleteSourcesAreRefused() throws {
        let src = FileSystem.join(Fixtures.temporaryDirectory(), "src")
        try FileSystem.createDirectory(src)
        try writeFileAtomically(FileSystem.join(src, "config.json"), bytes: try readFile(gguf("tiny_llama_hf/config.json")))
        try SafetensorsWriter.write([SafetensorsEntry(name: "model.norm.weight", tensor: Tensor(zeros: [64]))],
                                    to: FileSystem.join(src, "model.safetensors"))
        let teacher = try CheckpointLocator.locate(src).openTeacher()
        let out = FileSystem.join(FileSystem.directoryName(src), "out")
        #expect(throws: CheckpointError.tensorSetMismatch(path: src, problems: teacher.tensorProblems)) {
            try HuggingFaceExport.export(teacher, to: out)
        }
        #expect(!FileSystem.exists(out))
    }

    @Test func tokenizerConfigMatchesTransformersConventions() throws {
        let f = try GGUFFile(path: gguf("tiny_llama.gguf"))
        let (files, reason) = try GGUFTokenizerExport.files(f, contextLength: 256)
        #expect(reason == nil)
        let names = try #require(files).map(\.0)
        #expect(names == ["tokenizer.json", "tokenizer_config.json"])
        let tok = try #require(files?.first?.1)
        #expect(canonical(tok) == canonical(try json(gguf("tiny_llama.tokenizer.json"))))
        // A GGUF without a vocabulary exports no tokenizer, with the reason.
        let (none, why) = try GGUFTokenizerExport.files(try GGUFFile(path: gguf("quant_types.gguf")), contextLength: 1)
        #expect(none == nil && why == "the GGUF has no tokenizer (tokenizer.ggml.model is absent)")
    }

    /// The exported SmolLM2 tokenizer.json is the one the golden README describes; its tensors are the
    /// teacher's.
    @Test(.enabled(if: Fixtures.smollm2Available, Comment(rawValue: Fixtures.smollm2MissingReason)))
    func smollm2Export() throws {
        let out = FileSystem.join(Fixtures.temporaryDirectory(), "smollm2")
        let teacher = try TeacherCheckpoint.open(Fixtures.smollm2GGUF)
        let r = try HuggingFaceExport.export(teacher, to: out, dtype: .BF16)
        #expect(r.tensorCount == 272 && r.tensorBytes == 134_515_008 * 2)
        let tok = try json(FileSystem.join(out, "tokenizer.json"))
        #expect(tok["model"]?["merges"]?.arrayValue?.count == 48900)
        #expect(tok["model"]?["vocab"]?.objectMembers?.count == 49152)
        #expect(tok["added_tokens"]?.arrayValue?.count == 17)
        #expect(tok["post_processor"] == .null)  // add_bos_token is false
        #expect(tok["pre_tokenizer"]?["pretokenizers"]?.arrayValue?.first?["type"]?.stringValue == "Digits")
        let tc = try json(FileSystem.join(out, "tokenizer_config.json"))
        #expect(tc["add_bos_token"]?.boolValue == false && tc["eos_token"]?.stringValue == "<|im_end|>")
        let back = try TeacherCheckpoint.open(out)
        #expect(back.config.tieWordEmbeddings && back.store.info("lm_head.weight") == nil)
        let want = try teacher.load(.qProj(7)).copy()
        Convert.roundInPlace(want, to: .bfloat16)
        #expect(try back.load(.qProj(7)).toArray() == want.toArray())
    }
}

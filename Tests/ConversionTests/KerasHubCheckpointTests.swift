import CheckpointIO
import Conversion
import Models
import TensorCore
import TestSupport
import Testing

private let keras = Fixtures.fixture("hdf5/keras")

@Suite struct KerasHubCheckpointTests {
    /// The acceptance check: the KerasHub preset and the HF safetensors checkpoint of tiny-mistral give
    /// bit-identical F32 tensors for all 57 roles, and the same configuration.
    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func sharedPresetEqualsSafetensorsTwin() throws {
        let k = try TeacherCheckpoint.open(Fixtures.shared("checkpoints/tiny-mistral-keras"))
        let hf = try TeacherCheckpoint.open(Fixtures.shared("checkpoints/tiny-mistral"))
        #expect(k.format == .kerasHDF5)
        #expect(k.config == hf.config)
        #expect(k.configSource == Fixtures.shared("checkpoints/tiny-mistral-keras/config.json"))
        #expect(k.store.tensorInfos.count == 57)
        #expect(k.store.tensorInfos.allSatisfy { $0.storageType == "BF16" })
        #expect(k.store.tensorInfos.map(\.shape) == k.store.tensorNames.map { hf.store.info($0)?.shape ?? [] })
        try expectBitIdentical(k, hf)
    }

    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func tokenizerFilesOfSharedCheckpoints() throws {
        let dir = Fixtures.shared("checkpoints/tiny-mistral-keras")
        let k = try TeacherCheckpoint.open(dir)
        #expect(k.tokenizerFiles == TeacherTokenizerFiles(directory: dir, format: .kerasHDF5))
        #expect(k.tokenizerFiles.sentencePieceModel == "\(dir)/assets/tokenizer/vocabulary.spm")
        #expect(k.tokenizerFiles.huggingFaceTokenizer == nil, "a KerasHub tokenizer.json is a layer config")
        let hfDir = Fixtures.shared("checkpoints/tiny-mistral")
        let hf = try TeacherCheckpoint.open(hfDir).tokenizerFiles
        #expect(hf.sentencePieceModel == "\(hfDir)/tokenizer.model")
        #expect(hf.huggingFaceTokenizer == "\(hfDir)/tokenizer.json")
    }

    @Test func smallPresetsEqualTheirTwins() throws {
        let mistral = try TeacherCheckpoint.open("\(keras)/mistral")
        let mistralTwin = try TeacherCheckpoint.open(Fixtures.fixture("hdf5/mistral-twin"))
        #expect(mistral.config.declaredDtype == "bfloat16")
        var c = mistral.config
        c.declaredDtype = mistralTwin.config.declaredDtype
        #expect(c == mistralTwin.config)
        #expect(mistral.store.tensorInfos.allSatisfy { $0.storageType == "BF16" })
        try expectBitIdentical(mistral, mistralTwin)

        let llama = try TeacherCheckpoint.open("\(keras)/llama-tied/model.weights.h5")
        let llamaTwin = try TeacherCheckpoint.open(Fixtures.fixture("hdf5/llama-twin"))
        #expect(llama.config == llamaTwin.config)
        #expect(llama.config.tieWordEmbeddings && llama.config.family == .llama)
        #expect(llama.store.info("lm_head.weight") == nil)
        #expect(llama.store.tensorInfos.allSatisfy { $0.storageType == "F32" })
        try expectBitIdentical(llama, llamaTwin)
        #expect(try llama.load(.lmHead).toArray() == (try llamaTwin.load(.embedTokens).toArray()))
        #expect(llama.tokenizerFiles.sentencePieceModel == "\(keras)/llama-tied/assets/tokenizer/vocabulary.spm")
    }

    @Test func storeExposesHFShapesAndMappings() throws {
        let k = try TeacherCheckpoint.open("\(keras)/mistral")
        let store = try #require(k.store as? MappedTensorStore)
        let q = try #require(store.mapping("model.layers.1.self_attn.q_proj.weight"))
        #expect(q.source == "layers/mistral_transformer_decoder_1/_self_attention_layer/_query_dense/vars/0")
        #expect(q.transform == .transposed(rowAxes: 1))
        #expect(store.info(q.name)?.shape == [8, 8])
        let o = try #require(store.mapping("model.layers.0.self_attn.o_proj.weight"))
        #expect(o.source == "layers/mistral_transformer_decoder/_self_attention_layer/_output_dense/vars/0")
        #expect(o.transform == .transposed(rowAxes: 2))
        #expect(store.mapping("model.norm.weight")?.source == "layers/mistral_layer_normalization/vars/0")
        #expect(store.mapping("lm_head.weight")?.transform == .transposed(rowAxes: 1))
        #expect(throws: CheckpointError.self) { try store.loadFloat32("model.layers.9.mlp.up_proj.weight") }
    }

    @Test func unknownVariablesAreListed() throws {
        let dir = "\(keras)/malformed/unknown-variable"
        let r = tensorSetProblems { _ = try TeacherCheckpoint.open(dir) }
        #expect(r?.0 == "\(dir)/model.weights.h5")
        #expect(r?.1 == [
            "unexpected tensor `layers/mistral_transformer_decoder_2/_feedforward_gate_dense/vars/0`: in decoder block 2 but num_layers is 2",
            "unexpected tensor `layers/reversible_embedding/vars/2`: not a variable of a KerasHub keras_hub>MistralBackbone with this config",
        ])
    }

    @Test func missingVariablesAreListed() throws {
        let dir = "\(keras)/malformed/missing-variable"
        let r = tensorSetProblems { _ = try TeacherCheckpoint.open(dir) }
        #expect(r?.1 == [
            "missing tensor `layers/mistral_layer_normalization/vars/0` (`model.norm.weight`, shape [H] = [8])",
            "missing tensor `layers/mistral_transformer_decoder_1/_self_attention_layer/_key_dense/vars/0` (`model.layers.1.self_attn.k_proj.weight`, shape [H, nKV, D] = [8, 1, 4])",
        ])
    }

    @Test func misshapedVariablesAreListed() throws {
        // The q kernel has the right size but the wrong split, which an HF-shape check could not see.
        let dir = "\(keras)/malformed/misshaped-variable"
        let r = tensorSetProblems { _ = try TeacherCheckpoint.open(dir) }
        #expect(r?.1 == [
            "tensor `layers/mistral_transformer_decoder/_feedforward_output_dense/vars/0`: shape [8, 12] but the config implies [I, H] = [12, 8] for `model.layers.0.mlp.down_proj.weight`",
            "tensor `layers/mistral_transformer_decoder_1/_self_attention_layer/_query_dense/vars/0`: shape [8, 4, 2] but the config implies [H, nH, D] = [8, 2, 4] for `model.layers.1.self_attn.q_proj.weight`",
        ])
    }

    @Test func decoderBlockOfAPath() {
        let a = KerasHubArchitecture.mistral
        #expect(a.decoderBlock(ofPath: "layers/mistral_transformer_decoder/_feedforward_gate_dense/vars/0") == 0)
        #expect(a.decoderBlock(ofPath: "layers/mistral_transformer_decoder_12/vars") == 12)
        #expect(a.decoderBlock(ofPath: "layers/mistral_transformer_decoder_x/vars") == nil)
        #expect(a.decoderBlock(ofPath: "layers/mistral_transformer_decoder_01/vars") == nil)
        #expect(a.decoderBlock(ofPath: "layers/mistral_layer_normalization/vars/0") == nil)
        #expect(a.decoderBlock(ofPath: "layers/reversible_embedding/vars/2") == nil)
        #expect(KerasHubArchitecture.llama.decoderBlock(ofPath: "layers/llama_transformer_decoder_3/vars") == 3)
        for l in 0..<12 { #expect(a.decoderBlock(ofPath: a.decoderGroup(l) + "/vars") == l) }
    }

    @Test func withoutConfigTheTensorsAreShownAsStored() throws {
        let dir = Fixtures.temporaryDirectory()
        defer { FileSystem.remove("\(dir)/model.weights.h5") }
        try writeFileAtomically("\(dir)/model.weights.h5", bytes: try readFile("\(keras)/mistral/model.weights.h5"))
        let loc = try CheckpointLocator.locate(dir)
        #expect(loc.format == .kerasHDF5)
        #expect(throws: CheckpointError.notACheckpoint(
            path: dir, detail: "no config.json next to model.weights.h5 (a KerasHub preset keeps its backbone config there)")) {
            try loc.openTeacher()
        }
        let raw = try loc.openRawStore()
        #expect(raw.info("layers/reversible_embedding/vars/1")?.shape == [8, 16])
        #expect(raw.tensorInfos.count == 21)
    }

    @Test func layoutIsRecognisedFromTheContents() throws {
        // A KerasHub file under a flat-layout name still reads as KerasHub.
        let dir = Fixtures.temporaryDirectory()
        try writeFileAtomically("\(dir)/weights.h5", bytes: try readFile("\(keras)/llama-tied/model.weights.h5"))
        try writeFileAtomically("\(dir)/config.json", bytes: try readFile("\(keras)/llama-tied/config.json"))
        defer { for n in ["weights.h5", "config.json"] { FileSystem.remove("\(dir)/\(n)") } }
        #expect(try CheckpointLocator.locate(dir).format == .flatHDF5)
        let k = try TeacherCheckpoint.open(dir)
        #expect(k.format == .kerasHDF5)
        try expectBitIdentical(k, try TeacherCheckpoint.open(Fixtures.fixture("hdf5/llama-twin")))
    }
}

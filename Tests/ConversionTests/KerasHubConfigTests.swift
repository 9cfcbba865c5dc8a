import Conversion
import Models
import TensorCore
import TestSupport
import Testing

/// A KerasHub backbone config as `save_to_preset` writes it, with `extra` merged into "config".
private func kerasJSON(_ cls: String, _ extra: String = "") -> String {
    """
    {"module": "keras_hub.src.models.x", "class_name": "\(cls)", "registered_name": "keras_hub>\(cls)",
     "config": {"name": "b", "trainable": true,
                "dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "bfloat16"}, "registered_name": null},
                "vocabulary_size": 32, "num_layers": 2, "num_query_heads": 4, "hidden_dim": 16, "intermediate_dim": 24,
                "num_key_value_heads": 2, "dropout": 0\(extra)}}
    """
}

private func parse(_ text: String) throws -> TransformerConfig {
    try TransformerConfig.load(teacherConfigJSON: Array(text.utf8), file: "config.json")
}

@Suite struct KerasHubConfigTests {
    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func sharedPresetConfigMatchesTheHFConfig() throws {
        let k = try TransformerConfig.load(teacherConfigJSON: try readFile(Fixtures.shared("checkpoints/tiny-mistral-keras/config.json")),
                                           file: "k")
        let hf = try TransformerConfig.load(huggingFaceConfigAt: Fixtures.shared("checkpoints/tiny-mistral/config.json"))
        #expect(k == hf)
    }

    @Test func mistralDefaults() throws {
        let c = try parse(kerasJSON("MistralBackbone"))
        #expect(c.family == .mistral)
        #expect((c.vocabSize, c.numLayers, c.numHeads, c.hiddenSize, c.intermediateSize, c.numKVHeads) == (32, 2, 4, 16, 24, 2))
        #expect(c.headDim == 4, "hidden_dim / num_query_heads when head_dim is absent")
        #expect(c.slidingWindow == 512, "MistralBackbone's default")
        #expect(c.rmsNormEps == 1e-6 && c.ropeTheta == 10000)
        #expect(!c.tieWordEmbeddings && c.ropeScaling == nil)
        #expect(c.declaredDtype == "bfloat16")
        let explicit = try parse(kerasJSON("MistralBackbone", #", "head_dim": 8, "sliding_window": null, "layer_norm_epsilon": 1e-05, "rope_max_wavelength": 1000000.0, "rope_scaling_factor": 1.0"#))
        #expect(explicit.headDim == 8 && explicit.slidingWindow == nil && explicit.rmsNormEps == 1e-5 && explicit.ropeTheta == 1e6)
    }

    @Test func llamaKeys() throws {
        let c = try parse(kerasJSON("LlamaBackbone", #", "tie_word_embeddings": true, "rope_position_scaling_factor": 1.0, "sliding_window": 7"#))
        #expect(c.family == .llama && c.tieWordEmbeddings && c.slidingWindow == nil)
        let l3 = try parse(kerasJSON("LlamaBackbone", #", "rope_frequency_adjustment_factor": 8.0, "rope_low_freq_factor": 1.0, "rope_high_freq_factor": 4.0, "rope_pretraining_sequence_length": 8192"#))
        #expect(l3.ropeScaling?.factor == 8 && l3.ropeScaling?.lowFreqFactor == 1 && l3.ropeScaling?.highFreqFactor == 4)
        #expect(l3.ropeScaling?.originalMaxPositionEmbeddings == 8192)
        let mixed = try parse(kerasJSON("LlamaBackbone").replacingOccurrences(of: "\"name\": \"bfloat16\"", with: "\"name\": \"mixed_bfloat16\""))
        #expect(mixed.declaredDtype == "float32", "mixed policies keep float32 variables")
    }

    @Test func unsupportedConfigsAreRefused() throws {
        #expect(throws: ConfigError(file: "config.json", key: "registered_name",
                                    problem: "\"keras_hub>GemmaBackbone\" is not supported (expected keras_hub>MistralBackbone or keras_hub>LlamaBackbone)")) {
            try parse(kerasJSON("GemmaBackbone"))
        }
        #expect(throws: ConfigError(file: "config.json", key: "config.rope_scaling_factor",
                                    problem: "2.0 is not supported (KerasHub divides positions by it; t2r's RoPE expects 1.0)")) {
            try parse(kerasJSON("MistralBackbone", #", "rope_scaling_factor": 2.0"#))
        }
        #expect(throws: ConfigError(file: "config.json", key: "config.rope_position_scaling_factor",
                                    problem: "4.0 is not supported (KerasHub divides positions by it; t2r's RoPE expects 1.0)")) {
            try parse(kerasJSON("LlamaBackbone", #", "rope_position_scaling_factor": 4.0"#))
        }
        #expect(throws: ConfigError(file: "config.json", key: "config.rope_high_freq_factor",
                                    problem: "missing while rope_frequency_adjustment_factor, rope_low_freq_factor is set (Llama-3 RoPE needs all four)")) {
            try parse(kerasJSON("LlamaBackbone", #", "rope_frequency_adjustment_factor": 8.0, "rope_low_freq_factor": 1.0"#))
        }
        #expect(throws: ConfigError(file: "config.json", key: "config.num_layers", problem: "expected an integer, found \"2\"")) {
            try parse(kerasJSON("MistralBackbone").replacingOccurrences(of: "\"num_layers\": 2", with: "\"num_layers\": \"2\""))
        }
        #expect(throws: ConfigError(file: "config.json", key: "config.num_key_value_heads", problem: "missing (required to build the model)")) {
            try parse(kerasJSON("MistralBackbone").replacingOccurrences(of: "\"num_key_value_heads\": 2, ", with: ""))
        }
        #expect(throws: ConfigError(file: "config.json", key: "config", problem: "missing or not an object (the backbone's constructor arguments)")) {
            try parse(#"{"class_name": "MistralBackbone", "registered_name": "keras_hub>MistralBackbone"}"#)
        }
        // Validation of the translated model still applies (here: kv heads that do not divide the heads).
        #expect(throws: ConfigError.self) {
            try parse(kerasJSON("MistralBackbone").replacingOccurrences(of: "\"num_key_value_heads\": 2", with: "\"num_key_value_heads\": 3"))
        }
    }

    @Test func hfConfigsStillReadAsHF() throws {
        let c = try parse(#"{"model_type": "llama", "vocab_size": 8, "hidden_size": 4, "intermediate_size": 6, "num_hidden_layers": 1, "num_attention_heads": 2}"#)
        #expect(c.family == .llama && c.numKVHeads == 2)
        #expect(throws: ConfigError.self) { try parse("{") }
    }
}

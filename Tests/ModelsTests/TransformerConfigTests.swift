import Models
import TensorCore
import TestSupport
import Testing

@Suite struct TransformerConfigTests {
    private func parse(_ text: String) throws -> TransformerConfig {
        try TransformerConfig(huggingFaceJSON: try JSONParser.parse(text), file: "config.json")
    }

    private let base = #""model_type": "mistral", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4"#

    @Test func transformersV5Keys() throws {
        let c = try parse(#"{\#(base), "num_key_value_heads": 2, "rope_parameters": {"rope_type": "default", "rope_theta": 500.0}, "dtype": "bfloat16", "sliding_window": 32, "rms_norm_eps": 1e-05}"#)
        #expect(c.ropeTheta == 500 && c.declaredDtype == "bfloat16" && c.slidingWindow == 32 && c.headDim == 16 && c.numKVHeads == 2)
        #expect(c.rmsNormEps == 1e-5)
    }

    @Test func transformersV4Keys() throws {
        let c = try parse(#"{\#(base), "num_key_value_heads": 4, "rope_theta": 1000000.0, "torch_dtype": "float16", "sliding_window": null, "head_dim": 8, "tie_word_embeddings": true}"#)
        #expect(c.ropeTheta == 1_000_000 && c.declaredDtype == "float16" && c.slidingWindow == nil && c.headDim == 8 && c.tieWordEmbeddings)
    }

    @Test func defaultsFollowTransformers() throws {
        let m = try parse(#"{"model_type": "mistral", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 8}"#)
        #expect(m.numKVHeads == 8 && m.ropeTheta == 10000 && m.rmsNormEps == 1e-6 && !m.tieWordEmbeddings)
        let l = try parse(#"{"model_type": "llama", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "sliding_window": 8}"#)
        #expect(l.numKVHeads == 4 && l.slidingWindow == nil)
    }

    @Test(arguments: [
        (#"{"model_type": "gpt2"}"#, "model_type"),
        (#"{"model_type": "mistral", "vocab_size": 100}"#, "hidden_size"),
        (#"{"model_type": "mistral", "vocab_size": 100, "hidden_size": 65, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4}"#, "head_dim"),
        (#"{"model_type": "mistral", "architectures": ["LlamaForCausalLM"], "vocab_size": 100, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4}"#, "architectures"),
        (#"{"model_type": "mistral", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 3}"#, "num_key_value_heads"),
        (#"{"model_type": "mistral", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "rope_theta": 10.0, "rope_parameters": {"rope_theta": 20.0}}"#, "rope_parameters.rope_theta"),
        (#"{"model_type": "mistral", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "rope_parameters": {"rope_type": "yarn", "rope_theta": 20.0}}"#, "rope_scaling.rope_type"),
        (#"{"model_type": "mistral", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "hidden_act": "gelu"}"#, "hidden_act"),
        (#"{"model_type": "mistral", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": "2", "num_attention_heads": 4}"#, "num_hidden_layers"),
        (#"{"model_type": "llama", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "attention_bias": true}"#, "attention_bias"),
        (#"{"model_type": "mistral", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 96, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "sliding_window": 0}"#, "sliding_window"),
    ])
    func badConfigsNameTheKey(_ text: String, _ key: String) {
        do {
            _ = try parse(text)
            Issue.record("accepted: \(text)")
        } catch let e as ConfigError {
            #expect(e.key == key, "\(e)")
            #expect(e.description.contains("config.json"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test(.enabled(if: Fixtures.sharedAvailable, Comment(rawValue: Fixtures.sharedMissingReason)))
    func tinyMistral() throws {
        let c = try TransformerConfig.load(huggingFaceConfigAt: Fixtures.shared("checkpoints/tiny-mistral/config.json"))
        #expect(c.family == .mistral && c.numLayers == 6 && c.numHeads == 8 && c.numKVHeads == 2 && c.headDim == 32)
        #expect(c.slidingWindow == 512 && !c.tieWordEmbeddings && c.ropeTheta == 10000 && c.rmsNormEps == 1e-5)
        #expect(c.parameterCount == 20_909_312)
        // Round trip through our own config.json writer.
        let again = try TransformerConfig(huggingFaceJSON: c.huggingFaceJSON(dtype: "bfloat16"), file: "x")
        #expect(again == c)
    }
}

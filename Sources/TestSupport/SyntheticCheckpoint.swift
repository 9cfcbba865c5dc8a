// Small deterministic HF-layout teacher checkpoints written on the fly, for tests that need a real
// directory (config.json + safetensors) but not the shared reference data.
import CheckpointIO
import TensorCore

public enum SyntheticCheckpoint {
    /// Writes a Llama/Mistral checkpoint with random weights (seeded) into `dir`; returns the tensor values by HF name.
    @discardableResult
    public static func write(to dir: String, modelType: String = "mistral", vocab: Int = 37, hidden: Int = 24, intermediate: Int = 40,
                             layers: Int = 2, heads: Int = 6, kvHeads: Int = 2, headDim: Int? = nil, tied: Bool = false,
                             slidingWindow: Int? = nil, dtype: SafetensorsDType = .F32, extraTensors: [String: [Int]] = [:],
                             seed: UInt64 = 1) throws -> [String: Tensor] {
        try FileSystem.createDirectory(dir)
        let dh = headDim ?? hidden / heads
        var config = """
        {"architectures": ["\(modelType == "llama" ? "LlamaForCausalLM" : "MistralForCausalLM")"], "model_type": "\(modelType)",
         "vocab_size": \(vocab), "hidden_size": \(hidden), "intermediate_size": \(intermediate), "num_hidden_layers": \(layers),
         "num_attention_heads": \(heads), "num_key_value_heads": \(kvHeads), "head_dim": \(dh), "rms_norm_eps": 1e-05,
         "rope_parameters": {"rope_type": "default", "rope_theta": 500.0}, "tie_word_embeddings": \(tied),
         "dtype": "\(dtype == .BF16 ? "bfloat16" : "float32")"
        """
        if modelType == "mistral" { config += ", \"sliding_window\": \(slidingWindow.map(String.init) ?? "null")" }
        config += "}"
        try writeFileAtomically(FileSystem.join(dir, "config.json"), text: config)
        var rng = SeededRNG(seed: seed)
        var tensors: [String: Tensor] = [:]
        func add(_ name: String, _ shape: [Int], std: Float, offset: Float = 0) {
            let t = Tensor(zeros: shape)
            t.fillNormal(mean: offset, std: std, rng: &rng)
            if dtype == .BF16 { Convert.roundInPlace(t, to: .bfloat16) }
            tensors[name] = t
        }
        add("model.embed_tokens.weight", [vocab, hidden], std: 1)
        for l in 0..<layers {
            let p = "model.layers.\(l)."
            add(p + "input_layernorm.weight", [hidden], std: 0.1, offset: 1)
            add(p + "self_attn.q_proj.weight", [heads * dh, hidden], std: 0.3)
            add(p + "self_attn.k_proj.weight", [kvHeads * dh, hidden], std: 0.3)
            add(p + "self_attn.v_proj.weight", [kvHeads * dh, hidden], std: 0.3)
            add(p + "self_attn.o_proj.weight", [hidden, heads * dh], std: 0.2)
            add(p + "post_attention_layernorm.weight", [hidden], std: 0.1, offset: 1)
            add(p + "mlp.gate_proj.weight", [intermediate, hidden], std: 0.3)
            add(p + "mlp.up_proj.weight", [intermediate, hidden], std: 0.3)
            add(p + "mlp.down_proj.weight", [hidden, intermediate], std: 0.2)
        }
        add("model.norm.weight", [hidden], std: 0.1, offset: 1)
        if !tied { add("lm_head.weight", [vocab, hidden], std: 0.3) }
        for (n, s) in extraTensors { add(n, s, std: 1) }
        try SafetensorsWriter.write(tensors.sorted { $0.key < $1.key }.map { SafetensorsEntry(name: $0.key, tensor: $0.value, dtype: dtype) },
                                    to: FileSystem.join(dir, "model.safetensors"))
        return tensors
    }
}

// A KerasHub backbone config.json (as `save_to_preset` writes it: {"module", "class_name", "config",
// "registered_name"}) translated into a TransformerConfig. Keys and defaults are those of keras-hub's
// MistralBackbone / LlamaBackbone constructors (keras_hub/src/models/mistral/mistral_backbone.py,
// keras_hub/src/models/llama/llama_backbone.py); the mapping is the inverse of keras-hub's HF converters
// (utils/transformers/convert_mistral.py, convert_llama3.py). KerasHub backbones do not record token ids
// or a context length; those keep TransformerConfig's defaults (bos 1, eos 2, 4096 positions).
import Models
import TensorCore

extension TransformerConfig {
    /// Reads a KerasHub `MistralBackbone` or `LlamaBackbone` config. Other classes, position scaling
    /// (`rope_scaling_factor` / `rope_position_scaling_factor` ≠ 1) and a partial Llama-3 RoPE setting
    /// are refused with a `ConfigError` naming the key.
    public init(kerasHubJSON json: JSONValue, file: String) throws {
        func err(_ key: String, _ problem: String) -> ConfigError { ConfigError(file: file, key: key, problem: problem) }
        guard json.objectMembers != nil else { throw err("", "expected a JSON object, found \(json.typeNameWithArticle)") }
        let supported = KerasHubArchitecture.all.map(\.registeredName)
        let registered: String
        if let r = json["registered_name"], !r.isNull {
            guard let s = r.stringValue else { throw err("registered_name", "expected a string, found \(r)") }
            registered = s
        } else if let c = json["class_name"]?.stringValue {
            registered = "keras_hub>\(c)"
        } else {
            throw err("class_name", "missing: not a KerasHub backbone config (expected \(supported.joined(separator: " or ")))")
        }
        guard let arch = KerasHubArchitecture.all.first(where: { $0.registeredName == registered }) else {
            throw err("registered_name", "\"\(registered)\" is not supported (expected \(supported.joined(separator: " or ")))")
        }
        guard let c = json["config"], c.objectMembers != nil else {
            throw err("config", "missing or not an object (the backbone's constructor arguments)")
        }

        func value(_ key: String) -> JSONValue? {
            guard let v = c[key], !v.isNull else { return nil }
            return v
        }
        func int(_ key: String) throws -> Int? {
            guard let v = value(key) else { return nil }
            guard let i = v.intValue else { throw err("config.\(key)", "expected an integer, found \(v)") }
            return i
        }
        func requiredInt(_ key: String) throws -> Int {
            guard let i = try int(key) else { throw err("config.\(key)", "missing (required to build the model)") }
            return i
        }
        func double(_ key: String) throws -> Double? {
            guard let v = value(key) else { return nil }
            guard let d = v.doubleValue else { throw err("config.\(key)", "expected a number, found \(v)") }
            return d
        }

        for key in ["rope_scaling_factor", "rope_position_scaling_factor"] {
            if let f = try double(key), f != 1 {
                throw err("config.\(key)", "\(f) is not supported (KerasHub divides positions by it; t2r's RoPE expects 1.0)")
            }
        }
        // Llama-3 RoPE (keras-hub LlamaRotaryEmbedding): all four keys or none, as HF rope_type "llama3".
        var ropeParameters: [(String, JSONValue)] = [("rope_type", .string("default"))]
        if arch.family == .llama {
            let keys = ["rope_frequency_adjustment_factor", "rope_low_freq_factor", "rope_high_freq_factor",
                        "rope_pretraining_sequence_length"]
            let set = keys.filter { value($0) != nil }
            if !set.isEmpty {
                if let absent = keys.first(where: { value($0) == nil }) {
                    throw err("config.\(absent)", "missing while \(set.joined(separator: ", ")) is set (Llama-3 RoPE needs all four)")
                }
                ropeParameters = [("rope_type", .string("llama3")), ("factor", .double(try double(keys[0])!)),
                                  ("low_freq_factor", .double(try double(keys[1])!)),
                                  ("high_freq_factor", .double(try double(keys[2])!)),
                                  ("original_max_position_embeddings", .int(try requiredInt(keys[3])))]
            }
        }

        let hidden = try requiredInt("hidden_dim")
        let heads = try requiredInt("num_query_heads")
        var headDim = try int("head_dim")
        if headDim == nil {
            // keras-hub's attention layers use hidden_dim // num_query_heads.
            guard heads > 0, hidden % heads == 0 else {
                throw err("config.head_dim", "absent, and hidden_dim \(hidden) is not divisible by num_query_heads \(heads)")
            }
            headDim = hidden / heads
        }
        var window: Int?
        if arch.family == .mistral {
            // MistralBackbone's default is 512; null means full causal attention.
            if let v = c["sliding_window"] {
                if !v.isNull {
                    guard let w = v.intValue else { throw err("config.sliding_window", "expected null or an integer, found \(v)") }
                    window = w
                }
            } else {
                window = 512
            }
        }
        var tied = false
        if let v = value("tie_word_embeddings") {
            guard let b = v.boolValue else { throw err("config.tie_word_embeddings", "expected true or false, found \(v)") }
            tied = b
        }

        // The same model as a transformers config.json, read by the HF reader (defaults, validation).
        var hf: [(String, JSONValue)] = [
            ("model_type", .string(arch.family.rawValue)),
            ("vocab_size", .int(try requiredInt("vocabulary_size"))),
            ("hidden_size", .int(hidden)),
            ("intermediate_size", .int(try requiredInt("intermediate_dim"))),
            ("num_hidden_layers", .int(try requiredInt("num_layers"))),
            ("num_attention_heads", .int(heads)),
            ("num_key_value_heads", .int(try requiredInt("num_key_value_heads"))),
            ("head_dim", .int(headDim!)),
            ("rms_norm_eps", .double(try double("layer_norm_epsilon") ?? 1e-6)),
            ("rope_theta", .double(try double("rope_max_wavelength") ?? 10000)),
            ("rope_scaling", .object(ropeParameters)),
            ("max_position_embeddings", .int(4096)),
            ("tie_word_embeddings", .bool(tied)),
            ("sliding_window", window.map { .int($0) } ?? .null),
        ]
        if let dtype = try TransformerConfig.kerasVariableDtype(c["dtype"], file: file) { hf.append(("dtype", .string(dtype))) }
        try self.init(huggingFaceJSON: .object(hf), file: file)
    }

    /// The variable dtype of a Keras dtype policy (a name, or {"class_name": "DTypePolicy", "config":
    /// {"name": …}}): "bfloat16", "float16", "float32"; mixed policies keep float32 variables.
    static func kerasVariableDtype(_ policy: JSONValue?, file: String) throws -> String? {
        guard let policy, !policy.isNull else { return nil }
        guard let name = policy.stringValue ?? policy["config"]?["name"]?.stringValue else {
            throw ConfigError(file: file, key: "config.dtype", problem: "expected a dtype policy name or object, found \(policy)")
        }
        return name.hasPrefix("mixed_") ? "float32" : name
    }

    /// Reads a teacher config from JSON text: a KerasHub backbone config when it has `class_name` or
    /// `registered_name`, else a Hugging Face config.json.
    public static func load(teacherConfigJSON text: [UInt8], file: String) throws -> TransformerConfig {
        let json: JSONValue
        do { json = try JSONParser.parse(text) } catch {
            throw ConfigError(file: file, key: "", problem: "not valid JSON: \(error)")
        }
        if json["class_name"] != nil || json["registered_name"] != nil {
            return try TransformerConfig(kerasHubJSON: json, file: file)
        }
        return try TransformerConfig(huggingFaceJSON: json, file: file)
    }
}

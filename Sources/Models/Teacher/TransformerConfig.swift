// The teacher's architecture: a Mistral- or Llama-style decoder (RMSNorm, rotate-half RoPE, GQA
// softmax attention with an optional sliding window, SwiGLU MLP). Read from Hugging Face config.json
// files written by transformers v4 or v5 (`rope_theta` or `rope_parameters`, `torch_dtype` or `dtype`),
// with the defaults of transformers' MistralConfig / LlamaConfig where a key is absent
// (transformers models/mistral/configuration_mistral.py, models/llama/configuration_llama.py).
import TensorCore

public struct TransformerConfig: Sendable, Equatable {
    public enum Family: String, Sendable { case mistral, llama }

    /// Llama-3.1 style RoPE frequency scaling (`rope_type: "llama3"`).
    public struct Llama3RopeScaling: Sendable, Equatable {
        public var factor: Double
        public var lowFreqFactor: Double
        public var highFreqFactor: Double
        public var originalMaxPositionEmbeddings: Int
    }

    public var family: Family
    public var vocabSize: Int
    public var hiddenSize: Int  // D
    public var intermediateSize: Int  // I
    public var numLayers: Int  // L
    public var numHeads: Int  // H
    public var numKVHeads: Int  // Hkv
    public var headDim: Int  // dh
    public var rmsNormEps: Double
    public var ropeTheta: Double
    public var ropeScaling: Llama3RopeScaling?
    /// Each query sees at most this many keys, itself included; nil = full causal attention.
    public var slidingWindow: Int?
    public var tieWordEmbeddings: Bool
    public var maxPositionEmbeddings: Int
    public var bosTokenId: Int?
    public var eosTokenIds: [Int]
    public var padTokenId: Int?
    /// The storage dtype the config declares (`dtype` / `torch_dtype`), if any. A hint only.
    public var declaredDtype: String?

    public init(family: Family, vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numLayers: Int,
                numHeads: Int, numKVHeads: Int, headDim: Int? = nil, rmsNormEps: Double = 1e-6,
                ropeTheta: Double = 10000, ropeScaling: Llama3RopeScaling? = nil, slidingWindow: Int? = nil,
                tieWordEmbeddings: Bool = false, maxPositionEmbeddings: Int = 4096, bosTokenId: Int? = 1,
                eosTokenIds: [Int] = [2], padTokenId: Int? = nil, declaredDtype: String? = nil) {
        self.family = family
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.numKVHeads = numKVHeads
        self.headDim = headDim ?? (numHeads > 0 ? hiddenSize / numHeads : 0)
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.ropeScaling = ropeScaling
        self.slidingWindow = slidingWindow
        self.tieWordEmbeddings = tieWordEmbeddings
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.bosTokenId = bosTokenId
        self.eosTokenIds = eosTokenIds
        self.padTokenId = padTokenId
        self.declaredDtype = declaredDtype
    }

    /// Query heads per kv head (G).
    public var groupSize: Int { numHeads / numKVHeads }

    /// Number of parameters of the architecture (embeddings, layers, final norm, head if untied); Int.max
    /// when the sizes overflow (a validated config never does).
    public var parameterCount: Int {
        ConfigLimits.checked {
            let d = hiddenSize
            let attn = try $0.sum($0.product(d, numHeads, headDim, 2), $0.product(d, numKVHeads, headDim, 2))
            let perLayer = try $0.sum(attn, $0.product(3, d, intermediateSize), $0.product(2, d))
            return try $0.sum($0.product(vocabSize, d, tieWordEmbeddings ? 1 : 2), $0.product(numLayers, perLayer), d)
        } ?? Int.max
    }

    /// Checks the invariants the forward pass relies on.
    public func validate(file: String) throws {
        func positive(_ v: Int, _ key: String) throws {
            if v <= 0 { throw ConfigError(file: file, key: key, problem: "must be a positive integer, found \(v)") }
        }
        try positive(vocabSize, "vocab_size")
        try positive(hiddenSize, "hidden_size")
        try positive(intermediateSize, "intermediate_size")
        try positive(numLayers, "num_hidden_layers")
        try positive(numHeads, "num_attention_heads")
        try positive(numKVHeads, "num_key_value_heads")
        try positive(headDim, "head_dim")
        for (v, key, limit) in [(vocabSize, "vocab_size", ConfigLimits.maxDimension), (hiddenSize, "hidden_size", ConfigLimits.maxDimension),
                                (intermediateSize, "intermediate_size", ConfigLimits.maxDimension), (headDim, "head_dim", ConfigLimits.maxDimension),
                                (numLayers, "num_hidden_layers", ConfigLimits.maxLayers), (numHeads, "num_attention_heads", ConfigLimits.maxHeads),
                                (numKVHeads, "num_key_value_heads", ConfigLimits.maxHeads)] where v > limit {
            throw ConfigError(file: file, key: key, problem: "\(v) is beyond any model t2r can hold (at most \(limit))")
        }
        if parameterCount > ConfigLimits.maxParameters {
            throw ConfigError(file: file, key: "", problem: "the sizes describe \(parameterCount == Int.max ? "more than 2^63" : String(parameterCount)) "
                + "parameters, beyond any model t2r can hold (at most \(ConfigLimits.maxParameters))")
        }
        if numHeads % numKVHeads != 0 {
            throw ConfigError(file: file, key: "num_key_value_heads",
                              problem: "\(numKVHeads) does not divide num_attention_heads \(numHeads)")
        }
        if headDim % 2 != 0 {
            throw ConfigError(file: file, key: "head_dim", problem: "RoPE needs an even head dimension, found \(headDim)")
        }
        if !(rmsNormEps > 0) || !rmsNormEps.isFinite {
            throw ConfigError(file: file, key: "rms_norm_eps", problem: "must be a positive number, found \(rmsNormEps)")
        }
        if !(ropeTheta > 0) || !ropeTheta.isFinite {
            throw ConfigError(file: file, key: "rope_theta", problem: "must be a positive number, found \(ropeTheta)")
        }
        if let w = slidingWindow, w <= 0 {
            throw ConfigError(file: file, key: "sliding_window", problem: "must be null or a positive integer, found \(w)")
        }
        if let r = ropeScaling {
            for (v, key) in [(r.factor, "factor"), (r.lowFreqFactor, "low_freq_factor"), (r.highFreqFactor, "high_freq_factor")]
            where !(v > 0) || !v.isFinite {
                throw ConfigError(file: file, key: "rope_scaling.\(key)", problem: "must be a positive number, found \(v)")
            }
            if !(r.highFreqFactor > r.lowFreqFactor) {
                throw ConfigError(file: file, key: "rope_scaling.high_freq_factor",
                                  problem: "must exceed low_freq_factor \(r.lowFreqFactor), found \(r.highFreqFactor)")
            }
            if r.originalMaxPositionEmbeddings <= 0 {
                throw ConfigError(file: file, key: "rope_scaling.original_max_position_embeddings",
                                  problem: "must be a positive integer, found \(r.originalMaxPositionEmbeddings)")
            }
        }
    }
}

// MARK: - Hugging Face config.json

extension TransformerConfig {
    /// Reads a transformers `config.json` (v4 or v5 key names) for `model_type` "mistral" or "llama".
    public init(huggingFaceJSON json: JSONValue, file: String) throws {
        guard json.objectMembers != nil else {
            throw ConfigError(file: file, key: "", problem: "expected a JSON object, found \(json.typeNameWithArticle)")
        }
        func err(_ key: String, _ problem: String) -> ConfigError { ConfigError(file: file, key: key, problem: problem) }
        func int(_ key: String) throws -> Int? {
            guard let v = json[key], !v.isNull else { return nil }
            guard let i = v.intValue else { throw err(key, "expected an integer, found \(v)") }
            return i
        }
        func requiredInt(_ key: String) throws -> Int {
            guard let i = try int(key) else { throw err(key, "missing (required to build the model)") }
            return i
        }
        func double(_ key: String, in obj: JSONValue? = nil) throws -> Double? {
            guard let v = (obj ?? json)[key], !v.isNull else { return nil }
            guard let d = v.doubleValue else { throw err(key, "expected a number, found \(v)") }
            return d
        }
        func bool(_ key: String) throws -> Bool? {
            guard let v = json[key], !v.isNull else { return nil }
            guard let b = v.boolValue else { throw err(key, "expected true or false, found \(v)") }
            return b
        }

        // Family: model_type, cross-checked with architectures.
        let archs = json["architectures"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let archFamily: Family? = archs.contains("MistralForCausalLM") ? .mistral : archs.contains("LlamaForCausalLM") ? .llama : nil
        let family: Family
        if let mt = json["model_type"]?.stringValue {
            guard let f = Family(rawValue: mt) else {
                throw err("model_type", "\"\(mt)\" is not supported (expected \"mistral\" or \"llama\")")
            }
            if let a = archFamily, a != f {
                throw err("architectures", "\(archs) contradicts model_type \"\(mt)\"")
            }
            family = f
        } else if let a = archFamily {
            family = a
        } else {
            throw err("model_type", "missing, and architectures \(archs) names neither MistralForCausalLM nor LlamaForCausalLM")
        }

        let hidden = try requiredInt("hidden_size")
        let heads = try requiredInt("num_attention_heads")
        // transformers' MistralConfig defaults num_key_value_heads to 8, LlamaConfig to num_attention_heads.
        let kvHeads = try int("num_key_value_heads") ?? (family == .mistral ? 8 : heads)
        var headDim = try int("head_dim")
        if headDim == nil {
            guard heads > 0, hidden % heads == 0 else {
                throw err("head_dim", "absent, and hidden_size \(hidden) is not divisible by num_attention_heads \(heads)")
            }
            headDim = hidden / heads
        }

        if let act = json["hidden_act"]?.stringValue, act != "silu" && act != "swish" {
            throw err("hidden_act", "\"\(act)\" is not supported (the teacher MLP is SwiGLU: expected \"silu\")")
        }
        if try bool("attention_bias") == true {
            throw err("attention_bias", "q/k/v/o biases are not supported")
        }
        if try bool("mlp_bias") == true {
            throw err("mlp_bias", "MLP biases are not supported")
        }
        if let lt = json["layer_types"]?.arrayValue, !lt.isEmpty {
            let kinds = Set(lt.compactMap(\.stringValue))
            if kinds.count > 1 {
                throw err("layer_types", "per-layer attention types \(kinds.sorted()) are not supported")
            }
        }

        // RoPE: v5 `rope_parameters`, v4 top-level `rope_theta` / `rope_scaling`.
        let legacyTheta = try double("rope_theta")
        var theta = legacyTheta
        var ropeParams = json["rope_parameters"]
        if ropeParams?.isNull == true { ropeParams = nil }
        if let rp = ropeParams {
            guard rp.objectMembers != nil else { throw err("rope_parameters", "expected an object, found \(rp.typeNameWithArticle)") }
            if let t = try double("rope_theta", in: rp) {
                if let l = legacyTheta, l != t {
                    throw err("rope_parameters.rope_theta", "\(t) contradicts the top-level rope_theta \(l)")
                }
                theta = t
            }
        }
        var scaling = json["rope_scaling"]
        if scaling?.isNull == true { scaling = nil }
        if scaling == nil, let rp = ropeParams { scaling = rp }
        var llama3: Llama3RopeScaling?
        if let s = scaling {
            let type = s["rope_type"]?.stringValue ?? s["type"]?.stringValue ?? "default"
            switch type {
            case "default": break
            case "llama3":
                func need(_ k: String) throws -> Double {
                    guard let d = s[k]?.doubleValue else { throw err("rope_scaling.\(k)", "missing for rope_type \"llama3\"") }
                    return d
                }
                let original = try need("original_max_position_embeddings")
                guard original.rounded() == original, original >= 1, original <= Double(ConfigLimits.maxDimension) else {
                    throw err("rope_scaling.original_max_position_embeddings", "expected a positive integer, found \(original)")
                }
                llama3 = Llama3RopeScaling(factor: try need("factor"), lowFreqFactor: try need("low_freq_factor"),
                                           highFreqFactor: try need("high_freq_factor"), originalMaxPositionEmbeddings: Int(original))
            default:
                throw err("rope_scaling.rope_type", "\"\(type)\" is not supported (expected \"default\" or \"llama3\")")
            }
        }

        var window: Int?
        if family == .mistral, let w = json["sliding_window"], !w.isNull {
            if let i = w.intValue { window = i } else if let s = w.stringValue, let i = Int(s) { window = i } else {
                throw err("sliding_window", "expected null or an integer, found \(w)")
            }
        }

        let eos: [Int]
        if let e = json["eos_token_id"], !e.isNull {
            if let i = e.intValue { eos = [i] } else if let a = e.arrayValue, a.allSatisfy({ $0.intValue != nil }) {
                eos = a.compactMap(\.intValue)
            } else {
                throw err("eos_token_id", "expected an integer or a list of integers, found \(e)")
            }
        } else {
            eos = [2]
        }
        let dtypeV5 = json["dtype"]?.stringValue
        let dtypeV4 = json["torch_dtype"]?.stringValue

        self.init(family: family, vocabSize: try requiredInt("vocab_size"), hiddenSize: hidden,
                  intermediateSize: try requiredInt("intermediate_size"), numLayers: try requiredInt("num_hidden_layers"),
                  numHeads: heads, numKVHeads: kvHeads, headDim: headDim,
                  rmsNormEps: try double("rms_norm_eps") ?? 1e-6, ropeTheta: theta ?? 10000, ropeScaling: llama3,
                  slidingWindow: window, tieWordEmbeddings: try bool("tie_word_embeddings") ?? false,
                  maxPositionEmbeddings: try int("max_position_embeddings") ?? (family == .mistral ? 131072 : 2048),
                  bosTokenId: try int("bos_token_id") ?? 1, eosTokenIds: eos, padTokenId: try int("pad_token_id"),
                  declaredDtype: dtypeV5 ?? dtypeV4)
        try validate(file: file)
    }

    /// Reads `config.json` at `path`.
    public static func load(huggingFaceConfigAt path: String) throws -> TransformerConfig {
return try TransformerConfig(huggingFaceJSON: try readConfigJSON(path), file: path)
    }

    /// A transformers-5 style config.json for this architecture.
    public func huggingFaceJSON(dtype: String = "float32") -> JSONValue {
        var m: [(String, JSONValue)] = [
            ("architectures", .array([.string(family == .mistral ? "MistralForCausalLM" : "LlamaForCausalLM")])),
            ("attention_dropout", .number("0.0")),
            ("bos_token_id", bosTokenId.map { .int($0) } ?? .null),
            ("dtype", .string(dtype)),
            ("eos_token_id", eosTokenIds.count == 1 ? .int(eosTokenIds[0]) : .array(eosTokenIds.map { .int($0) })),
            ("head_dim", .int(headDim)),
            ("hidden_act", .string("silu")),
            ("hidden_size", .int(hiddenSize)),
            ("initializer_range", .number("0.02")),
            ("intermediate_size", .int(intermediateSize)),
            ("max_position_embeddings", .int(maxPositionEmbeddings)),
            ("model_type", .string(family.rawValue)),
            ("num_attention_heads", .int(numHeads)),
            ("num_hidden_layers", .int(numLayers)),
            ("num_key_value_heads", .int(numKVHeads)),
            ("pad_token_id", padTokenId.map { .int($0) } ?? .null),
            ("rms_norm_eps", .double(rmsNormEps)),
        ]
        var rope: [(String, JSONValue)] = [("rope_theta", .double(ropeTheta)), ("rope_type", .string("default"))]
        if let s = ropeScaling {
            rope = [("factor", .double(s.factor)), ("high_freq_factor", .double(s.highFreqFactor)),
                    ("low_freq_factor", .double(s.lowFreqFactor)),
                    ("original_max_position_embeddings", .int(s.originalMaxPositionEmbeddings)),
                    ("rope_theta", .double(ropeTheta)), ("rope_type", .string("llama3"))]
        }
        m.append(("rope_parameters", .object(rope)))
        if family == .mistral { m.append(("sliding_window", slidingWindow.map { .int($0) } ?? .null)) }
        m.append(("tie_word_embeddings", .bool(tieWordEmbeddings)))
        m.append(("use_cache", .bool(true)))
        m.append(("vocab_size", .int(vocabSize)))
        return .object(m)
    }
}

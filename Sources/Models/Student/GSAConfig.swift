// The GSA student's configuration, with fla's field names and defaults (fla 0.6.0
// fla/models/gsa/configuration_gsa.py, ../shared/reference/gsa.md §12–§14), so students load in fla's
// GSAForCausalLM and fla's GSA checkpoints load here.
import TensorCore

public struct GSAConfig: Sendable, Equatable {
    public enum FeatureMap: String, Sendable, CaseIterable { case swish, relu }

    /// fla's hybrid `attn` spec: the listed layers keep softmax attention (fla.layers.attn.Attention).
    public struct HybridAttention: Sendable, Equatable {
        public var layers: [Int]
        public var numHeads: Int
        public var numKVHeads: Int
        public var qkvBias: Bool = false
        /// Each query sees at most this many keys, itself included (flash-attn window (W−1, 0)).
        public var windowSize: Int?
        public var ropeTheta: Double = 10000
        public init(layers: [Int], numHeads: Int, numKVHeads: Int, qkvBias: Bool = false, windowSize: Int? = nil, ropeTheta: Double = 10000) {
            self.layers = layers
            self.numHeads = numHeads
            self.numKVHeads = numKVHeads
            self.qkvBias = qkvBias
            self.windowSize = windowSize
            self.ropeTheta = ropeTheta
        }
    }

    public var vocabSize: Int
    public var hiddenSize: Int  // D
    public var intermediateSize: Int  // I
    public var numLayers: Int  // L
    public var numHeads: Int  // H
    public var numKVHeads: Int  // Hkv
    public var expandK: Double = 1
    public var expandV: Double = 1
    public var numSlots: Int = 64  // M
    public var gateLogitNormalizer: Double = 8  // τ
    public var featureMap: FeatureMap = .swish
    public var normEps: Double = 1e-6
    public var elementwiseAffine: Bool = true
    public var tieWordEmbeddings: Bool = false
    public var maxPositionEmbeddings: Int = 2048
    public var initializerRange: Double = 0.02
    public var bosTokenId: Int? = 1
    public var eosTokenId: [Int] = [2]
    public var padTokenId: Int?
    public var hybrid: HybridAttention?
    /// Storage dtype recorded in config.json ("bfloat16" / "float32").
    public var dtype: String = "float32"

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numLayers: Int, numHeads: Int, numKVHeads: Int) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.numKVHeads = numKVHeads
    }

    public var keyDim: Int { Int((Double(hiddenSize) * expandK).rounded()) }
    public var valueDim: Int { Int((Double(hiddenSize) * expandV).rounded()) }
    public var headKDim: Int { keyDim / numHeads }  // dk
    public var headVDim: Int { valueDim / numHeads }  // dv
    public var groupSize: Int { numHeads / numKVHeads }  // G

    /// True when layer `l` keeps softmax attention.
    public func isSoftmaxLayer(_ l: Int) -> Bool { hybrid?.layers.contains(l) ?? false }

    /// Head dim of hybrid softmax layers (fla: hidden_size / attn.num_heads).
    public var softmaxHeadDim: Int { hybrid.map { hiddenSize / $0.numHeads } ?? 0 }

    /// Recurrent state floats per sequence: Hkv·M·(dk + dv) per GSA layer (stored once per kv head).
    public var stateFloatsPerSequence: Int {
        (0..<numLayers).filter { !isSoftmaxLayer($0) }.count * numKVHeads * numSlots * (headKDim + headVDim)
    }

    public func validate(file: String) throws {
        func fail(_ k: String, _ p: String) -> ConfigError { ConfigError(file: file, key: k, problem: p) }
        for (v, k) in [(vocabSize, "vocab_size"), (hiddenSize, "hidden_size"), (intermediateSize, "intermediate_size"),
                       (numLayers, "num_hidden_layers"), (numHeads, "num_heads"), (numKVHeads, "num_kv_heads"), (numSlots, "num_slots")]
        where v <= 0 {
            throw fail(k, "must be a positive integer, found \(v)")
        }
        for (v, k, limit) in [(vocabSize, "vocab_size", ConfigLimits.maxDimension), (hiddenSize, "hidden_size", ConfigLimits.maxDimension),
                              (intermediateSize, "intermediate_size", ConfigLimits.maxDimension), (numLayers, "num_hidden_layers", ConfigLimits.maxLayers),
                              (numHeads, "num_heads", ConfigLimits.maxHeads), (numKVHeads, "num_kv_heads", ConfigLimits.maxHeads),
                              (numSlots, "num_slots", ConfigLimits.maxHeads)] where v > limit {
            throw fail(k, "\(v) is beyond any model t2r can hold (at most \(limit))")
        }
        for (v, k) in [(expandK, "expand_k"), (expandV, "expand_v")] where !(v > 0) || !(v <= 64) {
            throw fail(k, "must be a positive number of at most 64, found \(v)")
        }
        if numHeads % numKVHeads != 0 { throw fail("num_kv_heads", "\(numKVHeads) does not divide num_heads \(numHeads)") }
        if Double(keyDim) != Double(hiddenSize) * expandK { throw fail("expand_k", "hidden_size × expand_k must be an integer") }
        if keyDim % numHeads != 0 { throw fail("expand_k", "key dim \(keyDim) is not divisible by num_heads \(numHeads)") }
        if valueDim != hiddenSize {
            throw fail("expand_v", "must be 1: fla's g_norm weight is [hidden_size], so the value dim must equal hidden_size")
        }
        let parameters = ConfigLimits.checked {
            try $0.sum($0.product(vocabSize, hiddenSize, tieWordEmbeddings ? 1 : 2),
                       $0.product(numLayers, $0.sum($0.product(4, hiddenSize, keyDim), $0.product(hiddenSize, numSlots),
                                                    $0.product(3, hiddenSize, intermediateSize))))
        }
        if (parameters ?? Int.max) > ConfigLimits.maxParameters {
            throw fail("", "the sizes describe more than \(ConfigLimits.maxParameters) parameters, beyond any model t2r can hold")
        }
        if !(gateLogitNormalizer > 0) || !gateLogitNormalizer.isFinite { throw fail("gate_logit_normalizer", "must be positive, found \(gateLogitNormalizer)") }
        if !(normEps > 0) || !normEps.isFinite { throw fail("norm_eps", "must be positive, found \(normEps)") }
        if let h = hybrid {
            if Set(h.layers).count != h.layers.count { throw fail("attn.layers", "lists a layer twice: \(h.layers)") }
            if let bad = h.layers.first(where: { $0 < 0 || $0 >= numLayers }) {
                throw fail("attn.layers", "layer \(bad) outside 0..<\(numLayers)")
            }
            if h.numHeads <= 0 || h.numKVHeads <= 0 || h.numHeads % h.numKVHeads != 0 || hiddenSize % h.numHeads != 0 {
                throw fail("attn.num_heads", "\(h.numHeads) heads / \(h.numKVHeads) kv heads do not fit hidden_size \(hiddenSize)")
            }
            if h.qkvBias { throw fail("attn.qkv_bias", "q/k/v biases are not supported by t2r") }
            if let w = h.windowSize, w <= 0 { throw fail("attn.window_size", "must be null or positive, found \(w)") }
            if !(h.ropeTheta > 0) || !h.ropeTheta.isFinite { throw fail("attn.rope_theta", "must be a positive number") }
        }
    }
}

// MARK: - config.json (fla layout)

extension GSAConfig {
    /// Reads an fla `config.json` with `model_type: "gsa"`.
    public init(json: JSONValue, file: String) throws {
        func fail(_ k: String, _ p: String) -> ConfigError { ConfigError(file: file, key: k, problem: p) }
        guard json.objectMembers != nil else { throw fail("", "expected a JSON object, found \(json.typeNameWithArticle)") }
        guard json["model_type"]?.stringValue == "gsa" else {
            throw fail("model_type", "expected \"gsa\", found \(json["model_type"].map { $0.serialized() } ?? "nothing")")
        }
        func int(_ k: String, _ d: Int? = nil) throws -> Int {
            guard let v = json[k], !v.isNull else {
                if let d { return d }
                throw fail(k, "missing")
            }
            guard let i = v.intValue else { throw fail(k, "expected an integer, found \(v)") }
            return i
        }
        func optInt(_ k: String) throws -> Int? {
            guard let v = json[k], !v.isNull else { return nil }
            guard let i = v.intValue else { throw fail(k, "expected an integer or null, found \(v)") }
            return i
        }
        func dbl(_ k: String, _ d: Double) throws -> Double {
            guard let v = json[k], !v.isNull else { return d }
            guard let x = v.doubleValue else { throw fail(k, "expected a number, found \(v)") }
            return x
        }
        func bool(_ k: String, _ d: Bool) throws -> Bool {
            guard let v = json[k], !v.isNull else { return d }
            guard let b = v.boolValue else { throw fail(k, "expected true or false, found \(v)") }
            return b
        }
        let hidden = try int("hidden_size", 2048)
        let ratio = try dbl("hidden_ratio", 4)
        var inter = try optInt("intermediate_size")
        if inter == nil {
            // fla: int(hidden_size * hidden_ratio * 2 / 3), rounded up to a multiple of 256.
            let raw = Double(hidden) * ratio * 2 / 3
            guard raw >= 0, raw <= Double(ConfigLimits.maxDimension) else {
                throw fail("hidden_ratio", "hidden_size \(hidden) × hidden_ratio \(ratio) gives no usable intermediate size")
            }
            inter = 256 * ((Int(raw) + 255) / 256)
        }
        let heads = try int("num_heads", 4)
        self.init(vocabSize: try int("vocab_size", 32000), hiddenSize: hidden, intermediateSize: inter!,
                  numLayers: try int("num_hidden_layers", 24), numHeads: heads, numKVHeads: try optInt("num_kv_heads") ?? heads)
        expandK = try dbl("expand_k", 1)
        expandV = try dbl("expand_v", 1)
        numSlots = try optInt("num_slots") ?? 64
        gateLogitNormalizer = try dbl("gate_logit_normalizer", 8)
        let fm = json["feature_map"]?.stringValue ?? "swish"
        guard let f = FeatureMap(rawValue: fm) else {
            throw fail("feature_map", "\"\(fm)\" is not supported (expected \(FeatureMap.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")))")
        }
        featureMap = f
        if try bool("use_short_conv", false) { throw fail("use_short_conv", "short convolutions are not supported by t2r") }
        if let a = json["attnres_block_size"], !a.isNull { throw fail("attnres_block_size", "AttnRes blocks are not supported by t2r") }
        let act = json["hidden_act"]?.stringValue ?? "swish"
        guard act == "swish" || act == "silu" else { throw fail("hidden_act", "\"\(act)\" is not supported (expected \"swish\")") }
        normEps = try dbl("norm_eps", 1e-6)
        elementwiseAffine = try bool("elementwise_affine", true)
        tieWordEmbeddings = try bool("tie_word_embeddings", false)
        maxPositionEmbeddings = try int("max_position_embeddings", 2048)
        initializerRange = try dbl("initializer_range", 0.02)
        bosTokenId = json["bos_token_id"] == nil ? 1 : try optInt("bos_token_id")
        if let e = json["eos_token_id"], !e.isNull {
            if let i = e.intValue { eosTokenId = [i] } else if let a = e.arrayValue, a.allSatisfy({ $0.intValue != nil }) {
                eosTokenId = a.compactMap(\.intValue)
            } else { throw fail("eos_token_id", "expected an integer or a list of integers") }
        } else { eosTokenId = json["eos_token_id"] == nil ? [2] : [] }
        padTokenId = try optInt("pad_token_id")
        dtype = json["dtype"]?.stringValue ?? json["torch_dtype"]?.stringValue ?? "float32"
        if let a = json["attn"], !a.isNull {
            let specs: [JSONValue]
            if let arr = a.arrayValue { specs = arr } else { specs = [a] }
            guard specs.count == 1, let s = specs.first, s.objectMembers != nil else {
                throw fail("attn", "t2r supports one hybrid attention spec object (found \(specs.count))")
            }
            guard let layers = s["layers"]?.arrayValue, layers.allSatisfy({ $0.intValue != nil }) else {
                throw fail("attn.layers", "expected a list of layer indices")
            }
            guard let nh = s["num_heads"]?.intValue else { throw fail("attn.num_heads", "missing") }
            hybrid = HybridAttention(layers: layers.compactMap(\.intValue), numHeads: nh,
                                     numKVHeads: s["num_kv_heads"]?.intValue ?? nh, qkvBias: s["qkv_bias"]?.boolValue ?? false,
                                     windowSize: s["window_size"]?.intValue, ropeTheta: s["rope_theta"]?.doubleValue ?? 10000)
        }
        try validate(file: file)
    }

    public static func load(_ path: String) throws -> GSAConfig {
return try GSAConfig(json: try readConfigJSON(path), file: path)
    }

    /// config.json for fla's `GSAForCausalLM` (every field GSAConfig reads, gsa.md §13.2).
    public var json: JSONValue {
        func num(_ d: Double) -> JSONValue { d.rounded() == d && abs(d) < 1e15 ? .int(Int(d)) : .double(d) }
        var attn: JSONValue = .null
        if let h = hybrid {
            attn = .object([("layers", .array(h.layers.map { .int($0) })), ("num_heads", .int(h.numHeads)),
                            ("num_kv_heads", .int(h.numKVHeads)), ("qkv_bias", .bool(h.qkvBias)),
                            ("window_size", h.windowSize.map { .int($0) } ?? .null), ("rope_theta", .double(h.ropeTheta))])
        }
        return .object([
            ("architectures", .array([.string("GSAForCausalLM")])),
            ("model_type", .string("gsa")),
            ("hidden_size", .int(hiddenSize)),
            ("num_hidden_layers", .int(numLayers)),
            ("num_heads", .int(numHeads)),
            ("num_kv_heads", .int(numKVHeads)),
            ("expand_k", num(expandK)),
            ("expand_v", num(expandV)),
            ("num_slots", .int(numSlots)),
            ("gate_logit_normalizer", num(gateLogitNormalizer)),
            ("feature_map", .string(featureMap.rawValue)),
            ("use_short_conv", .bool(false)),
            ("conv_size", .int(4)),
            ("use_output_gate", .bool(false)),
            ("use_norm", .bool(true)),
            ("elementwise_affine", .bool(elementwiseAffine)),
            ("norm_eps", .double(normEps)),
            ("intermediate_size", .int(intermediateSize)),
            ("hidden_ratio", .int(4)),
            ("hidden_act", .string("swish")),
            ("max_position_embeddings", .int(maxPositionEmbeddings)),
            ("vocab_size", .int(vocabSize)),
            ("tie_word_embeddings", .bool(tieWordEmbeddings)),
            ("bos_token_id", bosTokenId.map { .int($0) } ?? .null),
            ("eos_token_id", eosTokenId.count == 1 ? .int(eosTokenId[0]) : eosTokenId.isEmpty ? .null : .array(eosTokenId.map { .int($0) })),
            ("pad_token_id", padTokenId.map { .int($0) } ?? .null),
            ("initializer_range", .double(initializerRange)),
            ("attn", attn),
            ("clamp_min", .null),
            ("clamp_max", .null),
            ("fuse_norm", .bool(true)),
            ("fuse_swiglu", .bool(true)),
            ("fuse_cross_entropy", .bool(true)),
            ("fuse_linear_cross_entropy", .bool(false)),
            ("use_l2warp", .bool(false)),
            ("use_cache", .bool(true)),
            ("attnres_block_size", .null),
            ("dtype", .string(dtype)),
        ])
    }
}

// The teacher's TransformerConfig read from a GGUF file's `llama.*` metadata (keys as written by
// ggml-org/llama.cpp `convert_hf_to_gguf.py` and read by `src/llama-model.cpp` for LLM_ARCH_LLAMA;
// formats.md §8.7). Only the Llama architecture is accepted: other architectures, mixtures of experts,
// partial or scaled RoPE are refused with the reason.
import CheckpointIO
import Models
import TensorCore

extension TransformerConfig {
    /// Reads the architecture from `f`'s metadata. The head is tied when `output.weight` is absent.
    /// Throws `CheckpointError.notACheckpoint` when the file names no architecture,
    /// `CheckpointError.unsupported` for other architectures or features, `ConfigError`/`GGUFError` for
    /// missing or malformed keys.
    public init(gguf f: GGUFFile) throws {
        guard let arch = try f.optionalString("general.architecture") else {
            throw CheckpointError.notACheckpoint(
                path: f.path, detail: "the GGUF file has no general.architecture: it holds tensors but no model description")
        }
        guard arch == "llama" else {
            throw CheckpointError.unsupported(
                path: f.path, reason: "GGUF architecture \"\(arch)\" (general.architecture); t2r reads Llama-architecture GGUF files (\"llama\")")
        }
        func err(_ key: String, _ problem: String) -> ConfigError { ConfigError(file: f.path, key: key, problem: problem) }
        func positive(_ key: String) throws -> Int {
            let v = try f.int(key)
            guard v > 0 else { throw err(key, "must be a positive integer, found \(v)") }
            return v
        }
        func optionalPositive(_ key: String) throws -> Int? {
            guard let v = try f.optionalInt(key) else { return nil }
            guard v > 0 else { throw err(key, "must be a positive integer, found \(v)") }
            return v
        }

        if let experts = try f.optionalInt("llama.expert_count"), experts > 0 {
            throw CheckpointError.unsupported(path: f.path, reason: "llama.expert_count is \(experts): mixture-of-experts models are not supported")
        }
        let layers = try positive("llama.block_count")
        let hidden = try positive("llama.embedding_length")
        let ffn = try positive("llama.feed_forward_length")
        let heads = try positive("llama.attention.head_count")
        let kvHeads = try optionalPositive("llama.attention.head_count_kv") ?? heads
        let keyLength = try optionalPositive("llama.attention.key_length")
        let valueLength = try optionalPositive("llama.attention.value_length")
        if let k = keyLength, let v = valueLength, k != v {
            throw CheckpointError.unsupported(path: f.path, reason: "llama.attention.key_length \(k) differs from value_length \(v)")
        }
        let headDim: Int
        if let k = keyLength ?? valueLength {
            headDim = k
        } else {
            guard hidden % heads == 0 else {
                throw err("llama.attention.head_count", "\(heads) does not divide llama.embedding_length \(hidden) and no key_length is given")
            }
            headDim = hidden / heads
        }
        if let rot = try optionalPositive("llama.rope.dimension_count"), rot != headDim {
            throw CheckpointError.unsupported(
                path: f.path, reason: "llama.rope.dimension_count \(rot) differs from the head dimension \(headDim): partial RoPE is not supported")
        }
        if let type = try f.optionalString("llama.rope.scaling.type"), type != "none" {
            throw CheckpointError.unsupported(path: f.path, reason: "llama.rope.scaling.type \"\(type)\": scaled RoPE is not supported")
        }
        if let factor = try f.optionalDouble("llama.rope.scaling.factor"), factor != 0, factor != 1 {
            throw CheckpointError.unsupported(path: f.path, reason: "llama.rope.scaling.factor \(factor): scaled RoPE is not supported")
        }
        if f.info("rope_freqs.weight") != nil {
            throw CheckpointError.unsupported(
                path: f.path, reason: "tensor rope_freqs.weight (Llama-3.1-style RoPE frequency factors) is not supported from GGUF")
        }
        guard let eps = try f.optionalDouble("llama.attention.layer_norm_rms_epsilon") else {
            throw GGUFError.missingKey(file: f.path, key: "llama.attention.layer_norm_rms_epsilon")
        }
        let vocab = try optionalPositive("llama.vocab_size")
            ?? (try f.optionalStringArray("tokenizer.ggml.tokens")?.count)
            ?? (f.info(TeacherTensor.embedTokens.ggufName)?.shape.first ?? 0)
        let eos = try f.optionalInt("tokenizer.ggml.eos_token_id")

        self.init(family: .llama, vocabSize: vocab, hiddenSize: hidden, intermediateSize: ffn, numLayers: layers,
                  numHeads: heads, numKVHeads: kvHeads, headDim: headDim, rmsNormEps: eps,
                  ropeTheta: try f.optionalDouble("llama.rope.freq_base") ?? 10000, ropeScaling: nil, slidingWindow: nil,
                  tieWordEmbeddings: f.info(TeacherTensor.lmHead.ggufName) == nil,
                  maxPositionEmbeddings: try optionalPositive("llama.context_length") ?? 2048,
                  bosTokenId: try f.optionalInt("tokenizer.ggml.bos_token_id"), eosTokenIds: eos.map { [$0] } ?? [],
                  padTokenId: try f.optionalInt("tokenizer.ggml.padding_token_id"), declaredDtype: nil)
        try validate(file: f.path)
    }
}

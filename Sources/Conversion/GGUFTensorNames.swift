// The teacher's tensor roles under their llama.cpp GGUF names, as data (ggml-org/llama.cpp
// `src/llama-arch.cpp` LLM_TENSOR_NAMES for LLM_ARCH_LLAMA; gguf-py `gguf/constants.py` TENSOR_NAMES).
// Together with `TeacherTensor.huggingFaceTemplates` this is the GGUF ↔ HF name map.

extension TeacherTensor {
    /// Kind → GGUF name template ("{}" stands for the block index).
    public static let ggufTemplates: [(Kind, String)] = [
        (.embedTokens, "token_embd.weight"),
        (.finalNorm, "output_norm.weight"),
        (.lmHead, "output.weight"),  // absent when the head is tied to the embedding
        (.inputNorm, "blk.{}.attn_norm.weight"),
        (.qProj, "blk.{}.attn_q.weight"),  // rows permuted for llama.cpp's RoPE (RopePermutation.swift)
        (.kProj, "blk.{}.attn_k.weight"),  // likewise, with the kv head count
        (.vProj, "blk.{}.attn_v.weight"),
        (.oProj, "blk.{}.attn_output.weight"),
        (.postAttentionNorm, "blk.{}.ffn_norm.weight"),
        (.gateProj, "blk.{}.ffn_gate.weight"),
        (.upProj, "blk.{}.ffn_up.weight"),
        (.downProj, "blk.{}.ffn_down.weight"),
    ]

    /// The llama.cpp GGUF name ("blk.3.attn_q.weight").
    public var ggufName: String { name(in: TeacherTensor.ggufTemplates) }

    /// Parses a GGUF name; nil when it is not a teacher tensor name.
    public init?(ggufName name: String) {
        guard let (kind, layer) = matchTemplate(name, TeacherTensor.ggufTemplates) else { return nil }
        self.init(kind: kind, layer: layer)
    }
}

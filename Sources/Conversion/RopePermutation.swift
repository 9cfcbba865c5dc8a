// Undoing llama.cpp's q/k row permutation (ggml-org/llama.cpp `convert_hf_to_gguf.py`,
// `LlamaModel.permute`; formats.md §8.6). The model code uses one RoPE for every source: HF's
// rotate-half, which pairs dimension i with i + D/2 inside each head. llama.cpp's "NORM" RoPE instead
// rotates adjacent pairs (2i, 2i+1), so its converter reorders the rows of q_proj (with n_head) and
// k_proj (with n_head_kv) when it writes a GGUF:
//
//     gguf = hf.reshape(n, 2, D/2, in).swapaxes(1, 2).reshape(n·D, in)
//     ⇔ GGUF row h·D + 2i + s  =  HF row h·D + s·D/2 + i        (head h, s ∈ {0, 1}, i < D/2)
//
// Mistral's native `consolidated.safetensors` uses the same interleaved order.
import TensorCore

/// Reorders the rows of a q or k projection from llama.cpp's interleaved RoPE order back to the HF
/// rotate-half order: `w: [heads·D, in]` (GGUF row order) → `[heads·D, in]` (HF row order), where
/// `heads` is n_head for q_proj and n_head_kv for k_proj. The inverse of
/// `convert_hf_to_gguf.py LlamaModel.permute`:
///
///     hf = gguf.reshape(heads, D/2, 2, in).swapaxes(1, 2).reshape(heads·D, in)
///
/// i.e. HF row h·D + s·D/2 + i takes GGUF row h·D + 2i + s. Rows must divide into `heads` heads of an
/// even size D (callers check the shape against the config first).
public func undoLlamaCppRoPEPermutation(_ w: Tensor, heads: Int) -> Tensor {
    precondition(w.rank == 2 && heads > 0 && w.shape[0] % (2 * heads) == 0,
                 "undoLlamaCppRoPEPermutation: \(Shape.describe(w.shape)) does not split into \(heads) heads of even size")
    let rows = w.shape[0], cols = w.shape[1]
    let d = rows / heads, half = d / 2
    let out = Tensor(uninitialized: w.shape)
    let src = w.pointer, dst = out.pointer
    for h in 0..<heads {
        for s in 0..<2 {
            for i in 0..<half {
                let hfRow = h * d + s * half + i
                let ggufRow = h * d + 2 * i + s
                (dst + hfRow * cols).update(from: src + ggufRow * cols, count: cols)
            }
        }
    }
    return out
}

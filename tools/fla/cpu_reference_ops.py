"""PyTorch stand-ins for the Triton kernels fla 0.6.0's GSA model calls, so check_fla_student.py can run
on a machine without a GPU (`--cpu-reference-ops`). Only the kernels are replaced; fla's model, layer,
config and loading code run unchanged (with fuse_norm / fuse_swiglu off, which selects fla's own unfused
torch paths). The GPU run, with fla's real kernels, is the actual compatibility check.

Replaced: fused_recurrent_gsa / chunk_gsa (by fla's own `naive_recurrent_gsa`), rms_norm_linear (the
g_norm + o_proj of the GSA layer; eps 1e-5 as fla's call leaves it), the swish feature map, swiglu, and the
rotary embedding of softmax layers (rotate-half, fla's default non-interleaved layout).
"""
import torch
import torch.nn.functional as F


def install():
    import fla.layers.gsa as gsa_layer
    import fla.modules.feature_map as feature_map
    import fla.modules.mlp as mlp
    import fla.modules.rotary.ops as rotary
    import transformers
    from fla.ops.gsa.naive import naive_recurrent_gsa

    def gsa(q, k, v, s, g, initial_state=None, output_final_state=False, scale=None, cu_seqlens=None):
        if cu_seqlens is not None:
            raise NotImplementedError("cpu reference ops: variable-length batches")
        return naive_recurrent_gsa(q, k, v, s, g, scale=scale, initial_state=initial_state, output_final_state=output_final_state)

    def rms_norm_linear(x, norm_weight, norm_bias, linear_weight, linear_bias, eps=1e-5, **kwargs):
        y = x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + eps) * norm_weight
        if norm_bias is not None:
            y = y + norm_bias
        return F.linear(y.to(linear_weight.dtype), linear_weight, linear_bias)

    def rotary_forward(self, q, k, seqlen_offset=0, cu_seqlens=None, max_seqlen=None, chunk_indices=None):
        if cu_seqlens is not None or not isinstance(seqlen_offset, int):
            raise NotImplementedError("cpu reference ops: rotary with offsets per sequence")
        d, t = q.shape[-1], q.shape[1]
        inv = 1.0 / (self.base ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
        freqs = torch.outer(torch.arange(seqlen_offset, seqlen_offset + t, dtype=torch.float64), inv)
        cos, sin = freqs.cos().float()[None, :, None, :], freqs.sin().float()[None, :, None, :]

        def rotate(x):
            x1, x2 = x[..., : d // 2].float(), x[..., d // 2:].float()
            return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1).to(x.dtype)
        return rotate(q), rotate(k)

    gsa_layer.fused_recurrent_gsa = gsa
    gsa_layer.chunk_gsa = gsa
    gsa_layer.rms_norm_linear = rms_norm_linear
    feature_map.SwishFeatureMap.forward = lambda self, x: F.silu(x)
    mlp.swiglu = lambda gate, y: F.silu(gate) * y
    rotary.RotaryEmbedding.forward = rotary_forward
    original = transformers.AutoModelForCausalLM.from_pretrained
    transformers.AutoModelForCausalLM.from_pretrained = \
        lambda *a, **k: original(*a, **{"fuse_norm": False, "fuse_swiglu": False, **k})

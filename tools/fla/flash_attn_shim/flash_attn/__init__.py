"""A PyTorch stand-in for the two `flash_attn` entry points fla 0.6.0's `Attention` layer imports.

Used by tools/fla/check_fla_student.py only when the real flash-attn is not installed (it has no wheel
for the GPU image's torch and cannot be built there), so that fla can construct the softmax layers of a
hybrid GSA student. Semantics follow flash-attn 2 `flash_attn_func`: q [B, Tq, H, D], k/v [B, Tk, Hkv, D]
(H a multiple of Hkv), scale 1/sqrt(D), `causal` aligns the last query with the last key, and
`window_size=(left, right)` lets query i see keys i-left .. i+right (-1 = unbounded). Computed in float32.
"""
import torch

__version__ = "0+t2r-shim"
IS_T2R_SHIM = True


def flash_attn_func(q, k, v, dropout_p=0.0, softmax_scale=None, causal=False, window_size=(-1, -1), **kwargs):
    if dropout_p:
        raise NotImplementedError("flash_attn shim: dropout")
    B, Tq, H, D = q.shape
    Tk, Hkv = k.shape[1], k.shape[2]
    scale = softmax_scale if softmax_scale is not None else D ** -0.5
    qf = q.float().transpose(1, 2)                                            # [B, H, Tq, D]
    kf = k.float().transpose(1, 2).repeat_interleave(H // Hkv, dim=1)        # [B, H, Tk, D]
    vf = v.float().transpose(1, 2).repeat_interleave(H // Hkv, dim=1)
    scores = torch.einsum("bhqd,bhkd->bhqk", qf, kf) * scale
    i = torch.arange(Tq, device=q.device)[:, None] + (Tk - Tq)               # query positions in key time
    j = torch.arange(Tk, device=q.device)[None, :]
    allowed = torch.ones(Tq, Tk, dtype=torch.bool, device=q.device)
    left, right = window_size
    if causal:
        right = 0
    if left >= 0:
        allowed &= j >= i - left
    if right >= 0:
        allowed &= j <= i + right
    scores = scores.masked_fill(~allowed, float("-inf"))
    out = torch.einsum("bhqk,bhkd->bhqd", scores.softmax(-1), vf)
    return out.transpose(1, 2).to(q.dtype)


def flash_attn_varlen_func(*args, **kwargs):
    raise NotImplementedError("flash_attn shim: variable-length batches are not supported")

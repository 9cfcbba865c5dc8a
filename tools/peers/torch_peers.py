#!/usr/bin/env python3
"""PyTorch peers for `t2r bench` (tools/peers/run_peers.sh runs them; never a t2r dependency).

  teacher  transformers' LlamaForCausalLM forward on SmolLM2 (the checkpoint `t2r export` writes) over
           non-overlapping chunks of 512 tokens of the text, as `t2r bench teacher` and llama-perplexity run:
           logits for every position, and for the scored half only (logits_to_keep = ctx/2); the perplexity
           of the second half of each chunk is reported next to the speed.
  stage2   one stage-2 distillation step of the GSA student written in plain torch ops (chunked GSA, C = 64,
           autograd for the backward) at the shapes of `t2r bench stage2` (recipes/smollm2-135m/stage2.json5:
           batch 2 x 512, trainable q/k/v/o/f_proj/g_norm, KL(teacher || student) + 0.1 CE, AdamW, clip 1.0),
           with the transformers teacher's forward inside the step.
  matmul   torch's own fp32 matmul rate at the shapes `t2r bench blas` uses (its BLAS: MKL in the PyPI wheel).
  check    the chunked GSA against the per-step recurrence (gsa.md §2, §10) on random inputs.

Each measurement prints one JSON object per line on stdout. Threads: torch.set_num_threads(--threads).
"""
import argparse
import json
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def emit(obj):
    print(json.dumps(obj), flush=True)


def load_teacher(path):
    from transformers import AutoModelForCausalLM
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
    model.eval()
    return model


def text_tokens(path, text):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(path)
    with open(text, encoding="utf-8") as f:
        return tok(f.read(), add_special_tokens=True)["input_ids"]


# --------------------------------------------------------------------------------------------------------
# teacher forward


def bench_teacher(args):
    model = load_teacher(args.hf)
    ids = text_tokens(args.hf, args.text)
    ctx = args.context
    chunks = min(args.chunks, len(ids) // ctx)
    first = ctx // 2
    x = torch.tensor(ids[: chunks * ctx]).view(chunks, ctx)
    for half in (True, False):
        keep = ctx - first if half else 0  # transformers: 0 = every position
        with torch.inference_mode():
            model(x[:1], logits_to_keep=keep)  # warm-up
            nll, scored = 0.0, 0
            t0 = time.perf_counter()
            for i in range(chunks):
                logits = model(x[i : i + 1], logits_to_keep=keep).logits[0]
                # rows first .. ctx-2 score tokens first+1 .. ctx-1 (llama-perplexity's second half)
                rows = logits[:-1] if half else logits[first:-1]
                lp = torch.log_softmax(rows.float(), dim=-1)
                tgt = x[i, first + 1 :]
                nll -= lp.gather(1, tgt[:, None]).sum().item()
                scored += tgt.numel()
            seconds = time.perf_counter() - t0
        variant = f"ctx {ctx}, {'scored-half' if half else 'all'} logits"
        emit({"peer": "pytorch", "name": "teacher", "variant": variant, "comparable": f"teacher/{variant}",
              "seconds": seconds, "tokens_per_second": chunks * ctx / seconds, "chunks": chunks, "context": ctx,
              "perplexity": math.exp(nll / scored), "scored_tokens": scored, "threads": torch.get_num_threads(),
              "peak_rss_bytes": peak_rss_bytes(), "torch": torch.__version__,
              "command": "torch_peers.py teacher"})


# --------------------------------------------------------------------------------------------------------
# GSA student in plain torch


def gsa_recurrent(q, k, v, g):
    """Reference: the per-step recurrence. q [B,T,H,dk], k [B,T,Hkv,dk], v [B,T,Hkv,dv], g [B,T,Hkv,M] (log gates)."""
    B, T, H, dk = q.shape
    Hkv, M, dv = k.shape[2], g.shape[-1], v.shape[-1]
    G = H // Hkv
    k, v, g = (t.repeat_interleave(G, dim=2) for t in (k, v, g))
    s = 1 - g.exp()
    hk = q.new_zeros(B, H, dk, M)
    hv = q.new_zeros(B, H, M, dv)
    out = []
    for t in range(T):
        a = g[:, t].exp()
        hk = hk * a[:, :, None, :] + k[:, t, :, :, None] * s[:, t, :, None, :]
        p = torch.softmax(torch.einsum("bhd,bhdm->bhm", q[:, t], hk), dim=-1)
        hv = hv * a[:, :, :, None] + s[:, t, :, :, None] * v[:, t, :, None, :]
        out.append(torch.einsum("bhm,bhmv->bhv", p, hv))
    return torch.stack(out, dim=1)


def gsa_chunked(q, k, v, g, chunk=64):
    """Chunked GSA (GLA-style, gates on the slot dimension): within a chunk, with Γ the chunk-local
    cumsum of g, exp(Γ_i − Γ_j) = exp(Γ_i)·exp(−Γ_j) turns both passes into masked matmuls; the states
    carry across chunks. Shapes as in gsa_recurrent; query heads are grouped per kv head (no repeat).
    Valid while −Γ stays below ~80 inside a chunk (asserted), which holds by far for τ = 8 gates."""
    B, T, H, dk = q.shape
    Hkv, M, dv = k.shape[2], g.shape[-1], v.shape[-1]
    G = H // Hkv
    assert T % chunk == 0, "T must be a multiple of the chunk"
    N, C = T // chunk, chunk
    # [B, Hkv, N, C, ...]; queries [B, Hkv, N, C, G, dk]
    qc = q.view(B, N, C, Hkv, G, dk).permute(0, 3, 1, 2, 4, 5)
    kc = k.view(B, N, C, Hkv, dk).permute(0, 3, 1, 2, 4)
    vc = v.view(B, N, C, Hkv, dv).permute(0, 3, 1, 2, 4)
    gc = g.view(B, N, C, Hkv, M).permute(0, 3, 1, 2, 4)
    s = 1 - gc.exp()
    gam = gc.cumsum(dim=3)  # Γ
    assert (-gam).max().item() < 80, "gates too strong for this chunk length"
    eg, eng = gam.exp(), (-gam).exp()
    last = gam[:, :, :, -1:, :]  # Γ_C
    w = s * (last - gam).exp()  # state-update weights S ⊙ exp(Γ_C − Γ)
    sn = s * eng  # S ⊙ exp(−Γ)
    mask = torch.ones(C, C, dtype=torch.bool, device=q.device).tril()
    # Pass 1, intra-chunk: Σ_j (q_i·k_j) s_j exp(Γ_i − Γ_j), all chunks at once
    A = torch.einsum("bjncgd,bjnkd->bjncgk", qc, kc).masked_fill(~mask[:, None, :], 0)
    z_intra = torch.einsum("bjncgk,bjnkm->bjncgm", A, sn) * eg[:, :, :, :, None, :]
    hk = q.new_zeros(B, Hkv, dk, M)
    hv = q.new_zeros(B, Hkv, M, dv)
    outs = []
    for n in range(N):
        z = z_intra[:, :, n] + torch.einsum("bjcgd,bjdm->bjcgm", qc[:, :, n], hk) * eg[:, :, n, :, None, :]
        p = torch.softmax(z, dim=-1)  # [B, Hkv, C, G, M]
        pe = p * eg[:, :, n, :, None, :]
        # Pass 2: o_i = Σ_j (p_i e^{Γ_i})·(s_j e^{−Γ_j}) v_j + (p_i e^{Γ_i}) Hv
        A2 = torch.einsum("bjcgm,bjkm->bjcgk", pe, sn[:, :, n]).masked_fill(~mask[:, None, :], 0)
        o = torch.einsum("bjcgk,bjkv->bjcgv", A2, vc[:, :, n]) + torch.einsum("bjcgm,bjmv->bjcgv", pe, hv)
        outs.append(o)
        decay = last[:, :, n, 0, :].exp()  # [B, Hkv, M]
        hk = hk * decay[:, :, None, :] + torch.einsum("bjcd,bjcm->bjdm", kc[:, :, n], w[:, :, n])
        hv = hv * decay[:, :, :, None] + torch.einsum("bjcm,bjcv->bjmv", w[:, :, n], vc[:, :, n])
    o = torch.stack(outs, dim=2)  # [B, Hkv, N, C, G, dv]
    return o.permute(0, 2, 3, 1, 4, 5).reshape(B, T, H, dv)


class GSAStudent(torch.nn.Module):
    """fla GSAForCausalLM (gsa.md §10–§11) from a Llama teacher: q/k/v/o, MLP, norms, embeddings copied;
    f_proj ~ N(0, 0.02); g_norm = 1."""

    def __init__(self, teacher, slots=64, tau=8.0, seed=0):
        super().__init__()
        cfg = teacher.config
        self.D, self.H, self.Hkv = cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads
        self.dk = self.D // self.H
        self.M, self.tau, self.eps = slots, tau, cfg.rms_norm_eps
        tm = teacher.model
        gen = torch.Generator().manual_seed(seed)
        P = lambda t, grad: torch.nn.Parameter(t.detach().clone(), requires_grad=grad)
        self.embed = P(tm.embed_tokens.weight, False)
        self.final_norm = P(tm.norm.weight, False)
        self.layers = torch.nn.ModuleList()
        for layer in tm.layers:
            m = torch.nn.Module()
            a, mlp = layer.self_attn, layer.mlp
            m.attn_norm = P(layer.input_layernorm.weight, False)
            m.q, m.k, m.v, m.o = (P(x.weight, True) for x in (a.q_proj, a.k_proj, a.v_proj, a.o_proj))
            m.f = torch.nn.Parameter(torch.randn(self.Hkv * self.M, self.D, generator=gen) * 0.02)
            m.g_norm = torch.nn.Parameter(torch.ones(self.D))
            m.mlp_norm = P(layer.post_attention_layernorm.weight, False)
            m.gate, m.up, m.down = (P(x.weight, False) for x in (mlp.gate_proj, mlp.up_proj, mlp.down_proj))
            self.layers.append(m)

    @staticmethod
    def rms(x, w, eps):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w

    def forward(self, ids):
        B, T = ids.shape
        x = F.embedding(ids, self.embed)
        for m in self.layers:
            h = self.rms(x, m.attn_norm, self.eps)
            q = F.silu(h @ m.q.t()).view(B, T, self.H, self.dk)
            k = F.silu(h @ m.k.t()).view(B, T, self.Hkv, self.dk)
            v = F.silu(h @ m.v.t()).view(B, T, self.Hkv, self.dk)
            g = F.logsigmoid(h @ m.f.t()).view(B, T, self.Hkv, self.M) / self.tau
            o = gsa_chunked(q, k, v, g).reshape(B, T, self.D)
            x = x + self.rms(F.silu(o), m.g_norm, 1e-5) @ m.o.t()
            h = self.rms(x, m.mlp_norm, self.eps)
            x = x + (F.silu(h @ m.gate.t()) * (h @ m.up.t())) @ m.down.t()
        return self.rms(x, self.final_norm, self.eps) @ self.embed.t()


def bench_stage2(args):
    teacher = load_teacher(args.hf)
    for p in teacher.parameters():
        p.requires_grad_(False)
    student = GSAStudent(teacher)
    params = [p for p in student.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.95), weight_decay=0.0)
    ids = text_tokens(args.hf, args.text)
    B, T = args.batch, args.seq_len

    def window(step):
        o = step * B * (T + 1)
        return torch.tensor(ids[o : o + B * (T + 1)]).view(B, T + 1)

    def step(i):
        w = window(i)
        x, y = w[:, :-1], w[:, 1:]
        with torch.no_grad():
            t_logits = teacher(x).logits
        s_logits = student(x)
        ls = torch.log_softmax(s_logits, -1)
        kl = F.kl_div(ls.view(-1, ls.shape[-1]), torch.log_softmax(t_logits, -1).view(-1, ls.shape[-1]),
                      log_target=True, reduction="batchmean")
        ce = F.nll_loss(ls.view(-1, ls.shape[-1]), y.reshape(-1))
        loss = kl + 0.1 * ce
        opt.zero_grad(set_to_none=False)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        return loss.item()

    step(0)  # warm-up
    times = []
    for i in range(1, args.steps + 1):
        t0 = time.perf_counter()
        loss = step(i)
        times.append(time.perf_counter() - t0)
    best = min(times)
    emit({"peer": "pytorch", "name": "stage2", "variant": f"{B}×{T} attention, plain-torch chunked GSA",
          "comparable": f"stage2/{B}×{T} attention", "seconds": best, "tokens_per_second": B * T / best,
          "runs": times, "last_loss": loss, "trainable_parameters": sum(p.numel() for p in params),
          "threads": torch.get_num_threads(), "peak_rss_bytes": peak_rss_bytes(), "torch": torch.__version__,
          "command": "torch_peers.py stage2"})


def bench_matmul(args):
    shapes = [(2048, 1152, 576), (2048, 3072, 576), (2048, 576, 1536), (1024, 1024, 1024)]
    best = 0.0
    for m, n, k in shapes:
        a, b = torch.randn(m, k), torch.randn(n, k)
        a @ b.t()
        reps = 10
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(reps):
                a @ b.t()
            best = max(best, 2 * m * n * k * reps / (time.perf_counter() - t0) / 1e9)
    emit({"peer": "pytorch", "name": "blas", "variant": "torch.matmul fp32, best of the model shapes",
          "comparable": "blas", "gflops": best, "threads": torch.get_num_threads(), "torch": torch.__version__,
          "blas": "mkl" if torch.backends.mkl.is_available() else "other", "command": "torch_peers.py matmul"})


def check(args):
    torch.manual_seed(0)
    B, T, H, Hkv, dk, M = 2, 128, 6, 2, 16, 8
    q, k, v = F.silu(torch.randn(B, T, H, dk, dtype=torch.float64)), F.silu(torch.randn(B, T, Hkv, dk, dtype=torch.float64)), torch.randn(B, T, Hkv, dk, dtype=torch.float64)
    g = F.logsigmoid(torch.randn(B, T, Hkv, M, dtype=torch.float64) * 2) / 8
    ref, got = gsa_recurrent(q, k, v, g), gsa_chunked(q, k, v, g, chunk=32)
    err = (ref - got).abs().max().item()
    emit({"check": "gsa_chunked vs recurrence", "max_abs_error": err})
    if err > 1e-9:
        sys.exit(f"chunked GSA differs from the recurrence by {err}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("what", choices=["teacher", "stage2", "matmul", "check"])
    ap.add_argument("--hf", help="SmolLM2 as a Hugging Face checkpoint (t2r export)")
    ap.add_argument("--text", default="data/austen/persuasion.txt")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--context", type=int, default=512)
    ap.add_argument("--chunks", type=int, default=32)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--seq-len", type=int, default=512)
    ap.add_argument("--steps", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    {"teacher": bench_teacher, "stage2": bench_stage2, "matmul": bench_matmul, "check": check}[args.what](args)


if __name__ == "__main__":
    main()

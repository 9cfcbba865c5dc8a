#!/usr/bin/env python3
"""Writes BENCHMARKS.md from the JSON lines of one benchmark run (tools/bench/run_benchmarks.sh):
`t2r bench all --json` (t2r.jsonl), tools/peers/run_peers.sh (peers.jsonl) and run.json (machine, commands,
durations). Every ratio in the tables is computed from figures measured in that one run. Standard library only.

Usage: make_benchmarks_md.py RUN_DIR [--out BENCHMARKS.md]
"""
import argparse
import json
import os
import sys


def read_jsonl(path):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                rows.append(json.loads(line))
    return rows


def fmt(x, digits=1):
    return "—" if x is None else f"{x:,.{digits}f}"


def pct(x):
    return "—" if x is None else f"{100 * x:.1f}%"


def mib(b):
    return "—" if not b else f"{b / 2**20:,.0f} MiB"


def verdict(ok):
    return "—" if ok is None else ("**met**" if ok else "**not met**")


class Run:
    def __init__(self, d):
        self.t2r = read_jsonl(os.path.join(d, "t2r.jsonl"))
        self.peers = read_jsonl(os.path.join(d, "peers.jsonl"))
        with open(os.path.join(d, "run.json"), encoding="utf-8") as f:
            self.info = json.load(f)
        blas = [r for r in self.t2r if r["name"] == "blas"]
        self.sgemm = max((r["sgemm_gflops"] for r in self.t2r if r.get("sgemm_gflops")), default=None)
        self.blas = blas

    def get(self, name, variant):
        for r in self.t2r:
            if r["name"] == name and r["variant"] == variant:
                return r
        return None

    def peer(self, peer, variant_prefix, name="teacher"):
        for r in self.peers:
            if r.get("peer") == peer and r.get("name") == name and r["variant"].startswith(variant_prefix):
                return r
        return None

    def comparable(self, p):
        name, _, variant = p.get("comparable", "").partition("/")
        return self.get(name, variant)

    def peer_gflops(self, p):
        """A peer's GFLOP/s with t2r's FLOP count for the same work (same model, shapes and logit rows)."""
        if p.get("gflops"):
            return p["gflops"]
        t = self.comparable(p)
        if not t or not t.get("flops") or not t.get("tokens_per_second"):
            return None
        per_token = t["flops"] / (t["tokens_per_second"] * t["seconds"])
        return per_token * p["tokens_per_second"] / 1e9


def ratio(a, b):
    return a / b if a and b else None


def write(run, out):
    L = []
    info = run.info
    sg = run.sgemm
    L.append("# Benchmarks\n")
    L.append(f"Measured on {info.get('date', '?')} on {info.get('cpu', '?')} ({info.get('cores', '?')} cores, "
             f"{info.get('memory', '?')} memory, {info.get('os', '?')}), {info.get('blas', '')}. "
             f"Load average before / after the run: {info.get('load_before', '?')} / {info.get('load_after', '?')} "
             f"(other processes share the cores; every ratio below compares figures from this one run). "
             f"The whole run took {fmt(info.get('seconds', 0) / 60, 0)} minutes.\n")
    try:
        load = float(str(info.get("load_before", "0")).split()[0])
    except ValueError:
        load = 0.0
    if info.get("quick") or load > 1.0:
        L.append(f"> **Not final figures**: {'a short (QUICK=1) run' if info.get('quick') else 'the run'} on a busy machine "
                 f"(1-minute load {load:.2f} on {info.get('cores', '?')} cores before it started). Other processes take "
                 "cores from every measurement, unevenly; run `tools/bench/run_benchmarks.sh` on a quiet machine for the "
                 "figures to quote.\n")
    core = info.get("openblas_coretype")
    if core:
        L.append(f"OpenBLAS ran the kernels `OPENBLAS_CORETYPE={core}` selects (set in this run's environment); without it "
                 "OpenBLAS picks the kernel family it detects for this CPU (the README's \"Speed\" section compares the two).\n")
    elif "openblas_coretype" in info:
        L.append("OpenBLAS ran the kernel family it detected for this CPU (`OPENBLAS_CORETYPE` unset; the README's \"Speed\" "
                 "section compares it with the environment's `OPENBLAS_CORETYPE=Haswell`).\n")
    L.append("Produced by one command (from the repository root):\n")
    name = os.path.basename(out)
    prefix = (f"OPENBLAS_CORETYPE={core} " if core else ("env -u OPENBLAS_CORETYPE " if "openblas_coretype" in info else ""))
    prefix += "" if name == "BENCHMARKS.md" else f"BENCHMARKS_MD={name} "
    L.append("```\n" + prefix + "tools/bench/run_benchmarks.sh\n```\n")
    L.append("which runs, in order: " + "; ".join(f"`{c}`" for c in info.get("commands", [])) + ".\n")

    # ---------------------------------------------------------------------------------------------- targets
    t_half = run.get("teacher", "ctx 512, scored-half logits")
    t_all = run.get("teacher", "ctx 512, all logits")
    l_q4 = run.peer("llama.cpp", "ctx 512, Q4_1")
    l_f32 = run.peer("llama.cpp", "ctx 512, F32")
    s2 = next((r for r in run.t2r if r["name"] == "stage2"), None)
    s1 = next((r for r in run.t2r if r["name"] == "stage1"), None)
    p_s2 = run.peer("pytorch", "", name="stage2")
    st = next((r for r in run.t2r if r["name"] == "student" and r.get("model") == "student"), None)
    tt = next((r for r in run.t2r if r["name"] == "student" and r.get("model") == "teacher"), None)
    dec = [r for r in run.t2r if r["name"] == "decode"]
    conv = next((r for r in run.t2r if r["name"] == "convert"), None)

    def drift(model):
        rows = sorted((r for r in dec if r.get("model") == model), key=lambda r: r["context"])
        if len(rows) < 2:
            return None, rows
        return rows[-1]["ms_per_token"] / rows[0]["ms_per_token"] - 1, rows

    sd, srows = drift("student")
    td, trows = drift("teacher")
    L.append("## Targets\n")
    L.append("| target | measured | goal | |")
    L.append("|---|---|---|---|")

    def row(what, measured, goal, ok):
        L.append(f"| {what} | {measured} | {goal} | {verdict(ok)} |")

    if t_half:
        row("teacher prefill, SmolLM2, ctx 512 (scored-half logits): fraction of sgemm", pct(t_half["fraction"]), "≥ 75%",
            t_half["fraction"] >= 0.75)
    if t_all:
        row("teacher prefill, ctx 512, all logits: fraction of sgemm", pct(t_all["fraction"]), "≥ 75%", t_all["fraction"] >= 0.75)
    if t_half and l_f32:
        r = ratio(t_half["tokens_per_second"], l_f32["tokens_per_second"])
        row("teacher tokens/s ÷ llama.cpp F32 (same chunks, logits, threads)", f"{fmt(r, 2)}×", "≥ 1.25×", r >= 1.25)
    if t_half and l_q4:
        r = ratio(t_half["tokens_per_second"], l_q4["tokens_per_second"])
        row("teacher tokens/s ÷ llama.cpp Q4_1", f"{fmt(r, 2)}×", "≥ 2×", r >= 2)
    if t_half and l_f32:
        rel = abs(t_half["perplexity"] / l_f32["perplexity"] - 1)
        row("perplexity: t2r vs llama.cpp F32 (same weights)", f"{t_half['perplexity']:.4f} vs {l_f32['perplexity']:.4f} ({100 * rel:.2f}%)",
            "agree within quantisation noise", None)
    if t_half and l_q4:
        row("perplexity: t2r (Q4_1 dequantised to F32) vs llama.cpp Q4_1 (Q8 activations)",
            f"{t_half['perplexity']:.4f} vs {l_q4['perplexity']:.4f} ± {l_q4['perplexity_error']:.3f}", "within quantisation noise", None)
    if s2:
        row(f"stage-2 step ({s2['variant']}): fraction of sgemm", pct(s2["fraction"]), "≥ 50%", s2["fraction"] >= 0.5)
    if s2 and p_s2:
        r = ratio(s2["tokens_per_second"], p_s2["tokens_per_second"])
        row("stage-2 tokens/s ÷ PyTorch (plain-torch GSA, same shapes and threads)", f"{fmt(r, 2)}×", "≥ 2×", r >= 2)
    if st and tt:
        r = ratio(st["tokens_per_second"], tt["tokens_per_second"])
        row("student prefill T=2048 ÷ teacher prefill T=2048 (tokens/s)", f"{fmt(r, 2)}×", "≥ 0.67× (within 1.5×)", r >= 1 / 1.5)
    if sd is not None:
        row(f"student decode drift, ctx {srows[0]['context']} → {srows[-1]['context']}", f"{100 * sd:+.1f}%", "≤ 10%", abs(sd) <= 0.10)
    if td is not None:
        row(f"teacher decode growth, ctx {trows[0]['context']} → {trows[-1]['context']}", f"{100 * td:+.1f}%", "grows", td > 0)
    if conv:
        row(f"convert ({conv['variant']}): input rate ÷ disk sequential read", pct(conv["fraction_of_disk_read"]), "≥ 80%",
            conv["fraction_of_disk_read"] >= 0.8)
        row("convert input rate ÷ disk sequential write (the output is as large as the input)",
            f"{pct(conv.get('fraction_of_disk_write'))} (read {fmt(conv['disk_read_gigabytes_per_second'], 2)} GB/s, "
            f"write {fmt(conv.get('disk_write_gigabytes_per_second'), 2)} GB/s, convert {fmt(conv['gigabytes_per_second'], 2)} GB/s)",
            "(bound)", None)
        if conv.get("fraction_of_disk_read_while_writing") is not None:
            row("convert input rate ÷ the disk's rate reading and writing at once (the shards read while as many bytes "
                "are written: convert's own load)",
                f"{pct(conv['fraction_of_disk_read_while_writing'])} ({fmt(conv['disk_read_while_writing_gigabytes_per_second'], 2)} GB/s each way)",
                "(bound)", None)
        row("convert peak RSS ÷ largest tensor", f"{conv['peak_rss_over_largest_tensor']:.2f}×", "≤ 2×",
            conv["peak_rss_over_largest_tensor"] <= 2)
    L.append("")

    # ---------------------------------------------------------------------------------------------- t2r
    L.append("## t2r measurements\n")
    L.append(f"GFLOP/s from counted FLOPs (formulas below); “% sgemm” = GFLOP/s ÷ {fmt(sg)} GFLOP/s, the best 2-thread "
             "OpenBLAS sgemm rate at the model shapes measured in the same process.\n")
    L.append("| measurement | variant | time | tokens/s | GFLOP/s | % sgemm | GB/s | peak RSS | threads |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for r in run.t2r:
        if r["name"] == "decode":
            continue
        L.append(f"| {r['name']} | {r['variant']} | {fmt(r['seconds'], 3) + ' s' if r['seconds'] else '—'} | "
                 f"{fmt(r['tokens_per_second']) if r['tokens_per_second'] else '—'} | {fmt(r['gflops']) if r['gflops'] else '—'} | "
                 f"{pct(r['fraction']) if r['gflops'] else '—'} | {fmt(r['gigabytes_per_second'], 2) if r['bytes'] else '—'} | "
                 f"{mib(r['peak_rss_bytes'])} | {r['threads']} |")
    L.append("")
    if t_half:
        L.append(f"Teacher perplexity on the scored halves of {t_half['chunks']} chunks of {t_half['context']} tokens: "
                 f"{t_half['perplexity']:.4f} ({t_half['scored_tokens']} tokens).\n")

    # ---------------------------------------------------------------------------------------------- decode
    if dec:
        L.append("## Decode: time per token against context\n")
        L.append("Median of the decode steps at each context (forward of one token + LM head, batch 1). Bytes kept per "
                 "sequence: the teacher's KV cache at that context (fp32), the student's recurrent state.\n")
        L.append("| context | teacher ms/token | teacher KV cache | student ms/token | student state |")
        L.append("|---|---|---|---|---|")
        by = {}
        for r in dec:
            by.setdefault(r["context"], {})[r["model"]] = r
        for c in sorted(by):
            t, s = by[c].get("teacher"), by[c].get("student")
            L.append(f"| {c} | {fmt(t and t['ms_per_token'], 2)} | {mib(t and t['state_bytes'])} | "
                     f"{fmt(s and s['ms_per_token'], 2)} | {mib(s and s['state_bytes'])} |")
        L.append("")

    # ---------------------------------------------------------------------------------------------- peers
    L.append("## Peers (same machine, same run)\n")
    L.append("Peer GFLOP/s use t2r's FLOP count for the same work (same model, tokens and logit rows), so the "
             "ratios are ratios of speed. “t2r ÷ peer” compares tokens/s.\n")
    L.append("| peer | measurement | tokens/s | GFLOP/s | % sgemm | t2r ÷ peer | perplexity | peak RSS | command |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for p in run.peers:
        if "peer" not in p:
            continue
        t = run.comparable(p)
        g = run.peer_gflops(p)
        tps = p.get("tokens_per_second")
        L.append(f"| {p['peer']} | {p['name']}: {p['variant']} | {fmt(tps) if tps else '—'} | {fmt(g)} | "
                 f"{pct(g / sg) if g and sg else '—'} | "
                 f"{(fmt(ratio(t['tokens_per_second'], tps), 2) + '×') if t and tps else (fmt(ratio(sg, g), 2) + '× (sgemm)' if p['name'] == 'blas' and g else '—')} | "
                 f"{fmt(p.get('perplexity'), 4) if p.get('perplexity') else '—'} | {mib(p.get('peak_rss_bytes'))} | `{p.get('command', '')}` |")
    L.append("")
    L.append(PEER_NOTES)

    # ---------------------------------------------------------------------------------------------- method
    L.append(METHOD)
    with open(out, "w", encoding="utf-8") as f:
        f.write("\n".join(L) + "\n")


PEER_NOTES = """Notes on the peers:
- llama.cpp is built from the source vendored in the PyPI sdist of llama-cpp-python 0.3.36 (cmake, Release,
  `GGML_NATIVE=ON`, so its kernels use every ISA extension of this CPU, AVX-512 included where present).
  `llama-perplexity` computes logits only for the scored second half of each chunk; the t2r figure it is
  compared with (`teacher`, scored-half logits) does the same. Its rate is llama.cpp's own "prompt eval" figure
  (all tokens of all chunks over the evaluation time, tokenization and model loading excluded), as t2r's is.
- The Q4_1 run multiplies quantised weights by Q8-quantised activations; the F32 run uses the dequantised weights
  t2r also uses, so its perplexity matches t2r's up to rounding — the remaining gap (hundredths of a percent)
  comes from llama.cpp keeping its KV cache in F16 by default — while Q4_1's differs by the activation
  quantisation (well within its ± standard error).
- PyTorch is the PyPI wheel (its fp32 matmul goes to the bundled MKL; the `blas` row shows its matmul rate on this
  CPU). The stage-2 peer is the GSA student in plain torch ops: a chunked GSA (C = 64, masked matmuls within a
  chunk, states carried across chunks; checked against the per-step recurrence by `torch_peers.py check`) with
  autograd for the backward, the transformers teacher inside the step, KL + 0.1·CE, clip 1.0 and AdamW, at the
  shapes and trainable set of `t2r bench stage2`.
"""

METHOD = """## How the figures are counted

A multiply-add is 2 FLOPs; only matrix products are counted (norms, activations, softmax, RoPE, losses and the
optimizer are left out), so GFLOP/s is a lower bound on the arithmetic done. N = B·T tokens; the code is
`Sources/T2RCLI/Bench/FLOPCount.swift`.

| term | FLOPs |
|---|---|
| linear layers | 2·N·P, P = weights of the projections used (teacher: q, k, v, o, gate, up, down; GSA layer: q, k, v, f, o, gate, up, down) |
| causal attention (per layer) | 2·2·H·dh·Σₜ keys(t): QKᵀ and PV over the keys each query sees (t+1, capped by a sliding window): the causal half only |
| LM head | 2·R·D·V for the R rows whose logits are computed |
| GSA core, chunked (per token and kv head, C = 64, G = H/Hkv) | pass 1: G·(2·dk·M + C̄·2·(dk + M)); pass 2: G·(2·M·dv + C̄·2·(M + dv)); state updates 2·dk·M + 2·M·dv; C̄ = the causal average of tokens seen within a chunk, (L+1)/2 |
| backward | input gradients = the forward's linear-layer FLOPs again, for every layer the gradient passes through; weight gradients 2·N·P for trainable tensors only; the GSA core backward = 2× its forward; LM head 2·N·D·V for dHidden (again for dW only if the head trains) |
| stage-2 step | teacher forward with all N logit rows + student forward (N logit rows) + student backward |
| stage-1 step | teacher forward (no head) + for each GSA layer: mixer forward, dz = dy·W_o, core backward, weight gradients of the trainable mixer tensors (no input gradient into the layer) |
| decode step | one token: the layers' 2·P, attention over the cached keys (teacher) or q·Hk, P·Hv and the state updates (student), the LM head for one row |

Measurements:
- `blas`: OpenBLAS sgemm at SmolLM2 shapes (2048-token projections, backward layouts, a 1024 square), 1 and 2
  threads; the best 2-thread rate is the reference every fraction divides by.
- `teacher`: SmolLM2-135M-Instruct (the Q4_1 GGUF dequantised to F32) over non-overlapping 512-token chunks of
  data/austen/persuasion.txt, four chunks per forward pass as separate sequences (llama-perplexity's default batch
  of 2048 tokens); tokens/s counts every token.
- `student`: the teacher converted to GSA (64 slots, τ 8, swish; the recipes' options) and the teacher, one
  sequence of 2048 tokens each, LM head on the last position.
- `stage1`, `stage2`: one optimizer step (teacher forward, student forward, loss, backward, clipping, AdamW) with
  the batch, sequence length and trainable preset of recipes/smollm2-135m/stage{1,2}.json5.
- `decode`: prefill to each context, then 16 single-token steps; the median step.
- `dequant`, `read`: GGUF dequantisation and BF16 safetensors reading throughput (memory-bound).
- `convert`: a synthetic Mistral-7B-shaped BF16 checkpoint (sharded like the published one) is written, evicted
  from the page cache (fdatasync + POSIX_FADV_DONTNEED; the residency is checked with mincore), read twice with
  read(2) for the disk's sequential rate (the better pass), evicted again, and converted by `t2r convert` in a child process
  (wall time, and its peak RSS: VmHWM sampled every 5 ms). Same-dtype tensors are copied with read(2) into an
  O_DIRECT output written behind in the background (page-cache write-back is several times slower than the
  device here). The output is as large as the input, so the conversion moves twice the bytes a read does: it is
  bounded by the device's combined read + write bandwidth, not by its read rate alone; the run also measures the
  write rate (2 GiB with O_DIRECT) and the rate of reading the cold shards while a thread writes as many bytes
  with O_DIRECT (the load convert itself puts on the disk, and so its bound).
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("--out", default="BENCHMARKS.md")
    a = ap.parse_args()
    write(Run(a.run_dir), a.out)
    print(f"wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()

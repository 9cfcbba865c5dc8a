#!/usr/bin/env python3
"""Checks that transformers loads an exported SmolLM2 (`t2r export checkpoints/smollm2-135m --out DIR`) and
reproduces the smollm2-golden reference (../shared/checkpoints/smollm2-golden): tokenizer ids, the top-5 next
tokens of "The capital of France is", and the 48 golden logit rows.

Usage:  python3 tools/check-hf-export.py DIR [SHARED]
Needs (not a t2r dependency; a manual cross-check): torch (CPU is enough), transformers, safetensors, numpy.
Exits 1 when a check fails.
"""
import json
import os
import sys

import numpy as np
import torch
from safetensors.numpy import load_file
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer


def main():
    out = sys.argv[1]
    shared = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "..", "shared")
    golden_dir = os.path.join(shared, "checkpoints", "smollm2-golden")
    failures = []

    def check(ok, what):
        print(("ok    " if ok else "FAIL  ") + what)
        if not ok:
            failures.append(what)

    cfg = AutoConfig.from_pretrained(out)
    check((cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.tie_word_embeddings)
          == (30, 576, 9, 3, True), f"config: {cfg.num_hidden_layers} layers, d {cfg.hidden_size}, "
          f"{cfg.num_attention_heads}/{cfg.num_key_value_heads} heads, tied {cfg.tie_word_embeddings}")

    tok = AutoTokenizer.from_pretrained(out)
    tests = json.load(open(os.path.join(golden_dir, "tokenizer_tests.json"), encoding="utf-8"))
    same = sum(tok(c["text"], add_special_tokens=False)["input_ids"] == c["ids_parse_special"] for c in tests["cases"])
    check(same == len(tests["cases"]), f"tokenizer: {same}/{len(tests['cases'])} golden cases (special tokens parsed)")
    text = open(os.path.join(shared, "data", "corpus", "valid", "austen_persuasion.txt"), encoding="utf-8").read()
    ids = tok(text, add_special_tokens=False)["input_ids"]
    p = tests["persuasion"]
    check(len(ids) == p["n_tokens"] and ids[:32] == p["first_32_ids"] and ids[-8:] == p["last_8_ids"],
          f"tokenizer: Persuasion gives {len(ids)} ids (golden {p['n_tokens']})")

    model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    prompt = tok("The capital of France is")["input_ids"]
    with torch.no_grad():
        last = model(torch.tensor([prompt])).logits[0, -1]
    top = torch.topk(last, 5)
    check(prompt == [504, 3575, 282, 4649, 314] and top.indices.tolist() == [7042, 260, 4528, 2250, 1315],
          f"\"The capital of France is\" → top-5 {top.indices.tolist()} {[round(v, 4) for v in top.values.tolist()]}")

    g = load_file(os.path.join(golden_dir, "golden.safetensors"))
    with torch.no_grad():
        logits = model(torch.tensor([g["input_ids"].tolist()])).logits[0].numpy()
    ref = g["logits"]
    rel = np.abs(logits - ref).max() / np.abs(ref).max()
    agree = int((logits.argmax(-1) == ref.argmax(-1)).sum())
    limit = 1e-4 if cfg.torch_dtype in (torch.float32, "float32") else 3e-2
    check(rel < limit and agree >= 47, f"golden logits: max|Δ|/max|ref| {rel:.2e} (limit {limit:g}), top-1 agree {agree}/48")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

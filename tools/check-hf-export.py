#!/usr/bin/env python3
"""Checks that transformers loads a checkpoint `t2r export` wrote and reproduces the reference outputs:

- SmolLM2 (`t2r export checkpoints/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf --out DIR`, from GGUF): the
  smollm2-golden reference (../shared/checkpoints/smollm2-golden): tokenizer ids, the top-5 next tokens of
  "The capital of France is", and the 48 golden logit rows.
- tiny-mistral (`t2r export ../shared/checkpoints/tiny-mistral-keras --out DIR`, from KerasHub HDF5): the
  config, the tokenizer (ids of the valid split equal those of the original checkpoint's tokenizer) and the
  48 `teacher_logits` rows of ../shared/checkpoints/tiny-mistral/golden.safetensors (transformers, float64).

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
    if cfg.model_type == "mistral":
        check_tiny_mistral(out, shared, cfg, check)
        sys.exit(1 if failures else 0)
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

    rel, agree = compare_logits(model, os.path.join(golden_dir, "golden.safetensors"), "logits")
    limit = 1e-4 if cfg.torch_dtype in (torch.float32, "float32") else 3e-2
    check(rel < limit and agree >= 47, f"golden logits: max|Δ|/max|ref| {rel:.2e} (limit {limit:g}), top-1 agree {agree}/48")
    sys.exit(1 if failures else 0)


def check_tiny_mistral(out, shared, cfg, check):
    original = os.path.join(shared, "checkpoints", "tiny-mistral")
    check((cfg.num_hidden_layers, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim, cfg.sliding_window,
           cfg.tie_word_embeddings) == (6, 8, 2, 32, 512, False),
          f"config: {cfg.num_hidden_layers} layers, {cfg.num_attention_heads}/{cfg.num_key_value_heads} heads, "
          f"head_dim {cfg.head_dim}, sliding window {cfg.sliding_window}, tied {cfg.tie_word_embeddings}")
    tok, ref_tok = AutoTokenizer.from_pretrained(out), AutoTokenizer.from_pretrained(original)
    valid = os.path.join(shared, "data", "corpus", "valid")
    texts = [open(os.path.join(valid, f), encoding="utf-8").read() for f in sorted(os.listdir(valid)) if f.endswith(".txt")]
    plain = lambda t, x: t(x, add_special_tokens=False)["input_ids"]
    same = sum(plain(tok, x) == plain(ref_tok, x) for x in texts)
    check(same == len(texts), f"tokenizer: {same}/{len(texts)} valid texts give the original tokenizer's ids")
    # What the source adds around them: BOS always; EOS where a KerasHub preprocessor adds end tokens.
    settings = json.load(open(os.path.join(out, "tokenizer_config.json"), encoding="utf-8"))
    add_bos, add_eos = settings.get("add_bos_token", True), settings.get("add_eos_token", False)
    specials = tok("Hello")["input_ids"]
    expected = ([1] if add_bos else []) + plain(ref_tok, "Hello") + ([2] if add_eos else [])
    check(specials == expected, f"tokenizer: \"Hello\" with special tokens gives {specials} (tokenizer_config.json: "
          f"add_bos_token {add_bos}, add_eos_token {add_eos})")
    model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
    rel, agree = compare_logits(model, os.path.join(original, "golden.safetensors"), "teacher_logits")
    check(rel < 1e-4 and agree == 48, f"golden teacher_logits: max|Δ|/max|ref| {rel:.2e} (limit 0.0001), top-1 agree {agree}/48")


def compare_logits(model, golden_path, key):
    """max|Δ|/max|ref| and top-1 agreement of the model's logits for the golden file's input_ids."""
    g = load_file(golden_path)
    with torch.no_grad():
        logits = model(torch.tensor([g["input_ids"].tolist()])).logits[0].numpy()
    ref = g[key]
    return np.abs(logits - ref).max() / np.abs(ref).max(), int((logits.argmax(-1) == ref.argmax(-1)).sum())


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Check that a GSA student written by `t2r convert` is a valid fla checkpoint and that fla computes the
same logits as t2r.

    check_fla_student.py run --student DIR --ids IDS [--count N] [--init-tensors F] [--dtype float32|bfloat16]
                             [--device cuda] [--reference FILE[:KEY]]... [--out FILE.safetensors] [--load-only]
                             [--cpu-reference-ops]
    check_fla_student.py compare ACTUAL[:KEY] EXPECTED[:KEY]

`run` imports fla (flash-linear-attention 0.6.0, which registers `gsa` with transformers), loads DIR with
`AutoModelForCausalLM.from_pretrained`, fails on missing / unexpected / mismatched tensors and checks that
every parameter equals the file's tensor; `--init-tensors` then replaces parameters by the tensors of that
safetensors file (e.g. the f32 `f_proj` of tiny-mistral's golden.safetensors, to reproduce `gsa_logits`
exactly from a bf16 student). It runs the ids (IDS: .u16/.u32 little-endian, or a .safetensors with
`input_ids`; the first `--count`) as one sequence and compares the logits with each reference (a
`t2r logits` output, key `logits`; or golden.safetensors, key `gsa_logits`), whose `input_ids`, if present,
must equal the ids run. fla's GSA kernels are Triton: a GPU is needed for the forward (`--load-only` checks
loading on any device; `--device cpu --cpu-reference-ops` runs fla's model code with PyTorch stand-ins for
its kernels, tools/fla/cpu_reference_ops.py). fla uses `fused_recurrent` for ≤ 64 tokens and `chunk` above.

A hybrid student (config `attn`) needs flash-attn for its softmax layers; when it is not installed, the
PyTorch stand-in in tools/fla/flash_attn_shim is put on the path and the output says so.

Figures: max |Δ|, max |Δ| / max |reference| (as t2r's tests report), mean |Δ|, and top-1 agreement
(positions whose argmax is the same). Needs torch, transformers 5, safetensors, numpy, einops.
"""
import argparse
import os
import sys

import numpy as np


def read_ids(path, count):
    if path.endswith(".safetensors"):
        from safetensors.numpy import load_file
        ids = load_file(path)["input_ids"].astype(np.int64).reshape(-1)
    elif path.endswith(".u16"):
        ids = np.fromfile(path, dtype="<u2").astype(np.int64)
    elif path.endswith(".u32"):
        ids = np.fromfile(path, dtype="<u4").astype(np.int64)
    else:
        sys.exit(f"{path}: ids must be .u16, .u32 or .safetensors (input_ids)")
    if count is not None:
        if count > len(ids):
            sys.exit(f"{path}: {len(ids)} ids, fewer than --count {count}")
        ids = ids[:count]
    return ids


def load_reference(spec):
    """FILE[:KEY] → (name, logits [T, V] float64, input_ids or None)."""
    from safetensors.numpy import load_file
    path, _, key = spec.partition(":")
    tensors = load_file(path)
    if not key:
        key = "logits" if "logits" in tensors else "gsa_logits"
    if key not in tensors:
        sys.exit(f"{path}: no tensor {key!r} (has {sorted(tensors)})")
    ids = tensors.get("input_ids")
    return f"{os.path.basename(path)}:{key}", tensors[key].astype(np.float64), None if ids is None else ids.astype(np.int64).reshape(-1)


def compare(name, actual, expected):
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        print(f"{name}: shapes differ: {actual.shape} vs {expected.shape}")
        return False
    d = np.abs(actual - expected)
    worst = np.unravel_index(int(np.argmax(d)), d.shape)
    top1 = (actual.argmax(-1) == expected.argmax(-1))
    print(f"{name}: {actual.shape[0]} positions × {actual.shape[1]}: max |Δ| {d.max():.3e} at {tuple(int(i) for i in worst)}, "
          f"max|Δ|/max|ref| {d.max() / np.abs(expected).max():.3e}, mean |Δ| {d.mean():.3e}, "
          f"top-1 agreement {int(top1.sum())}/{top1.size}")
    return bool(np.isfinite(actual).all())


def cmd_compare(args):
    a_name, a, a_ids = load_reference(args.actual)
    e_name, e, e_ids = load_reference(args.expected)
    if a_ids is not None and e_ids is not None and not np.array_equal(a_ids, e_ids):
        sys.exit(f"input_ids differ between {args.actual} and {args.expected}")
    return 0 if compare(f"{a_name} vs {e_name}", a, e) else 1


def cmd_run(args):
    import torch
    import transformers
    try:
        import flash_attn  # noqa: F401
        flash = f"flash-attn {getattr(flash_attn, '__version__', '?')}"
    except ImportError:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "flash_attn_shim"))
        flash = "flash-attn not installed: PyTorch stand-in (tools/fla/flash_attn_shim) for softmax layers"
    import fla  # noqa: F401  (registers the fla models with transformers)
    from safetensors import safe_open
    transformers.utils.logging.disable_progress_bar()
    if args.cpu_reference_ops:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import cpu_reference_ops
        cpu_reference_ops.install()
        flash += "; fla's Triton kernels replaced by PyTorch reference code (tools/fla/cpu_reference_ops.py)"
    from transformers import AutoModelForCausalLM

    device = torch.device(args.device)
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[args.dtype]
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, fla {fla.__version__}, "
          f"triton {_version('triton')}; {flash}; device {gpu}; dtype {args.dtype}")

    model, info = AutoModelForCausalLM.from_pretrained(args.student, dtype=torch.float32, output_loading_info=True)
    problems = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    print(f"{args.student}: {type(model).__name__}, {sum(p.numel() for p in model.parameters()):,} parameters, "
          f"config attn={model.config.attn}")
    if problems:
        sys.exit(f"{args.student}: loading problems: {problems}")
    # Every parameter must be exactly the file's tensor (nothing left at its random initialisation).
    state = model.state_dict()
    files = sorted(f for f in os.listdir(args.student) if f.endswith(".safetensors"))
    seen = set()
    for f in files:
        with safe_open(os.path.join(args.student, f), "pt") as st:
            for name in st.keys():
                if name not in state:
                    sys.exit(f"{f}: tensor {name} is not a parameter of {type(model).__name__}")
                if not torch.equal(st.get_tensor(name).float(), state[name].float()):
                    sys.exit(f"{f}: {name} differs after loading")
                seen.add(name)
    unloaded = [n for n in state if n not in seen]
    if unloaded:
        sys.exit(f"{args.student}: parameters not in the files: {unloaded}")
    print(f"loaded: {len(seen)} tensors from {', '.join(files)}, each equal to the model's parameter")

    if args.init_tensors:
        replaced = []
        with safe_open(args.init_tensors, "pt") as st, torch.no_grad():
            for name in st.keys():
                if name in state:
                    t = st.get_tensor(name)
                    if tuple(t.shape) != tuple(state[name].shape):
                        sys.exit(f"{args.init_tensors}: {name} has shape {tuple(t.shape)}, the model's is {tuple(state[name].shape)}")
                    state[name].copy_(t.float())
                    replaced.append(name)
        if not replaced:
            sys.exit(f"{args.init_tensors}: no tensor names a parameter")
        print(f"replaced {len(replaced)} parameters from {args.init_tensors}")

    if args.load_only:
        return 0
    ids = read_ids(args.ids, args.count)
    model = model.to(device=device, dtype=dtype).eval()
    with torch.no_grad():
        logits = model(input_ids=torch.from_numpy(ids)[None].to(device)).logits[0].float().cpu().numpy()
    mode = "fused_recurrent" if len(ids) <= 64 else "chunk"
    print(f"forward: {len(ids)} ids from {args.ids} (fla GSA mode {mode}) → logits {tuple(logits.shape)}")
    ok = bool(np.isfinite(logits).all())
    for spec in args.reference:
        name, ref, ref_ids = load_reference(spec)
        if ref_ids is not None and not np.array_equal(ref_ids[:len(ids)], ids):
            sys.exit(f"{spec}: its input_ids are not the ids run")
        ok &= compare(f"fla vs {name}", logits, ref[:len(ids)])
    if args.out:
        from safetensors.numpy import save_file
        save_file({"input_ids": ids, "logits": logits.astype(np.float32)}, args.out)
        print(f"wrote {args.out}")
    return 0 if ok else 1


def _version(module):
    try:
        return __import__(module).__version__
    except ImportError:
        return "absent"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="load the student with fla and compare its logits")
    r.add_argument("--student", required=True)
    r.add_argument("--ids")
    r.add_argument("--count", type=int)
    r.add_argument("--init-tensors")
    r.add_argument("--dtype", choices=["float32", "bfloat16"], default="float32")
    r.add_argument("--device", default="cuda")
    r.add_argument("--reference", action="append", default=[])
    r.add_argument("--out")
    r.add_argument("--load-only", action="store_true")
    r.add_argument("--cpu-reference-ops", action="store_true",
                   help="replace fla's Triton kernels by PyTorch reference code (a dry run without a GPU)")
    c = sub.add_parser("compare", help="compare two logits files")
    c.add_argument("actual")
    c.add_argument("expected")
    args = p.parse_args()
    if args.cmd == "run" and not args.load_only and not args.ids:
        p.error("run needs --ids (or --load-only)")
    return cmd_run(args) if args.cmd == "run" else cmd_compare(args)


if __name__ == "__main__":
    sys.exit(main())

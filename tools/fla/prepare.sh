#!/usr/bin/env bash
# Prepares the inputs of the fla compatibility check (README, "Compatibility with fla") in DIR (default
# .fla, git-ignored), small enough to travel to a GPU machine (< 64 MiB with the fla wheels):
#   tiny-mistral-gsa/   tiny-mistral converted by `t2r convert --dtype bf16` with golden.safetensors' f_proj
#                       (tokenizer files dropped: the check needs none)
#   t2r_48.safetensors  `t2r logits` of that student for the golden's 48 input ids
#   golden_48.safetensors  golden input_ids, gsa_logits and the f32 f_proj tensors
#   valid_120.u16       the first 120 ids of valid.mistral-v1.u16 (fla's chunk path; compared back here:
#                       `t2r logits --model DIR/tiny-mistral-gsa --tokens DIR/valid_120.u16 --out t2r_120.safetensors`)
#   hybrid-gsa/, hybrid_ids.u16, t2r_hybrid_40.safetensors
#                       the tiny Llama test fixture converted with --keep-softmax-layers 1, random ids, t2r logits
#   check_fla_student.py, cpu_reference_ops.py, gpu_run.sh, flash_attn_shim/
#                       copies of tools/fla (the GPU machine may get another checkout)
#   whl/                the flash-linear-attention 0.6.0 and fla-core 0.6.0 wheels
# Then, on the GPU machine: `cd DIR && OUT=… bash gpu_run.sh`.
# Usage: tools/fla/prepare.sh [DIR]   (from the repository root; needs ../shared and python3 with numpy)
set -euo pipefail
out=${1:-.fla}
shared=${T2R_SHARED:-../shared}
golden=$shared/checkpoints/tiny-mistral/golden.safetensors
swift build -c release --product t2r >/dev/null
t2r=$(swift build -c release --show-bin-path)/t2r
rm -rf "$out/tiny-mistral-gsa" "$out/hybrid-gsa"
mkdir -p "$out"

"$t2r" convert --teacher "$shared/checkpoints/tiny-mistral" --out "$out/tiny-mistral-gsa" --dtype bf16 --init-tensors "$golden" >/dev/null
rm -f "$out"/tiny-mistral-gsa/tokenizer* "$out/tiny-mistral-gsa/special_tokens_map.json"
python3 - "$golden" "$out" "$shared/data/corpus/valid.mistral-v1.u16" <<'EOF'
import sys, numpy as np
from safetensors.numpy import load_file, save_file
golden, out, valid = sys.argv[1:]
g = load_file(golden)
keep = {k: v for k, v in g.items() if k in ("input_ids", "gsa_logits") or k.endswith("f_proj.weight")}
save_file(keep, f"{out}/golden_48.safetensors")
np.fromfile(valid, dtype="<u2")[:120].tofile(f"{out}/valid_120.u16")
assert (g["input_ids"] == np.fromfile(valid, dtype="<u2")[:48]).all()
np.random.default_rng(0).integers(0, 288, 100).astype("<u2").tofile(f"{out}/hybrid_ids.u16")
EOF
"$t2r" logits --model "$out/tiny-mistral-gsa" --tokens "$out/valid_120.u16" --max-tokens 48 --out "$out/t2r_48.safetensors"

"$t2r" convert --teacher Tests/Fixtures/gguf/tiny_llama_hf --out "$out/hybrid-gsa" --keep-softmax-layers 1 --dtype f32 >/dev/null
"$t2r" logits --model "$out/hybrid-gsa" --tokens "$out/hybrid_ids.u16" --max-tokens 40 --out "$out/t2r_hybrid_40.safetensors"

cp tools/fla/check_fla_student.py tools/fla/cpu_reference_ops.py tools/fla/gpu_run.sh "$out/"
# fla 0.6.0 needs only einops besides torch/transformers/triton, which the GPU image has.
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp -d "$out/whl" \
    flash-linear-attention==0.6.0 fla-core==0.6.0
rm -rf "$out/flash_attn_shim"
cp -r tools/fla/flash_attn_shim "$out/"
du -sh "$out"

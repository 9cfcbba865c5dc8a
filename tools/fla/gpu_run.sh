#!/usr/bin/env bash
# The GPU side of the fla compatibility check: run inside the directory tools/fla/prepare.sh filled
# (with the fla wheels in whl/), writing logs and fla's logits to $OUT (default ./out). One pass does
# every check: the tiny-mistral student in fp32 (fused_recurrent path, 48 ids) against `t2r logits` and
# against the golden gsa_logits (with the golden's f32 f_proj); the chunk path (120 ids; its logits come back
# in $OUT and are compared here with `check_fla_student.py compare` and a `t2r logits` file); bf16; and the
# hybrid student (softmax layer 1). About 8 minutes on an H100, most of it Triton compiling and autotuning
# fla's kernels (the chunk kernels alone take minutes, which is why bf16 and the hybrid run only the
# fused_recurrent path).
set -u
OUT=${OUT:-out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site whl/*.whl || exit 1
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
python3 -c "import flash_attn" 2>&1 | tail -1
run() { echo "== $*"; python3 check_fla_student.py run "$@" 2>&1 | grep -v -i "warn"; }
run --student tiny-mistral-gsa --ids golden_48.safetensors --reference t2r_48.safetensors --out "$OUT/fla_48.safetensors"
run --student tiny-mistral-gsa --ids golden_48.safetensors --init-tensors golden_48.safetensors --reference golden_48.safetensors --out "$OUT/fla_golden_48.safetensors"
run --student tiny-mistral-gsa --ids valid_120.u16 --out "$OUT/fla_120.safetensors"
run --student tiny-mistral-gsa --ids golden_48.safetensors --dtype bfloat16 --reference t2r_48.safetensors
run --student hybrid-gsa --ids hybrid_ids.u16 --count 40 --reference t2r_hybrid_40.safetensors

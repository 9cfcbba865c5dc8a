#!/usr/bin/env bash
# Peers of `t2r bench`, installed under tools/peers/.work (git-ignored; T2R_PEERS_DIR overrides) and never
# linked into t2r, run on this machine with the same model, text and threads; one JSON object per line on
# stdout (progress on stderr). Used by tools/bench/run_benchmarks.sh, which merges them with `t2r bench all`.
#
#   llama.cpp  built with cmake from the source vendored in the PyPI sdist of llama-cpp-python 0.3.36;
#              llama-perplexity -c 512 -t $THREADS --chunks $CHUNKS on the SmolLM2 Q4_1 GGUF and on an F32
#              re-save of it (llama-quantize --allow-requantize … F32), with data/austen/persuasion.txt.
#              llama-perplexity computes logits for the scored second half of each chunk only; its default
#              batch of 2048 evaluates 4 chunks per pass. Its rate: all tokens of all chunks over the time from
#              "calculating perplexity" to "Final estimate" in its log (loading and tokenization excluded).
#   PyTorch    the PyPI wheel (torch, transformers) in a venv: transformers' forward of SmolLM2 (exported by
#              `t2r export`) and one plain-torch GSA stage-2 step (tools/peers/torch_peers.py).
#
# Usage: tools/peers/run_peers.sh [setup|run|all]   (default all; setup is idempotent)
# Environment: THREADS (2), CHUNKS (32), STEPS (3), TORCH_CHUNKS (8), TORCH_STEPS (2), T2R (.build/release/t2r),
# T2R_PEERS_DIR. PyTorch gets fewer chunks and steps by default: it is many times slower on this CPU (its
# wheel's MKL), and a rate needs no more.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${T2R_PEERS_DIR:-$ROOT/tools/peers/.work}
THREADS=${THREADS:-2}
CHUNKS=${CHUNKS:-32}
STEPS=${STEPS:-3}
TORCH_CHUNKS=${TORCH_CHUNKS:-$((CHUNKS < 8 ? CHUNKS : 8))}
TORCH_STEPS=${TORCH_STEPS:-$((STEPS < 2 ? STEPS : 2))}
CTX=512
T2R=${T2R:-$ROOT/.build/release/t2r}
GGUF=$ROOT/checkpoints/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf
TEXT=$ROOT/data/austen/persuasion.txt
LLAMA_VERSION=0.3.36
LLAMA_SRC=$WORK/llama_cpp_python-$LLAMA_VERSION/vendor/llama.cpp
LLAMA_BIN=$LLAMA_SRC/build/bin
VENV=$WORK/venv
F32=$WORK/SmolLM2-135M-Instruct.F32.gguf
HF=$WORK/smollm2-hf

log() { echo "peers: $*" >&2; }

setup() {
  mkdir -p "$WORK"
  [ -f "$GGUF" ] || "$ROOT/tools/fetch-smollm2.sh" >&2
  [ -x "$T2R" ] || (cd "$ROOT" && swift build -c release >&2)
  if ! command -v cmake >/dev/null || ! command -v g++ >/dev/null; then
    log "installing cmake and build-essential (apt)"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cmake build-essential >&2
  fi
  if [ ! -x "$LLAMA_BIN/llama-perplexity" ] || [ ! -x "$LLAMA_BIN/llama-quantize" ]; then
    if [ ! -d "$LLAMA_SRC" ]; then
      log "downloading the llama-cpp-python $LLAMA_VERSION sdist (PyPI)"
      python3 -m pip download -q --no-deps --no-binary :all: "llama-cpp-python==$LLAMA_VERSION" -d "$WORK/dl" >&2
      tar -xzf "$WORK/dl/llama_cpp_python-$LLAMA_VERSION.tar.gz" -C "$WORK"
    fi
    log "building llama-perplexity and llama-quantize (cmake, Release, native)"
    cmake -S "$LLAMA_SRC" -B "$LLAMA_SRC/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF \
      -DLLAMA_BUILD_SERVER=OFF -DGGML_NATIVE=ON >&2
    cmake --build "$LLAMA_SRC/build" -j"$(nproc)" --target llama-perplexity llama-quantize >&2
  fi
  if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import torch, transformers" 2>/dev/null; then
    log "installing torch and transformers (PyPI) into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q torch==2.15.0 transformers==5.23.0 safetensors numpy >&2
  fi
  [ -f "$F32" ] || "$LLAMA_BIN/llama-quantize" --allow-requantize "$GGUF" "$F32" F32 >&2
  [ -d "$HF" ] || "$T2R" export "$GGUF" --out "$HF" >&2
}

# llama-perplexity on one GGUF; prints one JSON line.
perplexity() {
  local model=$1 label=$2 out
  out=$WORK/perplexity-$label.log
  log "llama-perplexity $label (-c $CTX -t $THREADS --chunks $CHUNKS)"
  "$LLAMA_BIN/llama-perplexity" -m "$model" -f "$TEXT" -c "$CTX" -t "$THREADS" --chunks "$CHUNKS" >"$out" 2>&1
  python3 - "$out" "$label" "$THREADS" "$CHUNKS" "$CTX" "$model" <<'EOF'
import json, re, sys
path, label, threads, chunks, ctx, model = sys.argv[1:]
text = open(path, encoding="utf-8", errors="replace").read()
ppl = re.search(r"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)", text)
plan = re.search(r"calculating perplexity over (\d+) chunks, n_ctx=(\d+), batch_size=(\d+), n_seq=(\d+)", text)
# The evaluation time: from the log timestamps (M.SS.mmm.uuu) of the "calculating perplexity" line to the
# "Final estimate" line (every pass plus the scoring; tokenization and model loading excluded).
stamp = lambda m: (lambda p: int(p[0]) * 60 + int(p[1]) + int(p[2]) / 1e3 + int(p[3]) / 1e6)(m.group(1).split("."))
t0 = re.search(r"^(\d+\.\d+\.\d+\.\d+) I perplexity: calculating perplexity", text, re.M)
t1 = re.search(r"^(\d+\.\d+\.\d+\.\d+) I Final estimate", text, re.M)
if not ppl or not plan or not t0 or not t1:
    sys.exit(f"cannot parse {path}:\n{text[-3000:]}")
seconds, tokens = stamp(t1) - stamp(t0), int(plan.group(1)) * int(plan.group(2))
print(json.dumps({"peer": "llama.cpp", "name": "teacher", "variant": f"ctx {ctx}, {label}",
                  "comparable": f"teacher/ctx {ctx}, scored-half logits", "seconds": seconds, "tokens": tokens,
                  "tokens_per_second": tokens / seconds, "perplexity": float(ppl.group(1)),
                  "perplexity_error": float(ppl.group(2)), "threads": int(threads), "chunks": int(plan.group(1)),
                  "batch_size": int(plan.group(3)), "sequences_per_batch": int(plan.group(4)),
                  "model": model,
                  "command": f"llama-perplexity -m {model.split('/')[-1]} -f persuasion.txt -c {ctx} -t {threads} --chunks {chunks}"}))
EOF
}

run() {
  perplexity "$GGUF" Q4_1
  perplexity "$F32" F32
  log "PyTorch: transformers teacher forward"
  "$VENV/bin/python" "$ROOT/tools/peers/torch_peers.py" teacher --hf "$HF" --text "$TEXT" --threads "$THREADS" \
    --context "$CTX" --chunks "$TORCH_CHUNKS"
  log "PyTorch: plain-torch GSA stage-2 step"
  "$VENV/bin/python" "$ROOT/tools/peers/torch_peers.py" stage2 --hf "$HF" --text "$TEXT" --threads "$THREADS" \
    --steps "$TORCH_STEPS"
  "$VENV/bin/python" "$ROOT/tools/peers/torch_peers.py" matmul --threads "$THREADS"
}

case "${1:-all}" in
  setup) setup ;;
  run) run ;;
  all) setup; run ;;
  *) echo "usage: $0 [setup|run|all]" >&2; exit 64 ;;
esac

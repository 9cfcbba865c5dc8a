#!/usr/bin/env bash
# The one command behind BENCHMARKS.md: builds t2r (release), installs and builds the peers if needed
# (tools/peers/run_peers.sh setup: llama.cpp from the llama-cpp-python sdist, torch + transformers in a venv),
# then measures, on this machine and in one run, `t2r bench all --json` and the peers, and writes
# BENCHMARKS.md with every ratio taken from this run. Raw results stay in out/bench/<date>/.
# Run it on a quiet machine: other processes on the cores change every figure (the load average is recorded).
#
#   tools/bench/run_benchmarks.sh            # full run: about 15-20 minutes on a quiet 2-core machine (t2r ~8,
#                                            # peers ~8), plus a one-time setup (llama.cpp build ~10 min on 2 cores,
#                                            # torch + transformers ~3 GB download); ~30 GB free in $TMPDIR or /tmp
#                                            # for the 7B-shaped convert (BENCH_ARGS="--convert-layers 8" needs ~8)
#   QUICK=1 tools/bench/run_benchmarks.sh    # short settings for trying the pipeline (figures not meaningful)
#
# Environment: QUICK=1, THREADS (2), CHUNKS (32), OUT (run directory), BENCHMARKS_MD (the file written, default
# BENCHMARKS.md), OPENBLAS_CORETYPE (recorded and named in the file), BENCH_ARGS (extra `t2r bench` options,
# e.g. "--convert-layers 8" when the disk has less than ~32 GB free), T2R_PEERS_DIR (where peers live).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
export THREADS=${THREADS:-2}
if [ "${QUICK:-0}" = 1 ]; then
  export CHUNKS=${CHUNKS:-4} STEPS=${STEPS:-1}
  BENCH_ARGS="--quick --chunks $CHUNKS ${BENCH_ARGS:-}"
else
  export CHUNKS=${CHUNKS:-32} STEPS=${STEPS:-3}
  BENCH_ARGS="--chunks $CHUNKS ${BENCH_ARGS:-}"
fi
OUT=${OUT:-out/bench/$(date +%Y%m%d-%H%M%S)}
mkdir -p "$OUT"
export T2R=$ROOT/.build/release/t2r

echo "building t2r (release)" >&2
swift build -c release >&2
tools/peers/run_peers.sh setup

# Let the build's load decay (the 1-minute load average is recorded, and a loaded start marks the figures
# as not final): up to 4 minutes for it to fall below 0.5.
for _ in $(seq 48); do
  awk '{ exit !($1 < 0.5) }' /proc/loadavg && break
  sleep 5
done
start=$(date +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "t2r bench all ($OUT/t2r.log)" >&2
# shellcheck disable=SC2086
"$T2R" bench all --json --threads "$THREADS" --steps "$STEPS" $BENCH_ARGS >"$OUT/t2r.jsonl" 2>"$OUT/t2r.log"
echo "peers ($OUT/peers.log)" >&2
tools/peers/run_peers.sh run >"$OUT/peers.jsonl" 2>"$OUT/peers.log"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
seconds=$(($(date +%s) - start))

python3 - "$OUT/run.json" "$load_before" "$load_after" "$seconds" "$T2R" "$BENCH_ARGS" <<'EOF'
import json, os, platform, sys, time
path, lb, la, secs, t2r, bench_args = sys.argv[1:]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem = next((l.split()[1] for l in open("/proc/meminfo") if l.startswith("MemTotal")), "0")
log = os.path.join(os.path.dirname(path), "t2r.log")
blas = next((l.split(": ", 1)[1].strip() for l in open(log) if l.startswith("bench blas: ") and "OpenBLAS" in l), "OpenBLAS")
info = {
    "date": time.strftime("%Y-%m-%d %H:%M %Z"), "cpu": cpu, "cores": os.cpu_count(),
    "memory": f"{int(mem) / 2**20:.0f} GiB", "os": platform.platform(), "blas": blas,
    "load_before": lb, "load_after": la, "seconds": int(secs), "quick": os.environ.get("QUICK") == "1",
    "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
    "commands": [f"t2r bench all --json --threads {os.environ['THREADS']} --steps {os.environ['STEPS']} {bench_args}".strip(),
                 f"tools/peers/run_peers.sh run (THREADS={os.environ['THREADS']} CHUNKS={os.environ['CHUNKS']} STEPS={os.environ['STEPS']})"],
}
json.dump(info, open(path, "w"), indent=2)
EOF
MD=${BENCHMARKS_MD:-BENCHMARKS.md}
python3 tools/bench/make_benchmarks_md.py "$OUT" --out "$MD"
echo "$MD written from $OUT in $((seconds / 60)) min" >&2

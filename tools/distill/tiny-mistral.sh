#!/usr/bin/env bash
# The tiny-mistral distillation end to end, timed: convert (from stage 1's recipe), stage 1 (attention
# transfer), stage 2 (end-to-end KL + CE), then teacher and student perplexity on the whole valid split
# (../shared/data/corpus/valid as Mistral-v1 ids, context 512, stride 512). Needs ../shared.
#
#   tools/distill/tiny-mistral.sh [OUT]      (default runs/tiny-mistral; a log in OUT/summary.txt)
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${1:-runs/tiny-mistral}
T2R=${T2R:-.build/release/t2r}
SHARED=../shared
[ -d "$SHARED/checkpoints/tiny-mistral" ] || { echo "needs $SHARED/checkpoints/tiny-mistral" >&2; exit 1; }
[ -x "$T2R" ] || swift build -c release
mkdir -p "$OUT"
now() { date +%s.%N; }
t0=$(now)
"$T2R" distill recipes/tiny-mistral/stage1.json5 --set run.output="$OUT/stage1" --set student.init="$OUT/converted"
t1=$(now)
"$T2R" distill recipes/tiny-mistral/stage2.json5 --set run.output="$OUT/stage2" --set student.init="$OUT/stage1/final"
t2=$(now)
VALID=$SHARED/data/corpus/valid.mistral-v1.u16
"$T2R" perplexity --model "$SHARED/checkpoints/tiny-mistral" --tokens "$VALID" --context 512 --stride 512 --json > "$OUT/ppl-teacher.json"
"$T2R" perplexity --model "$OUT/stage2/final" --tokens "$VALID" --context 512 --stride 512 --json > "$OUT/ppl-student.json"
"$T2R" perplexity --model "$OUT/stage1/final" --tokens "$VALID" --context 512 --stride 512 --json > "$OUT/ppl-stage1.json"
python3 - "$OUT" "$t0" "$t1" "$t2" <<'PY' | tee "$OUT/summary.txt"
import json, sys
out, t0, t1, t2 = sys.argv[1], *map(float, sys.argv[2:])
p = {k: json.load(open(f"{out}/ppl-{k}.json")) for k in ("teacher", "stage1", "student")}
def ppl(d): return d["ppl"]
print(f"stage 1 (with convert): {(t1 - t0) / 60:.1f} min; stage 2: {(t2 - t1) / 60:.1f} min; total {(t2 - t0) / 60:.1f} min")
print(f"valid split, context 512, stride 512, {p['teacher'].get('tokens_scored', '?')} tokens scored")
print(f"teacher perplexity {ppl(p['teacher']):.2f}")
print(f"student after stage 1 {ppl(p['stage1']):.2f} (ratio {ppl(p['stage1']) / ppl(p['teacher']):.3f})")
print(f"student after stage 2 {ppl(p['student']):.2f} (ratio {ppl(p['student']) / ppl(p['teacher']):.3f})")
PY

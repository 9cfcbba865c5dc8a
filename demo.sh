#!/usr/bin/env bash
# The README's first command: set up a fresh Debian machine and run the main job.
set -euo pipefail
cd "$(dirname "$0")"

step() { printf '\n==> %s\n' "$*" >&2; }

step "Installing Debian packages (libopenblas-dev libhdf5-dev pkg-config)"
if ! pkg-config --exists openblas hdf5-serial 2>/dev/null; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  $SUDO apt-get update
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y libopenblas-dev libhdf5-dev pkg-config
fi

step "Building t2r (release)"
swift build -c release
T2R="$(swift build -c release --show-bin-path)/t2r"

step "Inspecting the bundled fixture checkpoint"
"$T2R" inspect Tests/Fixtures/safetensors/sharded/good

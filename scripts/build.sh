#!/usr/bin/env bash
# Installs dependencies (idempotent) and builds a CMake preset (default: "default").
# Usage: scripts/build.sh [PRESET] [cmake --build options, e.g. --target NAME]
# Uses ccache when it is installed (scripts/ccache-env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-default}
shift || true
bash scripts/install-deps.sh >&2
source scripts/ccache-env.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j"$(nproc)" "$@" >&2

#!/usr/bin/env bash
# Installs dependencies (idempotent) and builds a CMake preset (default: "default").
# Usage: scripts/build.sh [PRESET]
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-default}
bash scripts/install-deps.sh >&2
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j"$(nproc)" >&2

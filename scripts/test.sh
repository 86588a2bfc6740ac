#!/usr/bin/env bash
# Runs every test of smtp-harness on a fresh Debian 12 machine (as root):
# installs dependencies, builds, and runs ctest. Exit status non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh default
ctest --preset default

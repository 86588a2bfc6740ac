#!/usr/bin/env bash
# Runs every test of smtp-harness on a fresh Debian 12 machine (as root):
# installs dependencies, builds, starts the real SMTP servers the
# integration tests use (Postfix, aiosmtpd, OpenSMTPD, smtp-sink on
# loopback), runs ctest, then a short libFuzzer run of every fuzz target
# and the ClusterFuzzLite build script. Exit status non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh default

# Real servers for the `realserver` tests; stopped again however we exit.
trap 'scripts/real-servers.sh stop all >/dev/null 2>&1 || true' EXIT
scripts/real-servers.sh start all
eval "$(scripts/real-servers.sh env)"

ctest --preset default

# In-process fuzzing smoke run (clang `fuzz` preset, libFuzzer + ASan/UBSan):
# every target for a short budget, half from its shipped corpus and half from
# an empty one with a fresh, printed -seed; non-zero with the reproducer on a
# finding in either run.
scripts/fuzz.sh -t "${SMTP_FUZZ_SECONDS:-20}" --no-merge
# The ClusterFuzzLite build script, run locally with the standard variables.
scripts/cflite-local.sh 5

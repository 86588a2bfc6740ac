#!/usr/bin/env bash
# The main job of smtp-harness on a fresh Debian 12 machine (as root):
# installs dependencies, builds, and runs the conformance suite (scenarios/)
# against the embedded reference SMTP server (no --target: it starts in
# process on an ephemeral loopback port), writing results.json, junit.xml
# and the self-contained HTML report to out/quickstart/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh default
build/default/app/smtp-harness run --suite scenarios --out out/quickstart
echo "HTML report: $(pwd)/out/quickstart/index.html"

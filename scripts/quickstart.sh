#!/usr/bin/env bash
# The main job of smtp-harness on a fresh Debian 12 machine (as root):
# installs dependencies, builds, and parses the bundled RFC 5321 Appendix D.1
# session (client commands, server replies, DATA body) with the strict parser.
# (Once the conformance runner lands, this runs the suite against the
# embedded server and writes the HTML report.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh default
bin=build/default/app/smtp-harness
for mode in command reply data; do
  ext=$([[ $mode == command ]] && echo client || ([[ $mode == reply ]] && echo server || echo data))
  echo "== smtp-harness parse --mode $mode < corpus/sessions/rfc5321-d1.$ext"
  "$bin" parse --mode "$mode" < "corpus/sessions/rfc5321-d1.$ext"
done

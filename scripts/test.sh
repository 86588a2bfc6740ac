#!/usr/bin/env bash
# Runs every test of smtp-harness on a fresh Debian 12 machine (as root):
# installs dependencies, checks formatting, builds, starts the real SMTP
# servers the integration tests use (Postfix, aiosmtpd, OpenSMTPD, smtp-sink,
# Exim, Sendmail, chasquid, Courier, Node.js smtp-server, Dovecot LMTP on
# loopback),
# runs ctest, runs the unit tests again under ASan + UBSan,
# then a short libFuzzer run of every fuzz target and the ClusterFuzzLite
# build script. Exit status non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh >&2
# Formatting is checked, not hoped for (.clang-format).
scripts/check-format.sh
bash scripts/build.sh default

# Real servers for the `realserver` tests; stopped again however we exit.
trap 'scripts/real-servers.sh stop all >/dev/null 2>&1 || true' EXIT
# A server that cannot start here says why on stderr; its tests then fail
# (Postfix, aiosmtpd, OpenSMTPD, smtp-sink) or are skipped saying so (the
# rest of the zoo: tests/realserver/CMakeLists.txt).
scripts/real-servers.sh start all || echo "test.sh: not every real server started (see above)" >&2
eval "$(scripts/real-servers.sh env)"

ctest --preset default

# The unit tests under ASan + UBSan (the `asan` preset, -fno-sanitize-recover):
# every gtest binary; the end-to-end tests (Python drivers, real servers, the
# suite, hostile peers, the browser) ran above against the default build.
bash scripts/build.sh asan
ctest --preset asan -LE 'realserver|suite|hostile|browser|catalogue' -E '_cli$'

# In-process fuzzing smoke run (clang `fuzz` preset, libFuzzer + ASan/UBSan):
# every target for a short budget, half from its shipped corpus and half from
# an empty one with a fresh, printed -seed; non-zero with the reproducer on a
# finding in either run.
scripts/fuzz.sh -t "${SMTP_FUZZ_SECONDS:-20}" --no-merge
# The ClusterFuzzLite build script, run locally with the standard variables.
scripts/cflite-local.sh 5

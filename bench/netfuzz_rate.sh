#!/usr/bin/env bash
# The network fuzzer's session rate end to end (`smtp-harness fuzz`, libFuzzer
# included), and where the CPU goes:
#   1. in process against the embedded server (--target embedded);
#   2. over loopback TCP against `smtp-harness serve` (no pre-greeting
#      delay): sessions/s, and the CPU seconds of the fuzzer and of the
#      server per 1,000 sessions (the harness's share);
#   3. against Postfix on 127.0.0.1:2525 when it answers
#      (scripts/real-servers.sh start postfix): sessions/s and the fraction
#      of sessions that got a message accepted (DATA or BDAT LAST).
# Each from the shipped seeds, with a fixed -seed, -runs=N. A count of 0
# skips that part. NETFUZZ_FLAGS adds libFuzzer flags to the in-process run
# (e.g. NETFUZZ_FLAGS=-entropic=0); NETFUZZ_OUT puts its --out directory
# (and so libFuzzer's corpus files) under another directory, e.g. /dev/shm.
#
#   bench/netfuzz_rate.sh [BUILD_DIR] [RUNS_IN_PROCESS] [RUNS_TCP] [RUNS_POSTFIX]
#   defaults:              build/default 200000           5000       200
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build/default}
RUNS=${2:-200000}
RUNS_TCP=${3:-5000}
RUNS_POSTFIX=${4:-200}
BIN=$BUILD_DIR/app/smtp-harness
[[ -x $BIN ]] || { echo "netfuzz_rate.sh: build $BIN first" >&2; exit 2; }
work=$(mktemp -d)
inproc_out=$(mktemp -d -p "${NETFUZZ_OUT:-$work}")
read -r -a extra_flags <<<"${NETFUZZ_FLAGS:-}"
serve=
trap '[[ -n $serve ]] && kill $serve 2>/dev/null; rm -rf "$work" "$inproc_out"' EXIT

stats() {  # stats OUT_DIR: sessions, sessions/s, coverage, states, % past MAIL/RCPT/DATA
  python3 - "$1/fuzz.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["stats"]
n = max(s["sessions"], 1)
r = s["reached"]
print("sessions %d  %.0f/s  server coverage %d  response states %d  "
      "past MAIL %.0f%%  RCPT %.0f%%  DATA %.0f%%" % (
          s["sessions"], s["sessions_per_s"], s["server_coverage"], s["response_states"],
          100.0 * r["mail"] / n, 100.0 * r["rcpt"] / n, 100.0 * r["data"] / n))
PY
}

cpu_of() {  # cpu_of PID: user+sys seconds so far
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}

if ((RUNS > 0)); then
  echo "== in process, embedded (strict), -runs=$RUNS ${extra_flags[*]}"
  /usr/bin/time -f "fuzzer CPU %U user + %S sys s, wall %e s" \
    "$BIN" fuzz --target embedded --out "$inproc_out" -runs="$RUNS" -seed=1 \
    "${extra_flags[@]}" 2>&1 | grep -E "^fuzzer CPU|^#[0-9]+.DONE" || true
  stats "$inproc_out"
fi
if ((RUNS_TCP > 0)); then
  echo "== loopback TCP, smtp-harness serve (strict), -runs=$RUNS_TCP"
  "$BIN" serve --listen 127.0.0.1:0 --port_file "$work/port" --pregreet_delay_ms 0 \
    --max_connections_per_ip 0 >/dev/null 2>&1 &
  serve=$!
  for _ in $(seq 50); do [[ -s $work/port ]] && break; sleep 0.1; done
  before=$(cpu_of $serve)
  /usr/bin/time -f "fuzzer CPU %U user + %S sys s, wall %e s" \
    "$BIN" fuzz --target "127.0.0.1:$(cat "$work/port")" --out "$work/tcp" -runs="$RUNS_TCP" \
    -seed=1 --max_connections_per_s 0 2>&1 | grep -E "^fuzzer CPU" || true
  echo "server CPU $(awk -v a="$(cpu_of $serve)" -v b="$before" 'BEGIN { printf "%.2f", a - b }') s"
  stats "$work/tcp"
  kill $serve; wait $serve 2>/dev/null || true; serve=
fi

if ((RUNS_POSTFIX == 0)); then
  :
elif (exec 3<>/dev/tcp/127.0.0.1/2525) 2>/dev/null; then
  echo "== Postfix on 127.0.0.1:2525, -runs=$RUNS_POSTFIX"
  /usr/bin/time -f "fuzzer CPU %U user + %S sys s, wall %e s" \
    "$BIN" fuzz --target 127.0.0.1:2525 --out "$work/postfix" -runs="$RUNS_POSTFIX" -seed=1 \
    --max_connections_per_s 0 2>&1 | grep -E "^fuzzer CPU|FINDING" || true
  stats "$work/postfix"
else
  echo "== Postfix: nothing on 127.0.0.1:2525 (scripts/real-servers.sh start postfix)"
fi

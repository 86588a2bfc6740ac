#!/usr/bin/env bash
# replay against run --repeat: the wall time of `smtp-harness replay` of N
# recorded sessions next to `smtp-harness run --repeat N` of the scenario
# they were recorded from, same server (`smtp-harness serve`, no pre-greeting
# delay), same --jobs, in alternating rounds; prints each round, the medians
# and the ratio replay / run (issue 12 asks for at most 1.5).
#
#   bench/replay_bench.sh [BUILD_DIR] [SESSIONS] [ROUNDS] [JOBS]
#   defaults:              build/default 500      5        4
#
# The scenario is R5321-3.3-e (greeting, EHLO, MAIL, RCPT, DATA with a body,
# QUIT: a whole transaction). The sessions replayed are that run's own
# transcripts (results.json), so both sides send the same bytes. run also
# probes the target once per invocation (--no_preflight is given to keep
# that small); replay compares every reply and writes the same three reports.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build/default}
SESSIONS=${2:-500}
ROUNDS=${3:-5}
JOBS=${4:-4}
BIN=$BUILD_DIR/app/smtp-harness
[[ -x $BIN ]] || { echo "replay_bench.sh: build $BIN first" >&2; exit 2; }
work=$(mktemp -d)
port_file=$work/port
"$BIN" serve --listen 127.0.0.1:0 --port_file "$port_file" --pregreet_delay_ms 0 \
  --max_connections_per_ip 0 >/dev/null 2>&1 &
serve=$!
trap 'kill $serve 2>/dev/null; wait $serve 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [[ -s $port_file ]] && break; sleep 0.1; done
target=127.0.0.1:$(cat "$port_file")
common=(--target "$target" --jobs "$JOBS" --progress_every 0)
run_once() {
  "$BIN" run --suite scenarios/core --filter R5321-3.3-e --repeat "$SESSIONS" --no_preflight \
    "${common[@]}" --out "$work/run" >/dev/null 2>&1
}
replay_once() {
  "$BIN" replay "$work/recorded/results.json" "${common[@]}" --out "$work/replay" >/dev/null 2>&1
}
"$BIN" run --suite scenarios/core --filter R5321-3.3-e --repeat "$SESSIONS" --no_preflight \
  "${common[@]}" --out "$work/recorded" >/dev/null 2>&1
ms() { local t0 t1; t0=$(date +%s%N); "$@"; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
runs=() replays=()
for r in $(seq "$ROUNDS"); do
  a=$(ms run_once) b=$(ms replay_once)
  runs+=("$a") replays+=("$b")
  echo "round $r: run --repeat $SESSIONS ${a} ms, replay of $SESSIONS sessions ${b} ms"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
mr=$(median "${runs[@]}") mp=$(median "${replays[@]}")
echo "median: run ${mr} ms, replay ${mp} ms, replay/run = $(awk -v a="$mp" -v b="$mr" 'BEGIN { printf "%.2f", a / b }')"
grep -q '"differences": 0' "$work/replay/results.json" || { echo "replay found differences" >&2; exit 1; }

#!/usr/bin/env bash
# Session throughput of `smtp-harness run` next to Postfix's smtp-source, both
# against the same Postfix smtp-sink in the same run, and the ratio.
#
#   bench/session_bench.sh [BUILD_DIR] [SESSIONS] [CONCURRENCY] [RUNS]
#   defaults:               build/default 2000      10            5
#
# Each side opens SESSIONS connections, CONCURRENCY at a time, and runs one
# transaction per connection (greeting, HELO, MAIL, RCPT, DATA, QUIT; HELO
# as smtp-source sends it, and because smtp-sink ends its EHLO reply with
# "250 " + CRLF, which the strict reply reader rejects):
#   harness:     smtp-harness run --repeat SESSIONS --jobs CONCURRENCY with a
#                one-transaction scenario (plus the runner's one probe
#                session), writing results.json with every transcript;
#   smtp-source: smtp-source -s CONCURRENCY -m SESSIONS (one message per
#                connection: no -d).
# Uses hyperfine when installed (apt-get install hyperfine), else plain timing.
# Prints sessions/s of each and harness / smtp-source.
set -euo pipefail

BUILD_DIR=${1:-build/default}
SESSIONS=${2:-2000}
CONCURRENCY=${3:-10}
RUNS=${4:-5}
BIN="$BUILD_DIR/app/smtp-harness"
SINK=/usr/sbin/smtp-sink
SOURCE=/usr/sbin/smtp-source

for tool in "$BIN" "$SINK" "$SOURCE"; do
  [[ -x "$tool" ]] || { echo "session_bench: missing $tool" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/session-bench.XXXXXX)
sink_pid=""
cleanup() {
  [[ -n "$sink_pid" ]] && kill "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# smtp-sink: accept everything; -u is required when run as root; backlog 100.
"$SINK" -u nobody "127.0.0.1:$port" 100 &
sink_pid=$!
for _ in $(seq 100); do
  if python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null; then
    break
  fi
  sleep 0.1
done

mkdir -p "$tmp/suite"
cat >"$tmp/suite/one-transaction.json" <<'EOF'
{
  "id": "bench-one-transaction",
  "title": "One mail transaction per connection",
  "rfc": {"document": "RFC 5321", "section": "3.3"},
  "level": "MUST",
  "steps": [
    {"connect": {}},
    {"expect": 220},
    {"send": "HELO ${client_domain}"},
    {"expect": 250},
    {"send": "MAIL FROM:<${sender}>"},
    {"expect": 250},
    {"send": "RCPT TO:<${rcpt}>"},
    {"expect": [250, 251]},
    {"data": {"body": "Subject: bench\r\n\r\nhello\r\n"}},
    {"send": "QUIT"},
    {"expect": 221}
  ]
}
EOF

harness_cmd="$BIN run --target 127.0.0.1:$port --suite $tmp/suite --repeat $SESSIONS --jobs $CONCURRENCY --out $tmp/out"
source_cmd="$SOURCE -s $CONCURRENCY -m $SESSIONS 127.0.0.1:$port"

# Sanity: the harness run passes every session.
$harness_cmd >"$tmp/check.txt" || { cat "$tmp/check.txt" >&2; exit 1; }

if command -v hyperfine >/dev/null; then
  hyperfine --warmup 1 --runs "$RUNS" --export-json "$tmp/h.json" \
    -n harness "$harness_cmd" -n smtp-source "$source_cmd" >&2
  read -r t_harness t_source < <(python3 -c '
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
print(r["harness"]["median"], r["smtp-source"]["median"])' "$tmp/h.json")
else
  median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  time_it() {
    for _ in $(seq "$RUNS"); do
      local s e
      s=$(date +%s.%N); $1 >/dev/null; e=$(date +%s.%N)
      echo "$e - $s" | bc -l
    done | median
  }
  t_harness=$(time_it "$harness_cmd")
  t_source=$(time_it "$source_cmd")
fi

python3 - "$SESSIONS" "$CONCURRENCY" "$t_harness" "$t_source" <<'EOF'
import sys
n, c, th, ts = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
print(f"sessions={n} concurrency={c} (median wall time)")
print(f"smtp-harness run: {th:.3f} s  {n / th:8.0f} sessions/s")
print(f"smtp-source:      {ts:.3f} s  {n / ts:8.0f} sessions/s")
print(f"ratio harness/smtp-source: {(n / th) / (n / ts):.2f}")
EOF

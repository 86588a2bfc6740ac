#!/usr/bin/env bash
# What `smtp-harness record` costs: Postfix's smtp-source against Postfix's
# smtp-sink directly, and through record (writing every session file), in
# alternating rounds; prints each round's message rates and the ratio
# through-record / direct of their medians. Goal (issue 12): >= 0.90.
#
#   bench/record_overhead.sh [BUILD_DIR] [MESSAGES] [SESSIONS] [ROUNDS]
#   defaults:                 build/default 2000    20         5
#
# smtp-source -s SESSIONS -m MESSAGES: SESSIONS connections at a time, one
# message per connection (greeting, HELO, MAIL, RCPT, DATA, QUIT), so every
# message is one recorded session file. Rates are MESSAGES / wall time.
# RECORD_OUT_ROOT (default /tmp): the file system the session files go to
# (e.g. /dev/shm for tmpfs).
# RECORD_PIN=1: smtp-source and smtp-sink share CPU 0 in both kinds of round
# and record has CPU 1 to itself (taskset): what the proxy costs when it has
# a core of its own, rather than CPU taken from the two ends.
set -euo pipefail

BUILD_DIR=${1:-build/default}
MESSAGES=${2:-2000}
SESSIONS=${3:-20}
ROUNDS=${4:-5}
BIN="$BUILD_DIR/app/smtp-harness"
ends=()
proxy=()
if [[ ${RECORD_PIN:-0} == 1 ]]; then
  ends=(taskset -c 0)
  proxy=(taskset -c 1)
fi
SINK=/usr/sbin/smtp-sink
SOURCE=/usr/sbin/smtp-source

for tool in "$BIN" "$SINK" "$SOURCE"; do
  [[ -x "$tool" ]] || { echo "record_overhead: missing $tool" >&2; exit 2; }
done

tmp=$(mktemp -d "${RECORD_OUT_ROOT:-/tmp}/record-bench.XXXXXX")
sink_pid=""
record_pid=""
cleanup() {
  [[ -n "$record_pid" ]] && kill "$record_pid" 2>/dev/null && wait "$record_pid" 2>/dev/null
  [[ -n "$sink_pid" ]] && kill "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_port() {
  for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null && return
    sleep 0.1
  done
  echo "record_overhead: nothing listens on $1" >&2
  exit 1
}

sink_port=$(free_port)
# smtp-sink: accept everything; -u is required when run as root; backlog 100.
"${ends[@]}" "$SINK" -u nobody "127.0.0.1:$sink_port" 100 &
sink_pid=$!
wait_port "$sink_port"

# record writes to a fresh directory each round (the files of one round are
# then counted and removed).
start_record() {
  rm -rf "$tmp/rec" "$tmp/port"
  "${proxy[@]}" "$BIN" record --listen 127.0.0.1:0 --port_file "$tmp/port" --upstream "127.0.0.1:$sink_port" \
    --out "$tmp/rec" --max_sessions 256 >"$tmp/record.log" &
  record_pid=$!
  for _ in $(seq 100); do [[ -s "$tmp/port" ]] && break; sleep 0.05; done
  record_port=$(cat "$tmp/port")
}
stop_record() {
  kill -INT "$record_pid"
  wait "$record_pid"
  record_pid=""
  local n
  n=$(find "$tmp/rec" -name 'session-*.json' | wc -l)
  # smtp-source's messages, plus nothing: every session must have a file.
  [[ "$n" -eq "$MESSAGES" ]] || { echo "record_overhead: $n files for $MESSAGES messages" >&2; exit 1; }
}

# Messages per second of one smtp-source run against PORT.
rate() {
  local t0 t1
  t0=$(date +%s.%N)
  "${ends[@]}" "$SOURCE" -s "$SESSIONS" -m "$MESSAGES" "127.0.0.1:$1"
  t1=$(date +%s.%N)
  python3 -c "print('%.0f' % ($MESSAGES / ($t1 - $t0)))"
}

echo "smtp-source -s $SESSIONS -m $MESSAGES, $ROUNDS alternating rounds, $(nproc) CPUs" \
  "${ends[*]:+(ends: ${ends[*]}, record: ${proxy[*]})}," \
  "session files under $(df --output=fstype "$tmp" | tail -1) $tmp"
direct=()
through=()
for r in $(seq "$ROUNDS"); do
  d=$(rate "$sink_port")
  start_record
  t=$(rate "$record_port")
  stop_record
  direct+=("$d")
  through+=("$t")
  echo "round $r: direct $d msg/s, through record $t msg/s"
done

python3 - "${direct[*]}" "${through[*]}" <<'EOF'
import statistics, sys
d = [float(x) for x in sys.argv[1].split()]
t = [float(x) for x in sys.argv[2].split()]
md, mt = statistics.median(d), statistics.median(t)
print("median: direct %.0f msg/s, through record %.0f msg/s, ratio %.3f (goal >= 0.90)"
      % (md, mt, mt / md))
EOF

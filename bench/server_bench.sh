#!/usr/bin/env bash
# Throughput of the embedded server (`smtp-harness serve`, discard sink) next
# to Postfix's smtp-sink, both driven by Postfix's smtp-source in the same
# run, on loopback; messages/s and the ratio embedded / smtp-sink.
#
#   bench/server_bench.sh [BUILD_DIR] [MESSAGES] [RUNS] [CONCURRENCIES]
#   defaults:              build/default 5000     5      "10 100"
#
# For each concurrency C: smtp-source -s C -m MESSAGES, one message per
# connection (greeting, HELO, MAIL, RCPT, DATA, QUIT; smtp-source does not
# pipeline), against each server; hyperfine --warmup 1 --runs RUNS; the
# median wall time gives messages/s. smtp-source exits non-zero (and
# hyperfine fails) on any reply other than the expected positive one, and
# the embedded server's own count of accepted messages is checked at the
# end against what was sent.
#
# Environment:
#   PREGREET_MS  embedded server's pre-greeting delay (early-talker check),
#                passed as --pregreet_delay_ms when the binary has that
#                flag (default 0; otherwise the server's default applies and
#                a warning says so: it then dominates per-session time);
#                "default": no flag, the server's own default (0 since the
#                pause became opt-in)
#   KEEPALIVE=1  smtp-source -d: all messages of a session over one
#                connection (amortises connection setup and the delay)
#   LENGTH       message payload octets (smtp-source -l; default 1000)
#   RCPT, FROM   envelope (default user@example.test, a local domain of the
#                embedded server's relay policy; smtp-sink takes anything)
#   TIMEOUT      bound on each smtp-source run in seconds (default 600)
#   OUT_DIR      keep hyperfine's JSON there (server_bench_cC.json)
# Needs /usr/sbin/smtp-source, /usr/sbin/smtp-sink (package postfix),
# hyperfine and python3. Ports are chosen at run time.
set -euo pipefail

BUILD_DIR=${1:-build/default}
MESSAGES=${2:-5000}
RUNS=${3:-5}
CONCURRENCIES=${4:-"10 100"}
PREGREET_MS=${PREGREET_MS:-0}
KEEPALIVE=${KEEPALIVE:-0}
LENGTH=${LENGTH:-1000}
RCPT=${RCPT:-user@example.test}
FROM=${FROM:-sender@example.test}
TIMEOUT=${TIMEOUT:-600}
BIN="$BUILD_DIR/app/smtp-harness"
SINK=/usr/sbin/smtp-sink
SOURCE=/usr/sbin/smtp-source

for tool in "$BIN" "$SINK" "$SOURCE"; do
  [[ -x "$tool" ]] || { echo "server_bench: missing $tool" >&2; exit 2; }
done
for tool in hyperfine python3 timeout; do
  command -v "$tool" >/dev/null || { echo "server_bench: missing $tool" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/server-bench.XXXXXX)
sink_pid=""
serve_pid=""
stop() {  # stop PID: SIGTERM, then wait at most 10 s
  local pid=$1
  [[ -n "$pid" ]] || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  stop "$serve_pid"
  stop "$sink_pid"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_banner() {  # wait until HOST:PORT sends its 220 greeting (at most 10 s)
  python3 - "$1" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
end = time.time() + 10
while time.time() < end:
    try:
        with socket.create_connection(("127.0.0.1", port), 1) as s:
            s.settimeout(5)
            if s.recv(512).startswith(b"220"):
                s.sendall(b"QUIT\r\n")
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.1)
sys.exit(1)
EOF
}

# Embedded server: strict profile, discard sink, ephemeral port. Every
# smtp-source session comes from 127.0.0.1, so the per-address connection
# limit (default 50) is off: concurrencies above it would get 421.
serve_args=(serve --listen 127.0.0.1:0 --port_file "$tmp/port" --sink discard
  --max_connections_per_ip=0)
serve_help=$("$BIN" serve --helpfull 2>&1 || true)  # --helpfull exits 1
if [[ $PREGREET_MS == default ]]; then
  pregreet="server default"
elif grep -q -- '--pregreet_delay_ms' <<<"$serve_help"; then
  serve_args+=("--pregreet_delay_ms=$PREGREET_MS")
  pregreet="${PREGREET_MS} ms"
else
  pregreet="server default (no --pregreet_delay_ms flag in this binary)"
  echo "server_bench: WARNING: $BIN has no --pregreet_delay_ms flag;" \
    "the embedded server greets after its default pre-greeting delay" >&2
fi
"$BIN" "${serve_args[@]}" >"$tmp/serve.out" 2>"$tmp/serve.err" &
serve_pid=$!
for _ in $(seq 100); do [[ -s "$tmp/port" ]] && break; sleep 0.1; done
[[ -s "$tmp/port" ]] || { cat "$tmp/serve.err" >&2; exit 1; }
serve_port=$(cat "$tmp/port")

# smtp-sink: accepts everything, discards it; -u is required as root;
# backlog 256 (at least the largest concurrency).
sink_port=$(free_port)
sink_user=()
[[ $(id -u) -eq 0 ]] && sink_user=(-u nobody)
"$SINK" "${sink_user[@]}" "127.0.0.1:$sink_port" 256 >"$tmp/sink.out" 2>&1 &
sink_pid=$!

wait_banner "$serve_port" || { echo "server_bench: embedded server silent" >&2; exit 1; }
wait_banner "$sink_port" || { echo "server_bench: smtp-sink silent" >&2; exit 1; }

src_opts="-f $FROM -t $RCPT -l $LENGTH"
[[ "$KEEPALIVE" == 1 ]] && src_opts="$src_opts -d"
sent=0  # messages sent to the embedded server (checked against its stats)

# Sanity: every message is accepted by both (smtp-source exits 1 otherwise).
for port in "$serve_port" "$sink_port"; do
  # shellcheck disable=SC2086  # src_opts is split on purpose
  timeout "$TIMEOUT" "$SOURCE" $src_opts -s 10 -m 20 "127.0.0.1:$port"
done
sent=$((sent + 20))

echo "# $(date -u +%FT%TZ) $(uname -m) $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# messages/run=$MESSAGES runs=$RUNS length=$LENGTH keepalive=$KEEPALIVE pregreet=$pregreet"
rows=()
for c in $CONCURRENCIES; do
  embedded="timeout $TIMEOUT $SOURCE $src_opts -s $c -m $MESSAGES 127.0.0.1:$serve_port"
  sink="timeout $TIMEOUT $SOURCE $src_opts -s $c -m $MESSAGES 127.0.0.1:$sink_port"
  hyperfine --warmup 1 --runs "$RUNS" --export-json "$tmp/c$c.json" \
    -n embedded "$embedded" -n smtp-sink "$sink" >&2
  sent=$((sent + (RUNS + 1) * MESSAGES))
  [[ -n "${OUT_DIR:-}" ]] && cp "$tmp/c$c.json" "$OUT_DIR/server_bench_c$c.json"
  rows+=("$c $tmp/c$c.json")
done

# Stop the embedded server and check its count of accepted messages.
kill "$serve_pid"
wait "$serve_pid" || true
serve_pid=""
accepted=$(sed -n 's/.*stopped after [0-9]* connections, \([0-9]*\) messages.*/\1/p' "$tmp/serve.out")
echo "# embedded server accepted ${accepted:-?} of $sent messages sent"

python3 - "$MESSAGES" "${rows[@]}" <<'EOF'
import json, sys
n = int(sys.argv[1])
print(f"{'sessions':>8}  {'embedded msg/s':>14}  {'smtp-sink msg/s':>15}  {'ratio':>5}"
      f"  {'embedded median s (min-max)':>27}  {'smtp-sink median s (min-max)':>28}")
for row in sys.argv[2:]:
    c, path = row.split(" ", 1)
    r = {x["command"]: x for x in json.load(open(path))["results"]}
    e, s = r["embedded"], r["smtp-sink"]
    fmt = lambda x: f"{x['median']:.3f} ({x['min']:.3f}-{x['max']:.3f})"
    print(f"{c:>8}  {n / e['median']:14.0f}  {n / s['median']:15.0f}"
          f"  {s['median'] / e['median']:5.2f}  {fmt(e):>27}  {fmt(s):>28}")
EOF
[[ "${accepted:-0}" == "$sent" ]] || { echo "server_bench: accepted != sent" >&2; exit 1; }

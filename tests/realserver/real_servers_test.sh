#!/usr/bin/env bash
# scripts/real-servers.sh's start logic (launch + wait_ready) against a fake
# server on a free loopback port, in a private state directory; needs no
# real server and no root.
#
# 1. A server whose process exec's late (its /proc cmdline is not yet the
#    server's when wait_ready first looks) is waited for, not taken for a
#    dead one. This was chasquid's "stopped after start all": the launched
#    child had not exec'd yet, pid_of's command-line check failed, and
#    wait_ready stopped a server that was starting.
# 2. A server that dies at once fails wait_ready quickly (not after the
#    whole wait), and stop_one leaves no process behind.
# 3. A running server that greets late once (busy) is not restarted by
#    start_one.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

tmp=$(mktemp -d)
cleanup() {
  [[ -n ${srv_pid:-} ]] && kill -KILL -- "-$srv_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
export SMTP_SERVERS_DIR=$tmp SMTP_SERVERS_WAIT=8
# shellcheck source=../../scripts/real-servers.sh
source "$ROOT/scripts/real-servers.sh"
set +e # the script's set -e: this test checks statuses itself

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The fake server: "fake" in the test's names, with a pattern that only the
# exec'd server's command line contains.
port_of() { echo "$PORT"; }
cmd_pattern() { echo "fake-srv"; }
mkdir -p "$STATE/fake"
# Greets every connection with 220, the first one only after argv[2] s.
SERVER='
import socket, sys, time
port, first_delay = int(sys.argv[1]), float(sys.argv[2])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(8); s.settimeout(1)
end = time.time() + 30
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    time.sleep(first_delay)
    first_delay = 0
    try:
        c.sendall(b"220 fake ready\r\n")
    except OSError:
        pass
    c.close()
'
fails=0
check() { # check WHAT COND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else
    echo "FAIL: $what"
    fails=$((fails + 1))
  fi
}

# 1. Late exec: for 0.6 s the launched process is a shell whose command line
# holds "fake$1", not "fake-srv".
# shellcheck disable=SC2016 # expanded by the inner bash
launch fake bash -c 'sleep 0.6; exec -a "fake$1" /usr/bin/python3 -c "$2" "$3" 0' _ -srv "$SERVER" "$PORT"
srv_pid=$(head -n 1 "$(pidfile_of fake)")
check "before the exec, pid_of does not see the server yet (the window exists)" \
  eval '! pid_of fake >/dev/null'
wait_ready fake 2>"$tmp/wait.err"
rc=$?
check "wait_ready waits for a server that exec's late (rc $rc: $(head -c 300 "$tmp/wait.err"))" \
  test "$rc" -eq 0
check "pid_of finds it once it runs" eval 'pid_of fake >/dev/null'
stop_one fake
# shellcheck disable=SC2016 # expanded by eval
check "stop_one stops it" eval '! kill -0 "$srv_pid" 2>/dev/null'
srv_pid=

# 2. A server that dies at once: wait_ready fails within a second or two,
# saying so, instead of waiting SMTP_SERVERS_WAIT (8 s).
launch fake bash -c 'exit 3'
start=$SECONDS
wait_ready fake 2>"$tmp/wait.err"
rc=$?
check "wait_ready fails for a dead server (rc $rc)" test "$rc" -eq 1
check "... within 3 s (took $((SECONDS - start)) s)" test $((SECONDS - start)) -le 3
check "... and says which server did not answer" grep -q "fake did not answer 220" "$tmp/wait.err"

# 3. A running server whose greeting comes late (later than greeting()'s 2 s
# read, on its first connection only: busy) is left running by start_one,
# not restarted under whoever is using it.
start_fake() { echo restarted >"$tmp/restarted"; }
# shellcheck disable=SC2016 # expanded by the inner bash
launch fake bash -c 'exec -a "fake$1" /usr/bin/python3 -c "$2" "$3" 2.5' _ -srv "$SERVER" "$PORT"
srv_pid=$(head -n 1 "$(pidfile_of fake)")
sleep 0.5
out=$(start_one fake 2>"$tmp/start.err")
check "start_one leaves a slow-greeting server running (said: $out $(head -c 300 "$tmp/start.err"))" \
  test "$out" == "fake=127.0.0.1:$PORT"
check "... without restarting it" test ! -e "$tmp/restarted"
check "... same process" test "$(head -n 1 "$(pidfile_of fake)")" == "$srv_pid"
stop_one fake
srv_pid=

if ((fails)); then
  echo "$fails check(s) failed"
  exit 1
fi
echo "OK"

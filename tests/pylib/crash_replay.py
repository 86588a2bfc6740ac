"""Replaying a crash finding against a fresh server, for fuzz/net's end-to-end
tests (fuzz/net/crash_cli_test.py, fuzz/net/afl_spawn_test.py): the finding
must reproduce outside the fuzzer, and the server must die of it. Standard
library only."""
import os
import signal
import subprocess

from checks import check
from loopback import free_port, wait_for_port


def replay_kills_server(harness, server, session, out, what, cwd=None):
    """Starts `server PORT` on a free loopback port, replays the finding's
    `session` (its session.json) against it with `harness replay --out out`,
    and checks that the replay shows no difference and that the server then
    dies of SIGABRT. `what` names the finding in the check lines. Every wait
    is bounded (10 s to listen, 60 s for the replay, 10 s for the death) and a
    server still alive at the end is killed."""
    port = free_port()
    proc = subprocess.Popen([server, str(port)], stderr=subprocess.DEVNULL, cwd=cwd)
    try:
        try:
            wait_for_port(port, proc, 10, os.path.basename(server))
        except RuntimeError as e:
            check(False, "a fresh server for %s listens: %s" % (what, e))
            return
        rr = subprocess.run([harness, "replay", session, "--target", "127.0.0.1:%d" % port,
                             "--out", out], capture_output=True, text=True, timeout=60)
        check(rr.returncode == 0, "%s replays with no difference (exit %d): %s"
              % (what, rr.returncode, rr.stdout[-500:] + rr.stderr[-500:]))
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        check(proc.returncode == -signal.SIGABRT,
              "the replayed %s kills the server (%s)" % (what, proc.returncode))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

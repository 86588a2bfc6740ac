"""Helpers of the `smtp-harness record` tests (app/record_cli_test.py,
tests/realserver/record_test.py): start the proxy on an ephemeral port and
read the session files it writes. Standard library only."""
import glob
import json
import os
import subprocess
import time


def start_with_port_file(cmd, port_file, timeout=10):
    """Starts `cmd` (which writes its bound port to `port_file`) and returns
    (process, port). RuntimeError when it exits first or takes too long."""
    if os.path.exists(port_file):
        os.unlink(port_file)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with %s: %s" % (cmd[1], proc.returncode,
                                                          proc.stderr.read()))
        if os.path.exists(port_file):
            with open(port_file) as f:
                return proc, int(f.read())
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("%s wrote no port file within %d s" % (cmd[1], timeout))


def start_record(binary, upstream, out_dir, *extra):
    """`smtp-harness record` on 127.0.0.1:0 in front of `upstream`."""
    port_file = out_dir.rstrip("/") + ".port"
    return start_with_port_file(
        [binary, "record", "--listen", "127.0.0.1:0", "--port_file", port_file, "--upstream",
         upstream, "--out", out_dir] + list(extra), port_file)


def sessions(out_dir):
    """The session files in `out_dir`, parsed, in name order."""
    result = []
    for path in sorted(glob.glob(os.path.join(out_dir, "session-*.json"))):
        with open(path) as f:
            result.append(json.load(f))
    return result


def kinds(session):
    """The entry kinds of a session, in order."""
    return [e["kind"] for e in session["entries"]]


def stop_record(proc, timeout=15):
    """SIGINT; returns (exit status, stdout, stderr)."""
    proc.send_signal(2)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err

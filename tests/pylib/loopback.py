"""Shared helpers of the Python end-to-end tests (harness/runner/run_cli_test.py,
tests/reference/suite_test.py, ...): servers on free loopback ports, the
results.json a run writes, and the transcript byte encoding. Standard library
only."""
import json
import os
import socket
import subprocess
import time


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout, name):
    """Waits until 127.0.0.1:port accepts connections; RuntimeError naming
    `name` when `proc` exits first or `timeout` seconds pass."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("%s exited with status %s" % (name, proc.returncode))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("%s did not listen on port %d within %d s" % (name, port, timeout))


def stop(proc, timeout):
    """SIGTERM, then SIGKILL when `proc` has not exited within `timeout` s."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def load_results(out_dir):
    """The results.json of a run's output directory."""
    with open(os.path.join(out_dir, "results.json")) as f:
        return json.load(f)


class Serve:
    """`smtp-harness serve` (binary `bin`) with extra flags on a free
    loopback port, for a `with` block."""

    def __init__(self, bin, *flags):
        self.bin = bin
        self.port = free_port()
        self.flags = flags

    def __enter__(self):
        self.proc = subprocess.Popen(
            [self.bin, "serve", "--listen", "127.0.0.1:%d" % self.port, *self.flags],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.proc, 15, "serve")
        return self

    def __exit__(self, *exc):
        stop(self.proc, 5)

"""Starting tests/hostile/hostile_server.py from a Python test: a context
manager that runs one mode on a kernel-chosen loopback port. Standard
library only."""
import os
import selectors
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from loopback import stop  # noqa: E402

SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile_server.py")
START_TIMEOUT_S = 15


class Hostile:
    """`hostile_server.py --mode MODE FLAGS...` for the duration of a
    with-block; `port` is where it listens."""

    def __init__(self, mode, *flags):
        self.argv = ["/usr/bin/python3", SERVER, "--mode", mode, *flags]
        self.port = None

    def __enter__(self):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=self.log)
        try:
            self.port = self._read_port()
        except RuntimeError:
            self.__exit__()
            raise
        return self

    def _read_port(self):
        """The port of the first stdout line, "PORT n", within START_TIMEOUT_S."""
        end = time.monotonic() + START_TIMEOUT_S
        line = b""
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n") and len(line) < 64:
                left = end - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise RuntimeError("%s: no PORT line within %d s"
                                       % (self.argv, START_TIMEOUT_S))
                byte = os.read(self.proc.stdout.fileno(), 1)
                if not byte:
                    self.log.seek(0)
                    raise RuntimeError("%s exited: %s" % (
                        self.argv, self.log.read().decode(errors="replace")[-2000:]))
                line += byte
        words = line.split()
        if len(words) != 2 or words[0] != b"PORT" or not words[1].isdigit():
            raise RuntimeError("%s: bad first line %r" % (self.argv, line))
        return int(words[1])

    def __exit__(self, *exc):
        stop(self.proc, 10)
        self.proc.stdout.close()
        self.log.close()
        return False

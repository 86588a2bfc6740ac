"""A swaks session under a loopback packet capture, for the tests that import
captures (harness/record/import_pcap_realserver_test.py) and compare them
with other views of the same traffic. Needs root (tcpdump on `lo`), tcpdump
and swaks (scripts/install-deps.sh). Standard library only."""
import os
import select
import socket
import subprocess
import time

from loopback import free_port

# swaks's transcript prefixes: what it sent / received in the clear, then
# the same inside TLS (~> / <~), and an error reply (<**).
_CLIENT, _SERVER, _SERVER_ERR = " -> ", "<-  ", "<** "


class SwaksRun:
    """What one captured swaks session did.

    returncode, output: swaks's exit status and its transcript (stdout+stderr).
    client_port: the local port swaks used (the capture filters on it).
    client_bytes / server_bytes: what swaks sent / read in the clear (before
    any TLS), rebuilt from its transcript lines (each line + CRLF).
    """

    def __init__(self, returncode, output, client_port):
        self.returncode = returncode
        self.output = output
        self.client_port = client_port
        client, server = [], []
        for line in output.splitlines():
            if line.startswith(_CLIENT):
                client.append(line[len(_CLIENT):])
            elif line.startswith(_SERVER) or line.startswith(_SERVER_ERR):
                server.append(line[len(_SERVER):])
        self.client_bytes = "".join(l + "\r\n" for l in client).encode()
        self.server_bytes = "".join(l + "\r\n" for l in server).encode()


def _wait_listening(proc, timeout):
    """Waits for tcpdump's "listening on" line on stderr (the capture is open)."""
    end = time.monotonic() + timeout
    seen = b""
    while time.monotonic() < end:
        ready, _, _ = select.select([proc.stderr], [], [], 0.2)
        if ready:
            chunk = os.read(proc.stderr.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
            if b"listening on" in seen:
                return
        if proc.poll() is not None:
            break
    proc.kill()
    proc.wait()
    raise RuntimeError("tcpdump did not start capturing: %s" % seen.decode(errors="replace"))


class Tcpdump:
    """tcpdump on `interface` writing `path`, for a `with` block: capturing
    when the block starts (its "listening on" line seen), flushed and
    stopped when it ends. `capture_filter` is a pcap filter; by default the
    packets of `port` ("tcp port PORT"). `snaplen` 0 keeps whole frames.

    The end is an event, not a pause: a UDP datagram to a port nobody
    listens on (MARKER_PORT, with a payload of its own) goes through the
    capture after the block's traffic, and tcpdump is stopped once the file
    holds it, so every packet before it is in the file (a fixed pause lost
    the last packets on a loaded machine). The datagram stays in the file:
    an import skips it as not TCP."""

    def __init__(self, path, port=None, snaplen=0, interface="lo", capture_filter=None):
        self.path = path
        self.marker_port = free_port()
        self.marker = b"capture-end-%08x" % int.from_bytes(os.urandom(4), "big")
        flt = "(%s) or (udp dst port %d)" % (capture_filter or "tcp port %d" % port,
                                             self.marker_port)
        # --immediate-mode: hand over each packet at once (else the kernel
        # buffers up to a second of them, and a stop before that loses them);
        # -U: write each packet at once; -Z root: keep the right to write
        # `path` (tcpdump drops to its own user otherwise).
        self.args = ["tcpdump", "-i", interface, "--immediate-mode", "-U", "-n", "-s",
                     str(snaplen), "-Z", "root", "-w", path, flt]

    def __enter__(self):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _wait_listening(self.proc, 10)
        return self

    def _holds_marker(self):
        try:
            with open(self.path, "rb") as f:
                return self.marker in f.read()
        except OSError:
            return False

    def __exit__(self, *exc):
        time.sleep(0.5)  # the peers' last FIN / ACK are sent
        # Then the marker, sent again every second in case one is dropped, until
        # the file holds it (at most 30 s).
        end = time.monotonic() + 30
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            while time.monotonic() < end:
                s.sendto(self.marker, ("127.0.0.1", self.marker_port))
                resend = time.monotonic() + 1
                while time.monotonic() < min(resend, end) and not self._holds_marker():
                    time.sleep(0.02)
                if self._holds_marker():
                    break
        # SIGTERM, not SIGINT: a process started in the background (as
        # ctest may be) inherits an ignored SIGINT. tcpdump flushes on either.
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stderr.close()


def swaks_captured(pcap_path, server_port, swaks_args=(), server_host="127.0.0.1",
                   capture_filter=None, interface="lo", timeout=60):
    """Runs `swaks --server HOST:PORT` from a free local port while tcpdump
    writes what crosses `interface` to `pcap_path`; returns a SwaksRun once
    the capture is complete.

    capture_filter: a pcap filter; by default the packets of swaks's own
    connection ("tcp port CLIENT_PORT"), so concurrent traffic to the same
    server stays out. Pass e.g. "tcp port 2525" to capture a proxy's
    upstream leg too. swaks_args: more swaks options (--to, --from, --tls...).
    """
    client_port = free_port()
    with Tcpdump(pcap_path, capture_filter=capture_filter or "tcp port %d" % client_port,
                 interface=interface):
        p = subprocess.run(["swaks", "--server", "%s:%d" % (server_host, server_port),
                            "--local-port", str(client_port), *swaks_args],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL, timeout=timeout)
    return SwaksRun(p.returncode, p.stdout.decode(errors="replace"), client_port)

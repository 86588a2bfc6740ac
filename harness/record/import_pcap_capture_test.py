#!/usr/bin/env python3
"""import-pcap on real loopback captures made here with tcpdump, against
`smtp-harness serve` (issue 25, items 6 and 7): connections that carry no
byte leave no file; a capture with no SMTP in it exits 2; a gzip'd capture
gets a hint; two captures of different link types (lo: Ethernet; a second
lo capture re-framed as Linux cooked, what `-i any` writes) merged into one
pcapng are read per interface. Needs root
and tcpdump (exit 77 otherwise).

Usage: import_pcap_capture_test.py SMTP_HARNESS SOURCE_DIR
"""
import gzip
import http.server
import os
import re
import shutil
import smtplib
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
from loopback import Serve, free_port  # noqa: E402
from pcap_capture import Tcpdump as Capture  # noqa: E402

CLI = sys.argv[1] if len(sys.argv) > 1 else "build/default/app/smtp-harness"
EMPTY = 200


def import_pcap(path, out, *flags):
    return subprocess.run([CLI, "import-pcap", path, "--out", out, *flags],
                          capture_output=True, text=True, timeout=120)


def empty_connections(port, n):
    for _ in range(n):
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
        time.sleep(0.002)  # a burst would make the capture drop packets


def smtp_session(port, helo):
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as c:
        c.ehlo(helo)
        c.noop()


def pcap_records(path):
    """(linktype, [(ts_us, frame, wire_len)]) of a classic little-endian
    microsecond pcap (what tcpdump writes here)."""
    with open(path, "rb") as f:
        data = f.read()
    magic, _, _, _, _, _, link = struct.unpack_from("<IHHiIII", data, 0)
    assert magic == 0xA1B2C3D4, hex(magic)
    out, at = [], 24
    while at + 16 <= len(data):
        sec, usec, caplen, wire = struct.unpack_from("<IIII", data, at)
        out.append((sec * 1_000_000 + usec, data[at + 16:at + 16 + caplen], wire))
        at += 16 + caplen
    return link, out


def as_linux_cooked(capture):
    """An Ethernet capture's records re-framed as Linux cooked capture v1
    (link type 113): a 16-octet SLL header in place of the 14-octet
    Ethernet header, the same IP packet after it."""
    link, records = capture
    assert link == 1, link
    out = []
    for ts, frame, wire in records:
        ethertype = frame[12:14]
        # packet type 0 (to us), ARPHRD_LOOPBACK 772, address length 6, address, protocol
        sll = struct.pack(">HHH", 0, 772, 6) + frame[0:6] + b"\0\0" + ethertype
        out.append((ts, sll + frame[14:], wire + 2))
    return 113, out


def pcapng_of(captures):
    """One pcapng: an interface per capture, packets merged by time."""
    def block(kind, body):
        n = 12 + len(body)
        return struct.pack("<II", kind, n) + body + struct.pack("<I", n)
    out = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    packets = []
    for i, (link, records) in enumerate(captures):
        out += block(1, struct.pack("<HHI", link, 0, 262144))
        packets += [(ts, i, frame, wire) for ts, frame, wire in records]
    for ts, i, frame, wire in sorted(packets, key=lambda p: p[0]):
        body = struct.pack("<IIIII", i, ts >> 32, ts & 0xFFFFFFFF, len(frame), wire) + frame
        body += b"\0" * (-len(frame) % 4)
        out += block(6, body)
    return out


class RealCaptures(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="pcap-capture-")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def test_empty_connections_leave_no_file_and_alone_are_no_smtp(self):
        # A pause before the greeting (serve greets at once by default), so
        # that a client that connects and closes at once carries no byte
        # either way, as in a SYN flood.
        with Serve(CLI, "--pregreet_delay_ms", "2000") as server:
            with Capture(self.path("empty.pcap"), server.port):
                empty_connections(server.port, EMPTY)
            with Capture(self.path("mixed.pcap"), server.port):
                empty_connections(server.port, EMPTY)
                smtp_session(server.port, "real.test")
                empty_connections(server.port, 10)
        p = import_pcap(self.path("empty.pcap"), self.path("out1"), "--port", str(server.port))
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("no SMTP session on TCP port", p.stderr)
        self.assertEqual(os.listdir(self.path("out1")), [])
        p = import_pcap(self.path("mixed.pcap"), self.path("out2"), "--port", str(server.port))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("1 SMTP session written", p.stdout)
        # Each empty connection is counted (a capture may still drop a few
        # packets, which can split a connection's count).
        empty = re.search(r"; (\d+) connections carried no byte \(no file\)", p.stdout)
        self.assertIsNotNone(empty, p.stdout)
        self.assertGreaterEqual(int(empty.group(1)), (EMPTY + 10) * 9 // 10, p.stdout)
        self.assertEqual(len(os.listdir(self.path("out2"))), 1)

    def test_http_on_an_smtp_port_is_not_smtp(self):
        port = free_port()
        httpd = http.server.HTTPServer(("127.0.0.1", port), http.server.SimpleHTTPRequestHandler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        try:
            with Capture(self.path("http.pcap"), port):
                with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                    s.sendall(b"HEAD / HTTP/1.0\r\n\r\n")
                    while s.recv(4096):
                        pass
        finally:
            httpd.shutdown()
            httpd.server_close()
        p = import_pcap(self.path("http.pcap"), self.path("out"), "--port", str(port))
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("1 carried something else than SMTP", p.stderr)

    def test_gzip_capture_gets_a_hint(self):
        with Serve(CLI) as server:
            with Capture(self.path("s.pcap"), server.port):
                smtp_session(server.port, "gz.test")
        with open(self.path("s.pcap"), "rb") as f, gzip.open(self.path("s.pcap.gz"), "wb") as g:
            g.write(f.read())
        p = import_pcap(self.path("s.pcap.gz"), self.path("out"), "--port", str(server.port))
        self.assertEqual(p.returncode, 2)
        self.assertIn("gzip-compressed: decompress it first", p.stderr)

    def test_two_link_types_in_one_pcapng(self):
        with Serve(CLI) as server:
            with Capture(self.path("lo.pcap"), server.port):
                smtp_session(server.port, "on-lo.test")
            # The second session is captured on lo too and re-framed as Linux
            # cooked (SLL) frames, what `tcpdump -i any` writes: a capture on
            # `any` itself loses packets at random here (7 to 15 of 15).
            with Capture(self.path("lo2.pcap"), server.port):
                smtp_session(server.port, "on-any.test")
        lo, any_ = pcap_records(self.path("lo.pcap")), as_linux_cooked(
            pcap_records(self.path("lo2.pcap")))
        self.assertNotEqual(lo[0], any_[0])  # Ethernet (1) and Linux cooked (113 / 276)
        with open(self.path("both.pcapng"), "wb") as f:
            f.write(pcapng_of([lo, any_]))
        p = import_pcap(self.path("both.pcapng"), self.path("out"), "--port", str(server.port))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("2 SMTP sessions written", p.stdout)
        helos = []
        for name in sorted(os.listdir(self.path("out"))):
            with open(os.path.join(self.path("out"), name)) as f:
                text = f.read()
            helos += [h for h in ("on-lo.test", "on-any.test") if h in text]
        self.assertEqual(sorted(helos), ["on-any.test", "on-lo.test"])


if __name__ == "__main__":
    if os.geteuid() != 0 or shutil.which("tcpdump") is None:
        print("SKIP: needs root and tcpdump")
        sys.exit(77)
    unittest.main(argv=sys.argv[:1], verbosity=2)

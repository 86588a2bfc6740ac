#!/usr/bin/python3
"""Damaged captures are not diffs: real tcpdump captures of sessions that
succeeded against `smtp-harness serve`, damaged three ways (a snapshot length
of 80 bytes, a capture started in the middle of a session, a data segment
removed from the file as a kernel drop would), imported with `import-pcap`
and replayed against the same server, exit 0, with the damaged sessions
reported as not replayable and never as differences. `convert` stops at the
same point and says so. Needs root (tcpdump on `lo`).

Usage: replay_capture_cli_test.py PATH/TO/smtp-harness SOURCE_DIR
"""
import glob
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
import loopback  # noqa: E402
from pcap_capture import Tcpdump  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/default/app/smtp-harness"


class Client:
    """A plain SMTP client that waits for each reply (each write is its own
    segment: TCP_NODELAY and a pause after it)."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.expect(220)

    def reply(self):
        lines = []
        end = time.monotonic() + 10
        while time.monotonic() < end:
            while b"\r\n" in self.buf:
                line, self.buf = self.buf.split(b"\r\n", 1)
                lines.append(line)
                if len(line) < 4 or line[3:4] != b"-":
                    return int(line[:3]), lines
            data = self.s.recv(65536)
            if not data:
                break
            self.buf += data
        raise AssertionError("no whole reply: %r" % lines)

    def expect(self, code):
        got, lines = self.reply()
        assert got == code, (code, lines)

    def cmd(self, line, code):
        self.s.sendall(line.encode() + b"\r\n")
        self.expect(code)

    def write(self, data):
        self.s.sendall(data)
        time.sleep(0.05)

    def close(self):
        self.s.close()


def begin(port):
    c = Client(port)
    c.cmd("EHLO client.test", 250)
    c.cmd("MAIL FROM:<a@client.test>", 250)
    return c


def finish(c, marker=b"MIDDLE"):
    """RCPT, DATA and a body in three segments, the second holding `marker`."""
    c.cmd("RCPT TO:<postmaster@localhost>", 250)
    c.cmd("DATA", 354)
    c.write(b"Subject: capture test\r\n\r\nfirst line of the body\r\n")
    c.write(b"a line with the " + marker + b" of the body\r\n")
    c.write(b"last line\r\n.\r\n")
    c.expect(250)
    c.cmd("QUIT", 221)
    c.close()


def drop_segment(src, dst, marker):
    """Copies the pcap `src` to `dst` without the one TCP segment whose
    payload holds `marker` (a packet the kernel dropped). Classic pcap,
    Ethernet (what tcpdump writes for `lo`)."""
    with open(src, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    assert magic in (0xa1b2c3d4, 0xa1b23c4d), hex(magic)
    assert struct.unpack("<I", data[20:24])[0] == 1, "not Ethernet"
    out, pos, dropped = bytearray(data[:24]), 24, 0
    while pos + 16 <= len(data):
        incl = struct.unpack("<I", data[pos + 8:pos + 12])[0]
        frame = data[pos + 16:pos + 16 + incl]
        ip = frame[14:]
        ihl = (ip[0] & 0x0f) * 4
        tcp = ip[ihl:]
        payload = tcp[(tcp[12] >> 4) * 4:]
        if marker in payload:
            dropped += 1
        else:
            out += data[pos:pos + 16 + incl]
        pos += 16 + incl
    assert dropped == 1, dropped
    with open(dst, "wb") as f:
        f.write(out)


class DamagedCaptures(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smtp-harness-replay-capture-")
        cls.serve = loopback.Serve(BIN, "--pregreet_delay_ms", "0")
        cls.serve.__enter__()
        cls.target = "127.0.0.1:%d" % cls.serve.port

    @classmethod
    def tearDownClass(cls):
        cls.serve.__exit__(None, None, None)
        cls.tmp.cleanup()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def run_cli(self, *args):
        p = subprocess.run([BIN, *args], capture_output=True, timeout=120)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def import_and_replay(self, pcap, name):
        """import-pcap, then replay against the same server; the sessions'
        results by id."""
        sessions = self.path(name + "-sessions")
        rc, out, err = self.run_cli("import-pcap", pcap, "--port", str(self.serve.port),
                                    "--out", sessions)
        self.assertEqual(rc, 0, out + err)
        replayed = self.path(name + "-replay")
        rc, out, err = self.run_cli("replay", sessions, "--target", self.target, "--timeout_ms",
                                    "3000", "--out", replayed)
        self.assertEqual(rc, 0, out + err)  # damage is not a difference
        self.assertIn("0 differ", out)
        results = loopback.load_results(replayed)
        return sessions, out, {s["id"]: s for s in results["scenarios"]}

    def convert(self, sessions, name):
        out_dir = self.path(name + "-scenarios")
        rc, out, err = self.run_cli("convert", sessions, "--to", "scenario", "--out", out_dir)
        self.assertEqual(rc, 0, out + err)
        scenarios = []
        for f in glob.glob(os.path.join(out_dir, "*.json")):
            with open(f) as fh:
                scenarios.append(json.load(fh))
        return out, scenarios

    def test_snaplen_80(self):
        pcap = self.path("snaplen.pcap")
        with Tcpdump(pcap, self.serve.port, snaplen=80):
            for _ in range(2):
                finish(begin(self.serve.port))
        sessions, out, results = self.import_and_replay(pcap, "snaplen")
        self.assertEqual(len(results), 2, out)
        for r in results.values():
            self.assertEqual(r["verdict"], "skip", r["reason"])
            self.assertTrue(r["reason"].startswith("not replayable: capture gap:"), r["reason"])
            self.assertIn("snapshot length", r["reason"])
        self.assertIn("2 not replayable: capture gap", out)
        # convert writes nothing from bytes the capture cut.
        out, scenarios = self.convert(sessions, "snaplen")
        self.assertEqual(scenarios, [], out)
        self.assertIn("skipped: nothing to convert: not replayable: capture gap", out)

    def test_capture_started_mid_session(self):
        pcap = self.path("midstream.pcap")
        first = begin(self.serve.port)  # greeting, EHLO, MAIL before the capture
        with Tcpdump(pcap, self.serve.port):
            finish(first)
            finish(begin(self.serve.port))  # a whole session too
        sessions, out, results = self.import_and_replay(pcap, "midstream")
        self.assertEqual(sorted(r["verdict"] for r in results.values()), ["pass", "skip"], out)
        for r in results.values():
            if r["verdict"] == "skip":
                self.assertTrue(r["reason"].startswith("not replayable: capture started mid-stream"),
                                r["reason"])
                # Nothing was sent: no 250 was taken for a greeting.
                self.assertEqual([e for e in r["transcript"]["entries"] if e["kind"] == "c2s"], [])
        self.assertIn("1 the same", out)
        self.assertIn("1 not replayable: capture started mid-stream", out)
        out, scenarios = self.convert(sessions, "midstream")
        self.assertEqual(len(scenarios), 1, out)
        self.assertIn("nothing to convert: not replayable: capture started mid-stream", out)
        self.assertEqual(scenarios[0]["steps"][1], {"expect": 220})

    def test_dropped_data_segment(self):
        whole = self.path("whole.pcap")
        with Tcpdump(whole, self.serve.port):
            finish(begin(self.serve.port))
        pcap = self.path("dropped.pcap")
        drop_segment(whole, pcap, b"MIDDLE")
        sessions, out, results = self.import_and_replay(pcap, "dropped")
        self.assertEqual(len(results), 1, out)
        r = list(results.values())[0]
        self.assertEqual(r["verdict"], "skip", r["reason"])
        self.assertTrue(r["reason"].startswith("not replayable: capture gap:"), r["reason"])
        self.assertIn("from the client lost", r["reason"])
        # Replayed up to the DATA command and its 354, the same; nothing after.
        rows = r["replay"]["rows"]
        self.assertEqual([row["differs"] for row in rows], [""] * len(rows))
        self.assertTrue(rows[-1]["recorded"].startswith("354"), rows[-1])
        sent = "".join(e["data"] for e in r["transcript"]["entries"] if e["kind"] == "c2s")
        self.assertNotIn("first line of the body", sent)
        self.assertNotIn("QUIT", sent)
        self.assertIn("1 not replayable: capture gap", out)
        # convert stops at the same point and says so.
        out, scenarios = self.convert(sessions, "dropped")
        self.assertEqual(len(scenarios), 1, out)
        sc = scenarios[0]
        self.assertIn("the record is damaged: capture gap", sc["description"])
        self.assertEqual(sc["steps"][-1], {"expect": 354})
        # ... and the converted scenario passes against the same server.
        rc, out, err = self.run_cli("run", "--suite", self.path("dropped-scenarios"), "--target",
                                    self.target, "--out", self.path("dropped-run"))
        self.assertEqual(rc, 0, out + err)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)

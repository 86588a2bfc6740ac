#!/usr/bin/env python3
"""CLI tests of `smtp-harness import-pcap` on captures written here by hand:
a session file per connection, named by start order and endpoints; usage
errors, garbage, truncated, malformed and non-SMTP captures exit 2 with a
clear message, and what came before a bad packet is still written.

Usage: import_pcap_cli_test.py SMTP_HARNESS SOURCE_DIR
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import unittest

CLI = sys.argv[1] if len(sys.argv) > 1 else "smtp-harness"


def ip4(text):
    return bytes(int(x) for x in text.split("."))


def tcp_packet(src, sport, dst, dport, seq, ack, flags, payload=b""):
    """Ethernet + IPv4 + TCP (checksums zero: import-pcap does not check them)."""
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0, ip4(src),
                     ip4(dst))
    eth = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
    return eth + ip + tcp


SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01


def session(client, cport, server, sport, turns, t0=1_700_000_000.0):
    """The frames of one connection: handshake, `turns` ((is_client, bytes)),
    FINs. Returns [(ts, frame)]."""
    cseq, sseq, t = 1000, 5000, t0
    out = []

    def add(from_client, flags, payload=b""):
        nonlocal t
        if from_client:
            out.append((t, tcp_packet(client, cport, server, sport, cseq, sseq, flags, payload)))
        else:
            out.append((t, tcp_packet(server, sport, client, cport, sseq, cseq, flags, payload)))
        t += 0.001

    add(True, SYN)
    cseq += 1
    add(False, SYN | ACK)
    sseq += 1
    add(True, ACK)
    for from_client, data in turns:
        add(from_client, ACK | PSH, data)
        if from_client:
            cseq += len(data)
        else:
            sseq += len(data)
    add(True, FIN | ACK)
    cseq += 1
    add(False, FIN | ACK)
    sseq += 1
    add(True, ACK)
    return out


def pcap(frames, linktype=1):
    data = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype)
    for ts, frame in frames:
        sec = int(ts)
        usec = int(round((ts - sec) * 1e6))
        data += struct.pack("<IIII", sec, usec, len(frame), len(frame)) + frame
    return data


TURNS = [(False, b"220 mx ESMTP\r\n"), (True, b"EHLO a.example\r\n"),
         (False, b"250 mx\r\n"), (True, b"QUIT\r\n"), (False, b"221 bye\r\n")]


class ImportPcap(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def run_cli(self, *args):
        p = subprocess.run([CLI, "import-pcap", *args], capture_output=True, timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def sessions(self, out):
        return sorted(os.listdir(out)) if os.path.isdir(out) else []

    def test_one_file_per_connection_in_start_order(self):
        frames = session("10.0.0.1", 40000, "10.0.0.2", 25, TURNS)
        frames += session("10.0.0.3", 40001, "10.0.0.2", 587, TURNS[:2], t0=1_700_000_001.0)
        path = self.write("two.pcap", pcap(frames))
        out = os.path.join(self.dir, "out")
        rc, stdout, err = self.run_cli(path, "--out", out)
        self.assertEqual(rc, 0, err)
        self.assertIn("import-pcap: 19 packets, 2 SMTP sessions written to " + out, stdout)
        self.assertEqual(self.sessions(out), ["000001-10.0.0.1_40000-10.0.0.2_25.json",
                                              "000002-10.0.0.3_40001-10.0.0.2_587.json"])
        with open(os.path.join(out, "000001-10.0.0.1_40000-10.0.0.2_25.json")) as f:
            s = json.load(f)
        self.assertEqual(s["meta"]["source"], "pcap")
        self.assertEqual(s["meta"]["client"], "10.0.0.1:40000")
        self.assertEqual(s["meta"]["server"], "10.0.0.2:25")
        self.assertEqual(s["meta"]["started_at"], "2023-11-14T22:13:20.000000Z")
        kinds = [e["kind"] for e in s["entries"]]
        self.assertEqual(kinds, ["connect", "s2c", "c2s", "s2c", "c2s", "s2c", "local_close",
                                 "peer_close"])
        self.assertEqual([e.get("data") for e in s["entries"] if e["kind"] == "c2s"],
                         ["EHLO a.example\\r\\n", "QUIT\\r\\n"])

    def test_auth_secrets_are_redacted_unless_kept(self):
        plain = b"AGFsaWNlAHMzY3JldA=="  # \0alice\0s3cret
        turns = TURNS[:3] + [(True, b"AUTH PLAIN " + plain + b"\r\n"),
                             (False, b"235 2.7.0 ok\r\n")] + TURNS[3:]
        path = self.write("auth.pcap", pcap(session("10.0.0.1", 40000, "10.0.0.2", 587, turns)))
        name = "000001-10.0.0.1_40000-10.0.0.2_587.json"
        for extra, redacted in (([], True), (["--keep_secrets"], False)):
            out = os.path.join(self.dir, "out-%d" % len(extra))
            rc, stdout, err = self.run_cli(path, "--out", out, *extra)
            self.assertEqual(rc, 0, err)
            self.assertEqual("AUTH secrets redacted in 1" in stdout, redacted, stdout)
            with open(os.path.join(out, name), "rb") as f:
                text = f.read()
            self.assertEqual(plain in text, not redacted, extra)
            if redacted:
                c2s = [e["data"] for e in json.loads(text)["entries"] if e["kind"] == "c2s"]
                self.assertIn("AUTH PLAIN ***\\r\\n", c2s)

    def test_port_selects_the_connections(self):
        path = self.write("s.pcap", pcap(session("10.0.0.1", 40000, "10.0.0.2", 2526, TURNS)))
        out = os.path.join(self.dir, "out")
        rc, _, err = self.run_cli(path, "--out", out)
        self.assertEqual(rc, 2)
        self.assertIn("no SMTP session on TCP port 25,465,587,2525 in 11 packets", err)
        rc, _, err = self.run_cli(path, "--out", out, "--port", "2526,2527")
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(self.sessions(out)), 1)

    def test_garbage_and_missing_files(self):
        out = os.path.join(self.dir, "out")
        for data in (b"", b"not a capture\n" * 10, os.urandom(4096)):
            path = self.write("garbage", data)
            rc, _, err = self.run_cli(path, "--out", out)
            self.assertEqual(rc, 2, data[:20])
            self.assertIn("garbage: cannot read as a pcap or pcapng capture", err)
            self.assertNotIn("Traceback", err)
        rc, _, err = self.run_cli(os.path.join(self.dir, "nope.pcap"), "--out", out)
        self.assertEqual(rc, 2)
        self.assertIn("nope.pcap: cannot read", err)

    def test_truncated_capture_keeps_what_came_before(self):
        frames = session("10.0.0.1", 40000, "10.0.0.2", 25, TURNS)
        frames += session("10.0.0.3", 40001, "10.0.0.2", 25, TURNS, t0=1_700_000_001.0)
        data = pcap(frames)
        cut = len(data) - 30  # inside the 22nd and last packet
        path = self.write("cut.pcap", data[:cut])
        out = os.path.join(self.dir, "out")
        rc, stdout, err = self.run_cli(path, "--out", out)
        self.assertEqual(rc, 2)
        offset = len(data) - 16 - len(frames[-1][1])
        self.assertIn("cut.pcap: packet 22 (byte offset %d): truncated dump file" % offset, err)
        self.assertIn("2 SMTP sessions written", stdout)
        self.assertIn("recovered before the error", stdout)
        self.assertEqual(len(self.sessions(out)), 2)

    def test_malformed_packet(self):
        frames = session("10.0.0.1", 40000, "10.0.0.2", 25, TURNS)
        bad = bytearray(frames[5][1])
        bad[16:18] = struct.pack("!H", 10)  # IPv4 total length 10 < its 20-byte header
        frames[5] = (frames[5][0], bytes(bad))
        path = self.write("bad.pcap", pcap(frames))
        rc, _, err = self.run_cli(path, "--out", os.path.join(self.dir, "out"))
        self.assertEqual(rc, 2)
        self.assertRegex(err, r"bad\.pcap: packet 6 \(byte offset \d+\): IPv4 total length "
                              r"shorter than its header \(at byte 16 of the frame\)")

    def test_unsupported_link_type(self):
        path = self.write("wifi.pcap", pcap([], linktype=105))
        rc, _, err = self.run_cli(path, "--out", os.path.join(self.dir, "out"))
        self.assertEqual(rc, 2)
        self.assertIn("link type IEEE802_11 (105) is not supported", err)

    def test_usage_errors(self):
        path = self.write("s.pcap", pcap(session("10.0.0.1", 40000, "10.0.0.2", 25, TURNS)))
        out = os.path.join(self.dir, "out")
        for args, message in (([path], "--out DIR is required"),
                              ([], "usage: import-pcap FILE"),
                              ([path, path, "--out", out], "usage: import-pcap FILE"),
                              ([path, "--out", out, "--port", "25,x"], "--port: '25,x' is not"),
                              ([path, "--out", out, "--port", "70000"], "--port: '70000' is not"),
                              ([path, "--out", out, "--jobs", "2"], "--jobs is a flag of")):
            rc, _, err = self.run_cli(*args)
            self.assertEqual(rc, 2, args)
            self.assertIn(message, err, args)
        self.assertEqual(self.sessions(out), [])

    def test_help(self):
        p = subprocess.run([CLI, "import-pcap", "--help"], capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0)
        text = p.stdout.decode()
        self.assertIn("usage: smtp-harness import-pcap FILE --out DIR", text)
        self.assertIn("--port=PORT", text)
        self.assertIn("--out=OUT", text)
        self.assertIn("--keep_secrets", text)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)

#!/usr/bin/env python3
"""A real capture: tcpdump on loopback while swaks talks to Postfix, then
`smtp-harness import-pcap`. The one imported session holds exactly the
bytes swaks sent and the replies Postfix gave (swaks's own transcript is the
reference); with --tls the session stops at a tls_opaque mark after
Postfix's 220. Needs root, tcpdump, swaks and Postfix on PORT
(scripts/real-servers.sh start postfix; ctest label realserver).

Usage: import_pcap_realserver_test.py SMTP_HARNESS SOURCE_DIR PORT
"""
import json
import os
import sys
import subprocess
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
from pcap_capture import swaks_captured  # noqa: E402
from transcript_bytes import side_bytes  # noqa: E402

CLI = sys.argv[1] if len(sys.argv) > 1 else "build/default/app/smtp-harness"
PORT = int(sys.argv[3]) if len(sys.argv) > 3 else 2525
SWAKS = ["--to", "postmaster@localhost", "--from", "sender@example.test",
         "--helo", "client.example.test"]


class RealCapture(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.pcap = os.path.join(self.tmp.name, "lo.pcap")
        self.out = os.path.join(self.tmp.name, "sessions")

    def tearDown(self):
        self.tmp.cleanup()

    def import_one(self, run):
        p = subprocess.run([CLI, "import-pcap", self.pcap, "--out", self.out, "--port", str(PORT)],
                           capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        files = sorted(os.listdir(self.out))
        self.assertEqual(len(files), 1, files)
        self.assertTrue(files[0].startswith("000001-127.0.0.1_%d-127.0.0.1_%d" %
                                            (run.client_port, PORT)), files)
        with open(os.path.join(self.out, files[0])) as f:
            return json.load(f)

    def test_plain_session_is_exactly_what_swaks_saw(self):
        run = swaks_captured(self.pcap, PORT, SWAKS)
        self.assertEqual(run.returncode, 0, run.output)
        s = self.import_one(run)
        self.assertEqual(s["meta"]["source"], "pcap")
        self.assertEqual(s["meta"]["client"], "127.0.0.1:%d" % run.client_port)
        self.assertEqual(s["meta"]["server"], "127.0.0.1:%d" % PORT)
        self.assertEqual(side_bytes(s, "c2s"), run.client_bytes)
        self.assertEqual(side_bytes(s, "s2c"), run.server_bytes)
        self.assertIn(b"MAIL FROM:<sender@example.test>\r\n", run.client_bytes)
        self.assertRegex(run.server_bytes, rb"250 2\.0\.0 Ok: queued as \w+\r\n")
        kinds = [e["kind"] for e in s["entries"]]
        self.assertEqual(kinds[0], "connect")
        self.assertIn("local_close", kinds)
        self.assertIn("peer_close", kinds)
        self.assertNotIn("error", kinds)
        self.assertNotIn("note", kinds)

    def test_starttls_session_stops_at_the_switch(self):
        run = swaks_captured(self.pcap, PORT, SWAKS + ["--tls"])
        self.assertEqual(run.returncode, 0, run.output)
        self.assertIn("TLS started", run.output)
        s = self.import_one(run)
        # swaks's " -> " / "<-  " lines are the clear part; "~>" lines are inside TLS.
        self.assertEqual(side_bytes(s, "c2s"), run.client_bytes)
        self.assertEqual(side_bytes(s, "s2c"), run.server_bytes)
        self.assertTrue(run.client_bytes.endswith(b"STARTTLS\r\n"))
        kinds = [e["kind"] for e in s["entries"]]
        self.assertEqual(kinds.count("tls_opaque"), 1)
        after = kinds[kinds.index("tls_opaque") + 1:]
        self.assertNotIn("c2s", after)
        self.assertNotIn("s2c", after)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)

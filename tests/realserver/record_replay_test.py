#!/usr/bin/env python3
"""Record -> import-pcap -> replay -> convert with real peers (issue 12):

- swaks sends through `smtp-harness record` to Postfix (plain, pipelined and
  STARTTLS sessions) while tcpdump captures the client's leg; `import-pcap`
  of that capture gives the same bytes, both sides, as the recording;
- replaying the recordings against Postfix, the server they were recorded
  from, gives no difference; against aiosmtpd it gives the expected ones
  (Postfix's enhanced codes are missing there), and none at the code level;
- a recording converted to a scenario passes against Postfix.

Needs root (tcpdump on lo), tcpdump, swaks, Postfix on 127.0.0.1:2525 and
aiosmtpd on 127.0.0.1:2526 (scripts/real-servers.sh; ctest label realserver).

Usage: record_replay_test.py SMTP_HARNESS
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import recording  # noqa: E402
from pcap_capture import swaks_captured  # noqa: E402
from transcript_bytes import side_bytes  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/default/app/smtp-harness"
POSTFIX, AIOSMTPD = "127.0.0.1:2525", "127.0.0.1:2526"
SWAKS = ["--from", "probe@client.example.org", "--to", "user@example.test",
         "--helo", "client.example.org", "--timeout", "20"]


class RecordReplay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smtp-harness-record-replay-")
        cls.rec = os.path.join(cls.tmp.name, "rec")
        cls.pcap = os.path.join(cls.tmp.name, "client-leg.pcap")
        proc, cls.port = recording.start_record(BIN, POSTFIX, cls.rec)
        try:
            # 1: plain, its client leg captured; 2: pipelined; 3: STARTTLS (blind).
            cls.captured = swaks_captured(cls.pcap, cls.port, SWAKS)
            for extra in (["--pipeline"], ["-tls"]):
                p = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % cls.port, *SWAKS, *extra],
                                   capture_output=True, text=True, timeout=60)
                assert p.returncode == 0, p.stdout[-800:]
        finally:
            cls.status, cls.live, cls.errors = recording.stop_record(proc)
        cls.sessions = recording.sessions(cls.rec)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def cli(self, *args):
        p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=300)
        return p.returncode, p.stdout, p.stderr

    def test_recorded_three_sessions(self):
        self.assertEqual(self.status, 0, self.errors)
        self.assertEqual(self.captured.returncode, 0, self.captured.output)
        self.assertEqual(len(self.sessions), 3, self.live)
        kinds = [[e["kind"] for e in s["entries"]] for s in self.sessions]
        self.assertNotIn("tls_opaque", kinds[0])
        self.assertIn("tls_opaque", kinds[2])
        self.assertIn(b"PIPELINING", side_bytes(self.sessions[1], "s2c"))

    def test_the_capture_equals_the_recording(self):
        out = os.path.join(self.tmp.name, "pcap")
        rc, _, err = self.cli("import-pcap", self.pcap, "--port", str(self.port), "--out", out)
        self.assertEqual(rc, 0, err)
        files = sorted(os.listdir(out))
        self.assertEqual(len(files), 1, files)
        with open(os.path.join(out, files[0])) as f:
            imported = json.load(f)
        recorded = self.sessions[0]
        self.assertEqual(imported["meta"]["source"], "pcap")
        self.assertEqual(recorded["meta"]["source"], "recorded")
        self.assertEqual(imported["meta"]["client"], recorded["meta"]["client"])
        for kind in ("c2s", "s2c"):
            self.assertEqual(side_bytes(imported, kind), side_bytes(recorded, kind), kind)
            self.assertEqual(imported["bytes"][kind], recorded["bytes"][kind], kind)
        self.assertEqual(side_bytes(recorded, "c2s"), self.captured.client_bytes)

    def test_replay_against_the_same_server_gives_no_difference(self):
        out = os.path.join(self.tmp.name, "same")
        rc, stdout, err = self.cli("replay", self.rec, "--target", POSTFIX, "--out", out)
        self.assertEqual(rc, 0, stdout + err)
        with open(os.path.join(out, "results.json")) as f:
            r = json.load(f)
        self.assertEqual([s["verdict"] for s in r["scenarios"]], ["pass"] * 3)
        for s in r["scenarios"]:
            self.assertEqual(s["replay"]["differences"], 0)
            self.assertGreaterEqual(len(s["replay"]["rows"]), 3)  # greeting, EHLO, STARTTLS at least
        # The blind STARTTLS session was compared up to its upgrade.
        self.assertIn("tls_opaque", r["scenarios"][2]["reason"])

    def test_replay_against_another_server_gives_the_expected_differences(self):
        out = os.path.join(self.tmp.name, "other")
        rc, stdout, err = self.cli("replay", self.rec, "--target", AIOSMTPD, "--out", out)
        self.assertEqual(rc, 1, stdout + err)
        with open(os.path.join(out, "results.json")) as f:
            r = json.load(f)
        plain = r["scenarios"][0]
        self.assertEqual(plain["verdict"], "fail")
        rows = plain["replay"]["rows"]
        # The greeting and EHLO reply differ in text only (ignored at the enhanced level).
        self.assertEqual(rows[0]["differs"], "text", rows[0])
        first = [row for row in rows if row["differs"] in ("code", "enhanced")][0]
        # Postfix: "250 2.1.0 Ok"; aiosmtpd: "250 OK" (no enhanced code).
        self.assertTrue(first["sent"].startswith("MAIL FROM:"), first)
        self.assertEqual(first["differs"], "enhanced", first)
        self.assertIn("250 2.1.0", first["recorded"])
        self.assertIn("DIFF", stdout)
        # The same codes: nothing differs at the code level.
        rc, stdout, err = self.cli("replay", self.rec, "--target", AIOSMTPD, "--compare", "code",
                                   "--out", os.path.join(self.tmp.name, "other-code"))
        self.assertEqual(rc, 0, stdout + err)

    def test_a_converted_recording_passes_against_its_server(self):
        out = os.path.join(self.tmp.name, "converted")
        rc, stdout, err = self.cli("convert", self.rec, "--to", "scenario", "--out", out)
        self.assertEqual(rc, 0, stdout + err)
        self.assertEqual(len([f for f in os.listdir(out) if f.endswith(".json")]), 3, stdout)
        run = os.path.join(self.tmp.name, "converted-run")
        rc, stdout, err = self.cli("run", "--target", POSTFIX, "--suite", out, "--to",
                                   "user@example.test", "--fail_on", "policy", "--out", run)
        self.assertEqual(rc, 0, stdout + err)
        with open(os.path.join(run, "results.json")) as f:
            r = json.load(f)
        self.assertEqual([s["verdict"] for s in r["scenarios"]], ["pass"] * 3, stdout)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)

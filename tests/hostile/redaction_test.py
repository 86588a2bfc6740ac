#!/usr/bin/python3
"""Secrets stay out of the reports when the server echoes them in pieces.

`hostile_server.py --mode split-echo` answers AUTH with "535 5.7.8 bad
credentials: AUTH PLAIN <blob>", written --split N bytes at a time, so the
harness records the echo as many small transcript chunks. Redaction has to
work on each direction's reassembled stream: no report file may contain the
password or the base64 AUTH PLAIN blob, and neither may the server->client
transcript data of the scenario once its chunks are joined again.

Usage: redaction_test.py PATH/TO/smtp-harness SOURCE_DIR [unittest args]
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pylib"))
sys.path.insert(0, HERE)
from hostile import Hostile  # noqa: E402
from loopback import load_results  # noqa: E402
from transcript_bytes import unescape_bytes  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/default/app/smtp-harness"
SRC = sys.argv[2] if len(sys.argv) > 2 else "."
RUN_TIMEOUT_S = 120
# AUTH PLAIN with the profile's credentials, plaintext when STARTTLS is not
# offered (it includes starttls-if-offered), `requires` AUTH.
SCENARIO = "ext.auth.valid-credentials-235"
USER = "alice"
PASSWORD = "e2e-Hunter2-pw"
BLOB = base64.b64encode(b"\0" + USER.encode() + b"\0" + PASSWORD.encode()).decode()
SECRETS = [PASSWORD, BLOB, BLOB.rstrip("=")]
# Far enough apart that the pieces arrive as separate reads even on a busy
# machine (the test checks they did).
SPLIT_DELAY_MS = "20"
REPORTS = ("results.json", "index.html", "junit.xml")


def run_against(port, out):
    fd, profile = tempfile.mkstemp(prefix="redaction-profile-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump({"host": "127.0.0.1", "port": port, "user": USER, "password": PASSWORD}, f)
    try:
        return subprocess.run(
            [BIN, "run", "--suite", os.path.join(SRC, "scenarios"),
             "--target", "127.0.0.1:%d" % port, "--profile", profile,
             "--filter", SCENARIO, "--out", out],
            capture_output=True, timeout=RUN_TIMEOUT_S)
    finally:
        os.unlink(profile)


class SplitEchoRedaction(unittest.TestCase):
    def check(self, split):
        out = tempfile.mkdtemp(prefix="redaction-run-")
        with Hostile("split-echo", "--split", str(split),
                     "--split_delay_ms", SPLIT_DELAY_MS) as server:
            p = run_against(server.port, out)
        log = (p.stdout + p.stderr).decode(errors="replace")
        results = load_results(out)

        # The scenario ran (not skipped): AUTH was offered, the server
        # refused the credentials with the echo.
        self.assertEqual([s["id"] for s in results["scenarios"]], [SCENARIO], log)
        scenario = results["scenarios"][0]
        self.assertEqual(scenario["verdict"], "fail", log)
        self.assertIn("535 \"5.7.8 bad credentials: AUTH PLAIN ***\"", scenario["reason"])

        entries = scenario["transcript"]["entries"]
        auth = [i for i, e in enumerate(entries)
                if e["kind"] == "c2s" and e["data"].startswith("AUTH PLAIN")]
        self.assertEqual(len(auth), 1, entries)
        self.assertEqual(entries[auth[0]]["data"], "AUTH PLAIN ***\\r\\n")
        # The echo came in pieces: this is the case under test.
        echo = [e for e in entries[auth[0] + 1:] if e["kind"] == "s2c"]
        self.assertGreater(len(echo), 1, echo)

        for kind in ("s2c", "c2s"):
            joined = b"".join(unescape_bytes(e["data"]) for e in entries
                              if e["kind"] == kind).decode("latin-1")
            for secret in SECRETS:
                self.assertNotIn(secret, joined, kind)
        s2c = b"".join(unescape_bytes(e["data"]) for e in entries
                       if e["kind"] == "s2c").decode("latin-1")
        self.assertIn("535 5.7.8 bad credentials: AUTH PLAIN ***\r\n", s2c)

        for name in REPORTS:
            with open(os.path.join(out, name), encoding="utf-8", errors="replace") as f:
                text = f.read()
            for secret in SECRETS:
                self.assertNotIn(secret, text, name)

    def test_split_1(self):
        self.check(1)

    def test_split_2(self):
        self.check(2)

    def test_split_3(self):
        self.check(3)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], *sys.argv[3:]])

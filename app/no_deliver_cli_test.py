#!/usr/bin/env python3
"""run's delivery warning and --no_deliver (issue 23, item 5), against
`serve` with a JSONL sink (a target that is not the embedded server, whose
accepted messages can be counted).

- Before a run against a target that is not the embedded server, stderr says
  how many messages the run may deliver and to whom, counted from the loaded
  scenarios (a transaction: 1; a second-message smuggling probe: 2, its
  smuggled one included; times --repeat); the embedded server gets no
  warning.
- --no_deliver: the whole suite delivers nothing (the sink stays empty), the
  scenarios marked "delivery": "incidental" end with RSET and pass, the
  others that would deliver are skipped saying why (the smuggling probes:
  that they must send an end of data), and the last lines count them.
- Without it, the same suite does deliver (the sink is not blind).

Usage: no_deliver_cli_test.py PATH/TO/smtp-harness SOURCE_DIR"""
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "pylib"))
from loopback import Serve, load_results  # noqa: E402

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/default/app/smtp-harness")
SRC = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else ".")
TIMEOUT_S = 300
RCPT = "someone@example.test"


def harness(args):
    p = subprocess.run([BIN, *args], capture_output=True, timeout=TIMEOUT_S,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def sink_lines(path):
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return sum(1 for line in f if line.strip())


class NoDeliver(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.sink = os.path.join(self.tmp.name, "mail.jsonl")

    def tearDown(self):
        self.tmp.cleanup()

    def serve(self):
        return Serve(BIN, "--sink", "jsonl:" + self.sink, "--sink_body_limit", "1048576")

    def out(self, name):
        return os.path.join(self.tmp.name, name)

    def test_warning_counts_what_the_scenarios_may_deliver(self):
        with self.serve() as s:
            target = "127.0.0.1:%d" % s.port
            rc, out, err = harness(["run", "--target", target, "--to", RCPT, "--filter",
                                    "R5321-3.3-e,smuggling.second-message.lf-dot-lf,R5321-4.2-a",
                                    "--repeat", "2", "--out", self.out("warn")])
        self.assertIn(rc, (0, 1), out + err)
        self.assertIn("smtp-harness run: warning: this run may deliver up to 6 messages (from 2 "
                      "scenarios) to %s: point it at a test server, not production; "
                      "--no_deliver delivers none" % RCPT, err)
        # The strict server delivers the transaction and the probe as one
        # message each, twice: within the warned bound.
        self.assertEqual(sink_lines(self.sink), 4)
        # The embedded server is ours: no warning.
        rc, out, err = harness(["run", "--filter", "R5321-3.3-e", "--out", self.out("emb")])
        self.assertEqual(rc, 0, out + err)
        self.assertNotIn("may deliver", err)

    def test_whole_suite_delivers_nothing(self):
        with self.serve() as s:
            target = "127.0.0.1:%d" % s.port
            rc, out, err = harness(["run", "--target", target, "--to", RCPT, "--no_deliver",
                                    "--out", self.out("quiet")])
            self.assertIn(rc, (0, 1), out + err)
            self.assertEqual(sink_lines(self.sink), 0, "a message was delivered")
            self.assertIn("--no_deliver: no transaction reaches an end of data: 5 scenarios end "
                          "their transactions with RSET instead", err)
            r = load_results(self.out("quiet"))
            by_id = {x["id"]: x for x in r["scenarios"]}
            for sid in ("ext.dsn.mail-ret-envid", "rfc5321.transaction.after-rset"):
                self.assertEqual(by_id[sid]["verdict"], "pass", by_id[sid].get("reason"))
            probe = by_id["smuggling.second-message.lf-dot-lf"]
            self.assertEqual(probe["verdict"], "skip")
            self.assertTrue(probe["reason"].startswith(
                "needs a delivery (--no_deliver): a smuggling probe must send an end of data"),
                probe["reason"])
            self.assertIn("up to 2 messages, the smuggled one included, to " + RCPT,
                          probe["reason"])
            skipped = [x for x in r["scenarios"] if x["verdict"] == "skip"
                       and x["reason"].startswith("needs a delivery (--no_deliver)")]
            self.assertIn("no delivery: %d scenarios that need one skipped (--no_deliver)"
                          % len(skipped), out)
            # Control: the same server and sink see the messages without it.
            rc, out, err = harness(["run", "--target", target, "--to", RCPT, "--tag",
                                    "transaction", "--out", self.out("loud")])
            self.assertIn(rc, (0, 1), out + err)
            self.assertGreater(sink_lines(self.sink), 0)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)

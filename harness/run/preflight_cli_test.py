#!/usr/bin/python3
"""The preflight and the quick flags of `smtp-harness run`, end to end against
`smtp-harness serve` on loopback: each setup mistake is one line naming what
to change and exit 2, never a cascade of MUST failures (issue: a refused
recipient made 105 failures, a TLS port aimed at with plain TCP dozens).

Usage: preflight_cli_test.py PATH/TO/smtp-harness SOURCE_DIR
"""
import glob
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
import loopback  # noqa: E402
from loopback import load_results  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/default/app/smtp-harness"
SRC = sys.argv[2] if len(sys.argv) > 2 else "."
CORE = os.path.join(SRC, "scenarios", "core")


def Serve(*flags):
    """`smtp-harness serve` with extra flags, on a free port."""
    return loopback.Serve(BIN, *flags)


class Preflight(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smtp-harness-preflight-")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_cli(self, name, *args):
        out = os.path.join(self.tmp.name, name)
        suite = [] if "--suite" in args else ["--suite", CORE]
        p = subprocess.run([BIN, "run", *suite, "--out", out, "--timeout_ms", "2000", *args],
                           capture_output=True, timeout=120)
        return p.returncode, p.stdout.decode(), p.stderr.decode(), out

    def assertOneLineStop(self, rc, stderr, out, *needles):
        self.assertEqual(rc, 2, stderr)
        r = load_results(out)
        self.assertEqual(r["scenarios"], [], "no scenario may run")
        for needle in needles:
            self.assertIn(needle, r["stopped"])
            self.assertIn(needle, stderr)
        self.assertTrue(r["probe"]["entries"], "the report shows the preflight")

    def test_refused_recipient_names_to(self):
        with Serve() as s:  # not a local domain: relaying is refused
            rc, _, err, out = self.run_cli("rcpt", "--target", "127.0.0.1:%d" % s.port,
                                           "--to", "someone@elsewhere.example")
        self.assertOneLineStop(rc, err, out, "refuses the recipient <someone@elsewhere.example>",
                               "--to")

    def test_plain_tcp_at_an_implicit_tls_port_names_tls(self):
        with Serve("--implicit_tls") as s:
            rc, _, err, out = self.run_cli("plain-at-tls", "--target", "127.0.0.1:%d" % s.port)
        self.assertOneLineStop(rc, err, out, "use tls:HOST:PORT")

    def test_tls_at_a_plain_port_names_host_port(self):
        with Serve() as s:
            rc, _, err, out = self.run_cli("tls-at-plain", "--target", "tls:127.0.0.1:%d" % s.port)
        self.assertOneLineStop(rc, err, out, "use HOST:PORT instead of tls:HOST:PORT")

    def test_no_preflight_runs_the_scenarios_anyway(self):
        with Serve() as s:
            rc, _, err, out = self.run_cli("nopre", "--target", "127.0.0.1:%d" % s.port,
                                           "--to", "someone@elsewhere.example", "--no_preflight")
        r = load_results(out)
        self.assertEqual(r["stopped"], "", err)
        self.assertTrue(r["scenarios"], err)

    def test_quick_flags_override_the_profile(self):
        with Serve() as s:
            rc, _, err, out = self.run_cli(
                "quick", "--target", "127.0.0.1:%d" % s.port, "--from", "alice@client.test",
                "--to", "postmaster@localhost", "--helo", "quick.example", "--var", "extra=1")
        self.assertIn(rc, (0, 1), err)
        r = load_results(out)
        sent = "".join(e.get("data", "") for e in r["probe"]["entries"] if e["kind"] == "c2s")
        self.assertIn("EHLO quick.example", sent)
        self.assertIn("MAIL FROM:<alice@client.test>", sent)
        self.assertIn("--from alice@client.test", r["command_line"])

    def test_bad_var_is_a_usage_error(self):
        rc, _, err, _ = self.run_cli("badvar", "--var", "no-equals-sign")
        self.assertEqual(rc, 2, err)
        self.assertIn("--var", err)

    def test_auth_file_sets_the_credentials_and_stays_secret(self):
        with Serve("--users", "carol:pw-from-file") as s:
            creds = os.path.join(self.tmp.name, "creds")
            with open(creds, "w") as f:
                f.write("carol:pw-from-file\n")
            rc, _, err, out = self.run_cli("auth", "--target", "127.0.0.1:%d" % s.port,
                                           "--auth_file", creds, "--suite",
                                           os.path.join(SRC, "scenarios", "extensions", "auth"))
        with open(os.path.join(out, "results.json")) as f:
            text = f.read()
        self.assertNotIn("pw-from-file", text)
        r = json.loads(text)
        passed = {x["id"] for x in r["scenarios"] if x["verdict"] == "pass"}
        self.assertIn("ext.auth.valid-credentials-235", passed, err)

    def test_a_suite_outside_the_repository_uses_fragments(self):
        suite = os.path.join(self.tmp.name, "my-suite")
        os.makedirs(suite, exist_ok=True)
        with_include = [f for f in glob.glob(os.path.join(CORE, "*.json"))
                        if '"include"' in pathlib.Path(f).read_text()]
        self.assertTrue(with_include)
        shutil.copy(with_include[0], suite)
        # The shipped fragments are found without --fragments (issue 23), and
        # with it as before.
        rc, _, err, out = self.run_cli("frag-shipped", "--suite", suite)
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(load_results(out)["scenarios"]), 1)
        rc, _, err, out = self.run_cli("frag", "--suite", suite, "--fragments",
                                       os.path.join(SRC, "scenarios", "fragments"))
        self.assertEqual(rc, 0, err)
        self.assertEqual(len(load_results(out)["scenarios"]), 1)

    def test_profile_host_and_port_choose_the_target(self):
        with Serve() as s:
            profile = os.path.join(self.tmp.name, "profile.json")
            with open(profile, "w") as f:
                json.dump({"host": "127.0.0.1", "port": s.port}, f)
            rc, _, err, out = self.run_cli("profile", "--profile", profile)
        r = load_results(out)
        self.assertEqual(r["target"]["target"], "127.0.0.1:%d" % s.port, err)
        self.assertNotIn("embedded", err)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])

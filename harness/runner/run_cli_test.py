#!/usr/bin/python3
"""End-to-end test of `smtp-harness run` against a real aiosmtpd that this test
starts (on a free loopback port) and stops. Debian's /usr/bin/python3 has
aiosmtpd installed (python3-aiosmtpd); another python3 on PATH may not.

Usage: run_cli_test.py PATH/TO/smtp-harness SOURCE_DIR
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
from loopback import free_port, load_results, stop, wait_for_port  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/default/app/smtp-harness"
SRC = sys.argv[2] if len(sys.argv) > 2 else "."
AIOSMTPD_PYTHON = "/usr/bin/python3"
SERVER_START_TIMEOUT_S = 15
RUN_TIMEOUT_S = 120


def run(args, env=None):
    p = subprocess.run([BIN, "run", *args], capture_output=True, timeout=RUN_TIMEOUT_S, env=env)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class RunAgainstAiosmtpd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.port = free_port()
        cls.server = subprocess.Popen(
            [AIOSMTPD_PYTHON, "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:%d" % cls.port],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(cls.port, cls.server, SERVER_START_TIMEOUT_S, "aiosmtpd")
        except Exception:
            cls.server.kill()
            cls.server.wait()
            raise
        cls.tmp = tempfile.TemporaryDirectory(prefix="smtp-harness-run-")

    @classmethod
    def tearDownClass(cls):
        stop(cls.server, 5)
        cls.tmp.cleanup()

    def out_dir(self, name):
        return os.path.join(self.tmp.name, name)

    def test_core_suite(self):
        out = self.out_dir("core")
        rc, stdout, stderr = run(["--target", "127.0.0.1:%d" % self.port, "--suite",
                                  os.path.join(SRC, "scenarios/core"), "--jobs", "4",
                                  "--target_name", "aiosmtpd", "--out", out])
        self.assertIn(rc, (0, 1), stdout + stderr)
        self.assertEqual(stdout.splitlines()[0], os.path.join(out, "index.html"))
        r = load_results(out)
        self.assertEqual(r["exit_status"], rc)
        self.assertEqual(r["totals"]["error"], 0, stdout)
        self.assertEqual(r["target"]["name"], "aiosmtpd")
        self.assertEqual(r["target"]["target"], "127.0.0.1:%d" % self.port)
        self.assertTrue(r["target"]["banner"], r["target"])
        self.assertIn("8BITMIME", r["target"]["ehlo_lines"])
        self.assertGreaterEqual(len(r["scenarios"]), 10)
        for s in r["scenarios"]:
            kinds = [e["kind"] for e in s["transcript"]["entries"]]
            self.assertIn("connect", kinds, s["id"])
            self.assertIn("c2s", kinds, s["id"])
            self.assertIn("s2c", kinds, s["id"])
            self.assertFalse(s["file"].startswith("/"), s["file"])
            self.assertTrue(s["rfc"]["section"], s["id"])
        by_id = {s["id"]: s for s in r["scenarios"]}
        # Behaviour aiosmtpd 1.4 is known to have.
        for must_pass in ["R5321-4.2-a", "R5321-4.1.1.1-a", "R5321-3.3-b", "R5321-3.3-e",
                          "R5321-4.1.1.10-a", "R5321-4.5.2-a"]:
            self.assertEqual(by_id[must_pass]["verdict"], "pass",
                             json.dumps(by_id[must_pass], indent=1))

    def test_filters_and_repeat(self):
        out = self.out_dir("repeat")
        rc, stdout, stderr = run(["--target", "127.0.0.1:%d" % self.port, "--suite",
                                  os.path.join(SRC, "scenarios/core"), "--filter", "R5321-4.2-a",
                                  "--repeat", "3", "--jobs", "2", "--out", out])
        self.assertEqual(rc, 0, stdout + stderr)
        r = load_results(out)
        self.assertEqual([s["id"] for s in r["scenarios"]],
                         ["R5321-4.2-a#1", "R5321-4.2-a#2", "R5321-4.2-a#3"])

    def test_secrets_are_redacted(self):
        suite = self.out_dir("secret-suite")
        os.makedirs(suite, exist_ok=True)
        with open(os.path.join(suite, "secret.json"), "w") as f:
            json.dump({"id": "secret-noop", "title": "sends the password", "level": "MAY",
                       "rfc": {"document": "RFC 5321", "section": "4.1.1.9"},
                       "steps": [{"connect": {}}, {"expect": 220},
                                 {"send": "NOOP ${password}"}, {"expect": ["2xx", "5xx"]},
                                 {"send": "QUIT"}, {"expect": 221}]}, f)
        profile = os.path.join(suite, "..", "profile.json")
        with open(profile, "w") as f:
            json.dump({"password": {"env": "H9_TEST_SECRET"}}, f)
        env = dict(os.environ, H9_TEST_SECRET="hunter2-very-secret")
        out = self.out_dir("secret")
        rc, stdout, stderr = run(["--target", "127.0.0.1:%d" % self.port, "--suite", suite,
                                  "--profile", profile, "--out", out], env=env)
        self.assertEqual(rc, 0, stdout + stderr)
        with open(os.path.join(out, "results.json")) as f:
            text = f.read()
        self.assertNotIn("hunter2-very-secret", text)
        self.assertIn("NOOP ***", text)

    def test_unreachable_target_is_a_harness_error(self):
        out = self.out_dir("refused")
        rc, stdout, stderr = run(["--target", "127.0.0.1:%d" % free_port(), "--suite",
                                  os.path.join(SRC, "scenarios/core"), "--out", out])
        self.assertEqual(rc, 2, stdout + stderr)
        r = load_results(out)
        self.assertEqual(r["scenarios"], [])
        self.assertGreater(r["planned"], 5)
        self.assertIn("target unreachable", r["stopped"])
        self.assertEqual(len([l for l in stderr.splitlines() if "target unreachable" in l]), 1,
                         stderr)

    def test_no_target_runs_against_the_embedded_server(self):
        out = tempfile.mkdtemp(prefix="run-embedded-")
        rc, stdout, stderr = run(["--suite", os.path.join(SRC, "scenarios", "core"),
                                  "--out", out])
        self.assertIn("embedded server (strict)", stderr)
        self.assertEqual(rc, 0, stdout + stderr)
        results = load_results(out)
        self.assertTrue(results["target"]["target"].startswith("embedded:strict@127.0.0.1:"))
        verdicts = [s["verdict"] for s in results["scenarios"]]
        self.assertGreater(len(verdicts), 5)
        self.assertNotIn("error", verdicts)
        self.assertNotIn("fail", verdicts)
        for name in ("index.html", "junit.xml", "results.json"):
            self.assertTrue(os.path.exists(os.path.join(out, name)), name)
        self.assertIn(os.path.join(out, "index.html"), stdout)

class SilentServer:
    """Accepts connections on a free loopback port and never says a word."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


class RunStopsEarly(unittest.TestCase):
    """Runs that cannot or must not go to the end: a silent target, a signal,
    the whole-run deadline. Each keeps its reports and says why."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smtp-harness-stop-")
        # The embedded server with every reply 400 ms late: scenarios take
        # seconds, so a run is still busy when the test interrupts it.
        cls.port = free_port()
        cls.server = subprocess.Popen(
            [BIN, "serve", "--listen", "127.0.0.1:%d" % cls.port, "--behavior", "slow",
             "--slow_delay_ms", "400"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(cls.port, cls.server, SERVER_START_TIMEOUT_S, "serve --behavior slow")

    @classmethod
    def tearDownClass(cls):
        stop(cls.server, 5)
        cls.tmp.cleanup()

    def test_silent_target_stops_after_the_probe(self):
        silent = SilentServer()
        try:
            out = os.path.join(self.tmp.name, "silent")
            start = time.monotonic()
            rc, stdout, stderr = run(["--target", "127.0.0.1:%d" % silent.port, "--suite",
                                      os.path.join(SRC, "scenarios"), "--timeout_ms", "1000",
                                      "--out", out])
            took = time.monotonic() - start
        finally:
            silent.close()
        self.assertEqual(rc, 2, stdout + stderr)
        self.assertLess(took, 10, "a silent target must not cost a timeout per scenario")
        lines = [l for l in stderr.splitlines() if "no greeting within 1000 ms" in l]
        self.assertEqual(len(lines), 1, stderr)
        r = load_results(out)
        self.assertEqual(r["scenarios"], [])
        self.assertIn("no greeting within 1000 ms", r["stopped"])
        self.assertFalse(r["complete"])
        with open(os.path.join(out, "junit.xml")) as f:
            self.assertIn("no greeting within 1000 ms", f.read())
        with open(os.path.join(out, "index.html")) as f:
            self.assertIn("no greeting within", f.read())

    def interrupt(self, sig, name, want_rc):
        out = os.path.join(self.tmp.name, name)
        p = subprocess.Popen([BIN, "run", "--target", "127.0.0.1:%d" % self.port, "--suite",
                              os.path.join(SRC, "scenarios/core"), "--jobs", "2", "--out", out],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            # A snapshot appears while the run is in progress.
            results = os.path.join(out, "results.json")
            end = time.monotonic() + 15
            while not os.path.exists(results) and time.monotonic() < end:
                time.sleep(0.1)
            self.assertTrue(os.path.exists(results), "no results.json snapshot during the run")
            snap = load_results(out)
            self.assertFalse(snap["complete"])
            self.assertEqual(snap["stopped"], "")
            self.assertIsNone(p.poll(), "the run ended before the test could interrupt it")
            sent = time.monotonic()
            p.send_signal(sig)
            stdout, stderr = p.communicate(timeout=20)
            took = time.monotonic() - sent
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, want_rc, stdout.decode() + stderr.decode())
        self.assertLess(took, 2.5, "in-flight work must end within 2 s of the signal")
        r = load_results(out)
        self.assertFalse(r["complete"])
        self.assertEqual(r["stopped"], "interrupted by " + name)
        self.assertGreater(r["planned"], len(r["scenarios"]))
        for report in ("junit.xml", "index.html"):
            path = os.path.join(out, report)
            self.assertTrue(os.path.exists(path), report)
            with open(path) as f:
                self.assertIn("interrupted by " + name, f.read())

    def test_sigint_keeps_the_reports_and_exits_130(self):
        self.interrupt(signal.SIGINT, "SIGINT", 130)

    def test_sigterm_keeps_the_reports_and_exits_143(self):
        self.interrupt(signal.SIGTERM, "SIGTERM", 143)

    def test_run_timeout_is_absolute(self):
        out = os.path.join(self.tmp.name, "run-timeout")
        start = time.monotonic()
        rc, stdout, stderr = run(["--target", "127.0.0.1:%d" % self.port, "--suite",
                                  os.path.join(SRC, "scenarios/core"), "--jobs", "2",
                                  "--run_timeout", "3s", "--out", out])
        took = time.monotonic() - start
        self.assertEqual(rc, 2, stdout + stderr)
        self.assertLess(took, 8)
        r = load_results(out)
        self.assertIn("run timeout", r["stopped"])
        self.assertFalse(r["complete"])
        self.assertIn("stopped after", stdout)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)

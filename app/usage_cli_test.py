#!/usr/bin/env python3
"""End-to-end tests of the smtp-harness command line: help, --version,
usage errors (exit 2, never 1), `run`'s progress lines off a terminal, its
per-level exit summary and --fail_on, the shipped suite found from any
working directory, and `report`'s error messages.

Usage: usage_cli_test.py PATH/TO/smtp-harness SOURCE_DIR"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "pylib"))
from loopback import free_port, stop, wait_for_port  # noqa: E402

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/default/app/smtp-harness")
SRC = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else ".")
TIMEOUT_S = 120
SUBCOMMANDS = ("parse", "serve", "run", "report", "compare", "list")


def harness(args, cwd=None, binary=BIN):
    p = subprocess.run([binary, *args], capture_output=True, timeout=TIMEOUT_S, cwd=cwd,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


class Help(unittest.TestCase):
    def test_run_help_lists_only_runs_flags(self):
        rc, out, err = harness(["run", "--help"])
        self.assertEqual(rc, 0, err)
        self.assertIn("usage: smtp-harness run [--target ", out)  # optional: embedded server
        for flag in ("--target=", "--fail_on=", "--jobs=", "--progress_every="):
            self.assertIn(flag, out)
        for other in ("--behavior", "--mode=", "--markdown", "--port="):
            self.assertNotIn(other, out)
        self.assertIn("\nTarget:\n", out)
        self.assertIn("\nExamples:\n", out)
        self.assertNotIn("No flags matched", out + err)

    def test_every_subcommand_has_help(self):
        for sub in SUBCOMMANDS:
            for form in (["--help"], ["-h"], ["--jobs=bad", "--help"]):
                rc, out, err = harness([sub, *form])
                self.assertEqual(rc, 0, (sub, form, err))
                self.assertTrue(out.startswith("usage: smtp-harness " + sub), (sub, out[:80]))
            rc, out, _ = harness(["help", sub])
            self.assertEqual(rc, 0)
            self.assertTrue(out.startswith("usage: smtp-harness " + sub))

    def test_helpfull_shows_no_build_paths(self):
        rc, out, _ = harness(["--helpfull"])
        self.assertEqual(rc, 0)
        for sub in SUBCOMMANDS:
            self.assertIn("usage: smtp-harness " + sub, out)
        self.assertNotIn(SRC, out)
        self.assertNotIn(".cc", out)
        self.assertNotIn("absl", out)

    def test_version(self):
        for args in (["--version"], ["run", "--version"], ["serve", "--version"]):
            rc, out, _ = harness(args)
            self.assertEqual(rc, 0, args)
            self.assertRegex(out, r"^smtp-harness \d+\.\d+\.\d+\n$")

    def test_no_subcommand_is_a_usage_error(self):
        rc, _, err = harness([])
        self.assertEqual(rc, 2)
        self.assertIn("usage:", err)
        rc, _, err = harness(["frobnicate"])
        self.assertEqual(rc, 2)
        self.assertIn("unknown subcommand 'frobnicate'", err)


class UsageErrors(unittest.TestCase):
    def assertUsageError(self, args, *needles):
        rc, out, err = harness(args)
        self.assertEqual(rc, 2, (args, out, err))
        self.assertEqual(len(err.splitlines()), 1, err)
        for n in needles:
            self.assertIn(n, err)

    def test_flag_of_another_subcommand(self):
        self.assertUsageError(["parse", "--target", "x", "--line", "NOOP"],
                              "--target is a flag of 'run', 'replay' and 'fuzz', not of 'parse'")
        self.assertUsageError(["serve", "--suite", "x"], "--suite is a flag of 'run' and 'list'")

    def test_unknown_flag_with_did_you_mean(self):
        self.assertUsageError(["run", "--targt", "127.0.0.1:25"],
                              "unknown flag --targt (did you mean --target?)")
        self.assertUsageError(["parse", "--lenent"], "did you mean --lenient?")

    def test_bad_values(self):
        self.assertUsageError(["run", "--jobs", "abc"], "--jobs: invalid value 'abc'")
        self.assertUsageError(["run", "--fail_on", "MUST,bogus"], "--fail_on: unknown level 'bogus'")
        self.assertUsageError(["run", "--fail-on=none,MUST"], "unknown level 'none'")
        self.assertUsageError(["parse", "--mode", "bogus"], "--mode")
        self.assertUsageError(["serve", "--behavior", "foo"], "--behavior:")
        rc, _, err = harness(["serve", "--behavior", "foo"])
        self.assertNotIn("--profile", err)

    def test_serve_on_a_busy_port(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            rc, _, err = harness(["serve", "--listen", "127.0.0.1:%d" % port])
        self.assertEqual(rc, 2, err)
        self.assertIn("in use", err)


class Run(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smtp-harness-usage-")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def out(self, name):
        return os.path.join(self.tmp.name, name)

    def test_progress_lines_and_summary_off_a_terminal(self):
        out = self.out("core")
        rc, stdout, stderr = harness(["run", "--suite", os.path.join(SRC, "scenarios/core"),
                                      "--progress_every", "1ms", "--out", out])
        self.assertEqual(rc, 0, stdout + stderr)
        progress = [l for l in stderr.splitlines() if l.startswith("progress: [")]
        self.assertGreater(len(progress), 1, stderr)
        self.assertNotIn("\r", stderr)
        self.assertNotIn("\x1b", stderr)
        self.assertRegex(progress[0], r"^progress: \[ *\d+/\d+\] pass \d+ fail \d+ skip \d+ "
                         r"error \d+ \(\d+s\)$")
        lines = stdout.splitlines()
        self.assertEqual(lines[:2], [os.path.join(out, "index.html"),
                                     os.path.join(out, "results.json")])
        self.assertRegex(stdout, r"\nMUST: 0 fail of \d+\n")
        self.assertEqual(lines[-1], "exit status 0")

    def test_no_progress_lines_when_turned_off(self):
        rc, stdout, stderr = harness(["run", "--suite", os.path.join(SRC, "scenarios/core"),
                                      "--progress_every", "0", "--out", self.out("quiet")])
        self.assertEqual(rc, 0, stdout + stderr)
        self.assertNotIn("progress:", stderr)

    def test_fail_on_decides_the_exit_status(self):
        port_file = self.out("lenient.port")
        server = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--behavior",
                                   "lenient", "--port_file", port_file],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while not os.path.exists(port_file):
                self.assertIsNone(server.poll(), "serve exited")
                self.assertLess(time.monotonic(), deadline, "serve wrote no port file")
                time.sleep(0.05)
            with open(port_file) as f:
                port = int(f.read())
            wait_for_port(port, server, 10, "serve --behavior lenient")
            base = ["run", "--target", "127.0.0.1:%d" % port, "--tag", "smuggling",
                    "--level", "security"]
            rc, stdout, stderr = harness(base + ["--out", self.out("default")])
            self.assertEqual(rc, 1, stdout + stderr)
            self.assertRegex(stdout, r"\nsecurity: [1-9]\d* fail of \d+ -> exit 1\n")
            self.assertTrue(stdout.endswith("\nexit status 1\n"), stdout[-200:])

            rc, stdout, stderr = harness(base + ["--fail_on", "MUST,SHOULD",
                                                 "--out", self.out("must")])
            self.assertEqual(rc, 0, stdout + stderr)
            self.assertRegex(stdout, r"\nsecurity: [1-9]\d* fail of \d+ \(finding only, not in "
                                     r"--fail_on\)\n")
            self.assertTrue(stdout.endswith("\nexit status 0\n"), stdout[-200:])

            rc, stdout, stderr = harness(base + ["--fail-on", "none", "--out", self.out("none")])
            self.assertEqual(rc, 0, stdout + stderr)
            with open(os.path.join(self.out("none"), "results.json")) as f:
                self.assertEqual(json.load(f)["fail_on"], [])
        finally:
            stop(server, 5)

    def test_unreachable_target_is_one_line(self):
        port = free_port()
        rc, stdout, stderr = harness(["run", "--target", "127.0.0.1:%d" % port,
                                      "--out", self.out("unreachable")])
        self.assertEqual(rc, 2, stdout + stderr)
        self.assertEqual(stdout, "")
        # The delivery warning comes first, before any connection; then one
        # line says why nothing ran.
        lines = stderr.splitlines()
        self.assertEqual(len(lines), 2, stderr)
        self.assertIn("warning: this run may deliver up to", lines[0])
        self.assertIn("unreachable", lines[1])


class DefaultSuite(unittest.TestCase):
    def count(self, stderr):
        return int(stderr.split()[0])

    def test_found_from_another_working_directory(self):
        _, _, want = harness(["list", "--suite", os.path.join(SRC, "scenarios")])
        with tempfile.TemporaryDirectory() as cwd:
            rc, _, err = harness(["list"], cwd=cwd)
            self.assertEqual(rc, 0, err)
            self.assertEqual(self.count(err), self.count(want))

    def test_run_from_another_working_directory(self):
        with tempfile.TemporaryDirectory() as cwd:
            out = os.path.join(cwd, "out")
            rc, stdout, stderr = harness(["run", "--filter", "R5321-3.3-*", "--out", out],
                                         cwd=cwd)
            self.assertEqual(rc, 0, stdout + stderr)
            with open(os.path.join(out, "results.json")) as f:
                r = json.load(f)
            self.assertGreaterEqual(len(r["scenarios"]), 2)
            # The suite found is not written into the command line (no
            # build-machine path in the report).
            self.assertNotIn("--suite", r["command_line"])

    def test_installed_layout(self):
        # PREFIX/bin/smtp-harness finds PREFIX/share/smtp-harness/scenarios
        # (here a smaller suite, to tell it from the source tree's).
        with tempfile.TemporaryDirectory() as prefix, tempfile.TemporaryDirectory() as cwd:
            os.makedirs(os.path.join(prefix, "bin"))
            binary = os.path.join(prefix, "bin", "smtp-harness")
            shutil.copy(BIN, binary)
            suite = os.path.join(prefix, "share", "smtp-harness", "scenarios")
            for d in ("core", "fragments"):
                shutil.copytree(os.path.join(SRC, "scenarios", d), os.path.join(suite, d))
            _, _, want = harness(["list", "--suite", suite])
            rc, _, err = harness(["list"], cwd=cwd, binary=binary)
            self.assertEqual(rc, 0, err)
            self.assertEqual(self.count(err), self.count(want))
            _, _, full = harness(["list", "--suite", os.path.join(SRC, "scenarios")])
            self.assertLess(self.count(err), self.count(full))


class Report(unittest.TestCase):
    def test_broken_json_gives_a_position(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "results.json")
            with open(path, "w") as f:
                f.write('{"schema_version": 1,\n  "scenarios": [}\n')
            rc, _, err = harness(["report", path])
            self.assertEqual(rc, 2)
            self.assertRegex(err, r"line 2, column \d+")
            self.assertRegex(err, r"\(byte \d+\)")

    def test_missing_file_gives_errno_text(self):
        rc, _, err = harness(["report", "/nonexistent/results.json"])
        self.assertEqual(rc, 2)
        self.assertIn("No such file or directory", err)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])

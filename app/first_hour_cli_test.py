#!/usr/bin/env python3
"""The first hour of a new user (issue 23, item 7): what they type first gets
an answer that says what to do.

- a suite of their own with "include": "greeting" and no fragments/ finds the
  shipped fragments; a fragment found nowhere names --fragments; `list`
  takes --fragments;
- --target 3025 (a port alone) and smtp://HOST:PORT are usage errors at once,
  saying what to write;
- a misspelt tag, id glob, scenario variable or --var name gets "did you
  mean";
- run --tag smuggling --level security names the smuggling scenarios the
  level left out.

Usage: first_hour_cli_test.py PATH/TO/smtp-harness SOURCE_DIR"""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

BIN = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build/default/app/smtp-harness")
SRC = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else ".")
TIMEOUT_S = 120


def harness(args, cwd=None):
    p = subprocess.run([BIN, *args], capture_output=True, timeout=TIMEOUT_S, cwd=cwd,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def scenario(sid, steps, include=None):
    d = {"id": sid, "title": "t", "rfc": {"document": "RFC 5321", "section": "4.2"},
         "level": "MUST", "steps": steps}
    if include:
        d["include"] = include
    return json.dumps(d)


class OwnSuite(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.suite = os.path.join(self.tmp.name, "mine")
        os.mkdir(self.suite)

    def tearDown(self):
        self.tmp.cleanup()

    def write(self, name, text):
        with open(os.path.join(self.suite, name), "w") as f:
            f.write(text)

    def test_shipped_fragments_are_found(self):
        self.write("greet.json", scenario("mine.greet", [{"send": "QUIT"}, {"expect": 221}],
                                          include="greeting"))
        # From a directory with no scenarios/ of its own, so the shipped suite
        # is found from the binary, not from the working directory.
        rc, out, err = harness(["list", "--suite", self.suite], cwd=self.tmp.name)
        self.assertEqual(rc, 0, err)
        self.assertIn("mine.greet", out)
        out_dir = os.path.join(self.tmp.name, "out")
        rc, out, err = harness(["run", "--suite", self.suite, "--out", out_dir],
                               cwd=self.tmp.name)
        self.assertEqual(rc, 0, out + err)
        with open(os.path.join(out_dir, "results.json")) as f:
            results = json.load(f)
        verdicts = {s["id"]: s["verdict"] for s in results["scenarios"]}
        self.assertEqual(verdicts, {"mine.greet": "pass"})

    def test_missing_fragment_names_the_flag_and_list_takes_it(self):
        frags = os.path.join(self.tmp.name, "frags")
        os.mkdir(frags)
        with open(os.path.join(frags, "hello.json"), "w") as f:
            json.dump({"steps": [{"connect": {}}, {"expect": 220}]}, f)
        self.write("a.json", scenario("mine.a", [{"send": "QUIT"}, {"expect": 221}],
                                      include="hello"))
        rc, out, err = harness(["list", "--suite", self.suite])
        self.assertEqual(rc, 2)
        self.assertIn("fragment 'hello' not found in ", err)
        self.assertIn("(give --fragments DIR)", err)
        rc, out, err = harness(["list", "--suite", self.suite, "--fragments", frags])
        self.assertEqual(rc, 0, err)
        self.assertIn("mine.a", out)

    def test_misspelt_variable(self):
        self.write("v.json", scenario("mine.v", [{"connect": {}}, {"expect": 220},
                                                 {"send": "MAIL FROM:<${sendr}>"},
                                                 {"expect": 250}]))
        rc, _, err = harness(["list", "--suite", self.suite])
        self.assertEqual(rc, 2)
        self.assertIn("unknown variable 'sendr' (neither a profile variable nor captured "
                      "earlier; did you mean 'sender'?)", err)


class Targets(unittest.TestCase):
    def test_port_alone_is_a_usage_error_at_once(self):
        began = time.monotonic()
        rc, out, err = harness(["run", "--target", "3025", "--filter", "R5321-4.1.1.9-a"])
        self.assertEqual(rc, 2, out + err)
        self.assertLess(time.monotonic() - began, 5)  # no 10-s wait for a greeting
        self.assertIn("--target: '3025' is a port alone: give HOST:PORT, e.g. 127.0.0.1:3025",
                      err)

    def test_url_gets_a_hint(self):
        for url, meant in (("smtp://127.0.0.1:2525", "here 127.0.0.1:2525"),
                           ("smtps://127.0.0.1:465/", "here tls:127.0.0.1:465")):
            rc, out, err = harness(["run", "--target", url])
            self.assertEqual(rc, 2, out + err)
            self.assertIn("is a URL: give HOST:PORT", err)
            self.assertIn(meant, err)


class Filters(unittest.TestCase):
    def test_misspelt_tag_and_filter(self):
        rc, _, err = harness(["run", "--tag", "smugling"])
        self.assertEqual(rc, 2)
        self.assertIn("no scenario matches the filters: --tag 'smugling' matches no scenario "
                      "(did you mean 'smuggling'?)", err)
        rc, _, err = harness(["list", "--filter", "smugling.*"])
        self.assertEqual(rc, 0)
        self.assertIn("--filter 'smugling.*' matches no scenario id (did you mean "
                      "'smuggling.*'?)", err)
        # One good entry and one misspelt: the run goes on, the note is said.
        rc, out, err = harness(["list", "--tag", "smuggling,bdta"])
        self.assertEqual(rc, 0, err)
        self.assertIn("smuggling.data-end.lf-dot-lf", out)
        self.assertIn("--tag 'bdta' matches no scenario (did you mean 'bdat'?)", err)

    def test_misspelt_var(self):
        rc, out, err = harness(["run", "--var", "rcpt_domian=example.test", "--filter",
                                "rfc5321.delivery.*", "--out", tempfile.mkdtemp()])
        self.assertEqual(rc, 0, out + err)
        self.assertIn("--var 'rcpt_domian' is used by no scenario of this run (did you mean "
                      "'rcpt_domain'?)", err)

    def test_level_names_what_it_left_out(self):
        rc, out, err = harness(["list", "--tag", "smuggling"])
        self.assertEqual(rc, 0, err)
        levels = {}
        for line in out.splitlines():
            sid, level = line.split()[:2]
            levels[sid] = level
        left_out = sorted(s for s, lv in levels.items() if lv != "security")
        self.assertTrue(left_out)
        rc, out, err = harness(["run", "--tag", "smuggling", "--level", "security",
                                "--filter", "smuggling.command.*", "--out",
                                tempfile.mkdtemp()])
        self.assertEqual(rc, 0, out + err)
        command_left_out = [s for s in left_out if s.startswith("smuggling.command.")]
        self.assertTrue(command_left_out)
        self.assertIn("--level security left out %d scenario" % len(command_left_out), err)
        for sid in command_left_out:
            self.assertIn("%s [%s]" % (sid, levels[sid]), err)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)

#!/usr/bin/env python3
"""The client suite from the command line, without the real clients' install:

- scenarios/client/schema.json: every shipped client scenario validates,
  and the schema and the loader (`list --client all --suite FILE`) refuse
  the same bad inputs, the loader at FILE:LINE:COL;
- `list --client PROFILE|all` and run --client's --filter/--tag/--level
  (unknown entries named with the closest one, unknown levels refused);
- the live results.json of a client run holds the scenarios that ended
  while the run goes on (what `report --serve` shows);
- profile errors: bad JSON and a command without {port} exit 2 naming
  FILE:LINE:COL; a program that does not exist and a client that exits at
  once exit 2 ("never connected"), in bounded time.

  client_cli_test.py HARNESS SOURCE_DIR WORK_DIR
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

import jsonschema  # python3-jsonschema; a missing module fails the test

HARNESS = SOURCE = WORK = ""


def run(*args, timeout=120, cwd=None):
    return subprocess.run([HARNESS, *args], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def scenario(**overrides):
    s = {"role": "client", "id": "client.test.x", "title": "t",
         "rfc": {"document": "RFC 5321", "section": "4.5.2"}, "level": "MUST",
         "tags": ["t"], "server": {"replies": {"RCPT": 550}}, "expect": {"exit": "failure"}}
    s.update(overrides)
    return s


class SchemaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(SOURCE, "scenarios/client/schema.json")) as f:
            cls.schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(cls.schema)
        cls.validator = jsonschema.Draft202012Validator(cls.schema)

    def test_every_shipped_scenario_validates(self):
        files = [f for f in glob.glob(os.path.join(SOURCE, "scenarios/client/**/*.json"),
                                      recursive=True) if not f.endswith("schema.json")]
        self.assertGreaterEqual(len(files), 40)
        for f in files:
            with open(f) as fh:
                errors = [e.message for e in self.validator.iter_errors(json.load(fh))]
            self.assertEqual(errors, [], f)
        p = run("list", "--client", "all")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(p.stdout.splitlines()), len(files))

    def test_schema_and_loader_refuse_the_same_inputs(self):
        # (the scenario, what the loader says, the line of the value it names)
        bad = [
            ({"role": "server"}, '"role": "client" is required', 1),
            ({"level": "must"}, "MUST, SHOULD, MAY, policy or security", 9),
            ({"mode": "tls"}, "plain, starttls, require_tls or auth", None),
            ({"id": "client x"}, "letters, digits", 3),
            ({"retries": 2}, "unknown key 'retries'", None),
            ({"rfc": {"document": "RFC 5321", "section": "4.5.2", "page": 3}},
             "unknown key 'page' (document, section, url)", None),
            ({"rfc": {"document": "RFC 5321", "section": ""}}, '"section": "4.5.2"', None),
            ({"server": {"replies": {"RCPT": 600}}}, "a reply code from 200 to 599", None),
            ({"server": {"replies": {"RCTP": 550}}}, "unknown command 'RCTP'", None),
            ({"server": {"replies": {"MAIL": {"code": 250, "text": "250 ok"}}}},
             'give "code"', None),
            ({"server": {"replies": {"MAIL": {"count": 3}}}}, 'need "code"', None),
            ({"server": {"replies": {"MAIL": {"lines": 250}}}}, "a list of reply lines", None),
            ({"server": {"replies": {"MAIL": {"close": True, "stall": True}}}},
             "close and stall exclude each other", None),
            ({"server": {"greeting": {"inject": "\\q"}}}, "a bad byte escape", None),
            ({"server": {"max_connections": 17}}, "from 1 to 16", None),
            ({"expect": {"exit": "crash"}}, "success, failure or any", None),
            ({"timeout_ms": 600001}, "milliseconds from 0 to 600000", None),
        ]
        for i, (overrides, error, line) in enumerate(bad):
            doc = scenario(**overrides)
            for k in [k for k, v in overrides.items() if v is None]:
                del doc[k]
            with self.subTest(overrides=overrides):
                self.assertTrue(list(self.validator.iter_errors(doc)),
                                "the schema accepts %s" % overrides)
                path = write(os.path.join(WORK, "bad", "b%d.json" % i), json.dumps(doc, indent=2))
                p = run("list", "--client", "all", "--suite", path)
                self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
                self.assertIn(error, p.stderr)
                # FILE:LINE:COL, at the value named when we know its line.
                self.assertRegex(p.stderr, re.escape(path) + r":\d+:\d+: ")
                if line:
                    self.assertIn("%s:%d:" % (path, line), p.stderr)
        # And a good one passes both (so the cases above fail for their reason).
        doc = scenario(server={"replies": {"RCPT": [{"lines": ["550-a", "550 b"]}, "250 ok"],
                                           "MAIL": {"code": 250, "count": 3, "delay_ms": 10}}})
        self.assertEqual([e.message for e in self.validator.iter_errors(doc)], [])
        p = run("list", "--client", "all", "--suite", write(os.path.join(WORK, "good.json"),
                                                            json.dumps(doc)))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("client.test.x", p.stdout)


class ListAndFilterTest(unittest.TestCase):
    def test_list_shows_columns_and_skips(self):
        p = run("list", "--client", os.path.join(SOURCE, "tests/clients/profiles/msmtp.json"),
                "--tag", "starttls-injection", "--level", "security")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        self.assertEqual(len(lines), 4, p.stdout)
        self.assertTrue(all("security" in l and "RFC 3207 §4.2" in l for l in lines), p.stdout)
        skipped = [l for l in lines if '[skipped: the profile has no "starttls" command' in l]
        self.assertEqual(len(skipped), 3, p.stdout)
        self.assertIn("require_tls  starttls-injection,tls", p.stdout)
        self.assertIn("4 client scenarios (69 filtered out); 3 skipped with msmtp", p.stderr)

    def test_unknown_filters_say_the_closest_name(self):
        p = run("list", "--client", "all", "--tag", "dot-stufing")
        self.assertIn("--tag 'dot-stufing' matches no client scenario (did you mean "
                      "'dot-stuffing'?)", p.stderr)
        profile = os.path.join(SOURCE, "tests/clients/profiles/smtplib.json")
        p = run("run", "--client", profile, "--filter", "client.dwngrade.*", "--out",
                os.path.join(WORK, "nofilter"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("--filter 'client.dwngrade.*' matches no client scenario id (did you "
                      "mean 'client.downgrade.*'?)", p.stderr)
        self.assertIn("no client scenario left", p.stderr)
        p = run("list", "--client", "all", "--markdown")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--markdown, --fragments and --profile are for the server suite", p.stderr)
        p = run("run", "--client", profile, "--level", "mst")
        self.assertEqual(p.returncode, 2)
        self.assertIn("--level: unknown level 'mst' (did you mean 'MUST'?)", p.stderr)


class LiveResultsTest(unittest.TestCase):
    def test_results_json_grows_while_the_run_goes_on(self):
        # One quick scenario, then one where the server never greets:
        # smtplib gives up after its own 5 s, and the live results.json,
        # rewritten every 2 s, must show the first in the meantime.
        out = os.path.join(WORK, "live")
        shutil.rmtree(out, ignore_errors=True)
        proc = subprocess.Popen(
            [HARNESS, "run", "--client", os.path.join(SOURCE, "tests/clients/profiles/smtplib.json"),
             "--filter", "client.basic.plain-delivery,client.timeouts.no-greeting", "--jobs", "1",
             "--out", out, "--progress_every", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = None
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                with open(os.path.join(out, "results.json")) as f:
                    r = json.load(f)
                if not r["complete"] and r["scenarios"]:
                    seen = r
                    break
            except (OSError, ValueError):
                pass
            time.sleep(0.1)
        running = proc.poll() is None
        stdout, stderr = proc.communicate(timeout=60)
        self.assertIsNotNone(seen, "no live results.json with a scenario: " + stderr)
        self.assertTrue(running)
        self.assertEqual([s["id"] for s in seen["scenarios"]], ["client.basic.plain-delivery"])
        self.assertEqual(seen["scenarios"][0]["verdict"], "pass")
        self.assertEqual(seen["planned"], 2)
        self.assertTrue(seen["started_at"])
        with open(os.path.join(out, "results.json")) as f:
            final = json.load(f)
        self.assertTrue(final["complete"])
        self.assertEqual(len(final["scenarios"]), 2)


class RelativeOutTest(unittest.TestCase):
    def test_relative_out_with_a_profile_elsewhere(self):
        # The client runs in its profile's directory: the {message} and
        # {cafile} paths must not be relative to ours.
        cwd = os.path.join(WORK, "cwd")
        shutil.rmtree(cwd, ignore_errors=True)
        os.makedirs(cwd)
        p = run("run", "--client", os.path.join(SOURCE, "tests/clients/profiles/smtplib.json"),
                "--filter", "client.basic.plain-delivery", "--out", "rel", "--progress_every", "0",
                cwd=cwd)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("1 pass", p.stdout)


class ProfileErrorTest(unittest.TestCase):
    def run_profile(self, name, text, timeout=60):
        path = write(os.path.join(WORK, "profiles", name + ".json"), text)
        started = time.monotonic()
        p = run("run", "--client", path, "--tag", "basic,timeouts", "--out",
                os.path.join(WORK, "out-" + name), "--progress_every", "0", timeout=timeout)
        return path, p, time.monotonic() - started

    def test_bad_json_names_file_line_column(self):
        path, p, _ = self.run_profile("badjson", '{"name": "x",\n "commands": {"plain": "c {port}",}\n}\n')
        self.assertEqual(p.returncode, 2)
        self.assertIn(path + ":2:", p.stderr)

    def test_bad_value_names_file_line(self):
        path, p, _ = self.run_profile(
            "badtimeout", '{"name": "x",\n "commands": {"plain": "c {port}"},\n "timeout_ms": "5"}\n')
        self.assertEqual(p.returncode, 2)
        self.assertIn(path + ":3:16: timeout_ms: an integer from 100 to 3600000", p.stderr)

    def test_command_without_port(self):
        path, p, _ = self.run_profile(
            "noport", '{"name": "x",\n "commands": {"plain": "swaks --server {host} --to {to}"}}\n')
        self.assertEqual(p.returncode, 2)
        self.assertIn(path + ":2:24: commands.plain: no {port} placeholder", p.stderr)

    def test_missing_program_and_instant_exit(self):
        for name, command, output in [("missing", "/nonexistent/client {host} {port}", "not found"),
                                      ("instant", "true {host} {port}", "exit 0")]:
            with self.subTest(name=name):
                _, p, took = self.run_profile(
                    name, json.dumps({"name": name, "commands": {"plain": command},
                                      "timeout_ms": 5000}))
                self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
                self.assertIn("the client never connected to the harness in any of the 5 "
                              "scenarios that ran: check the profile's commands", p.stderr)
                self.assertIn(output, p.stderr)
                self.assertLess(took, 30)


if __name__ == "__main__":
    HARNESS, SOURCE, WORK = (os.path.abspath(a) for a in sys.argv[1:4])
    os.makedirs(WORK, exist_ok=True)
    unittest.main(argv=sys.argv[:1], verbosity=2)

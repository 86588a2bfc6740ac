#!/usr/bin/python3
"""The shipped suite against the embedded reference server, in every
configuration whose verdicts the docs promise (docs/scenarios.md,
docs/real-servers.md):

  strict      `run` with no --target: every scenario passes; only the ones
              that cannot apply to it are skipped, each for its stated reason.
  reduced     `serve --disable_extensions DSN,BINARYMIME`: the scenarios that
              need those keywords *absent* run, and pass.
  lenient     `serve --behavior lenient`: fails exactly the bare-LF smuggling
              scenarios and the data-before-354 check, nothing else.
  implicit    `serve --implicit_tls`, `run --target tls:...`: passes; the
              plaintext-only scenarios skip instead of misfiring.
  lmtp        `serve --lmtp`, `run --target lmtp:...`: every LMTP scenario
              passes and every SMTP one is skipped; against an SMTP
              target the LMTP scenarios are skipped with the reason.
  configured  `serve --refuse_sessions` / `--require_tls`: the scenarios that
              `require` such a server (skipped by strict) run and pass.
  deliveries  `serve --sink jsonl:`, `run --deliveries jsonl:`: the
              expect_delivery scenarios read the sink; without the Received:
              line exactly the trace scenario fails.

Usage: suite_test.py PATH/TO/smtp-harness SOURCE_DIR [unittest args]
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from loopback import free_port, load_results, stop, wait_for_port  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/default/app/smtp-harness"
SRC = sys.argv[2] if len(sys.argv) > 2 else "."
SUITE = os.path.join(SRC, "scenarios")
SERVER_START_TIMEOUT_S = 15
RUN_TIMEOUT_S = 300
USER, PASSWORD = "test", "secret"

# Skipped against the strict reference, and why. Anything else skipped is a
# scenario the reference should exercise but does not.
LMTP_ON_SMTP = "LMTP scenario; the target speaks SMTP (give lmtp:HOST:PORT to test an LMTP server)"
STRICT_SKIPS = {
    "ext.8bitmime.body-binarymime-not-offered": "server advertises BINARYMIME",
    "rfc5321.params.notify-without-dsn-555": "server advertises DSN",
    "rfc5321.ehlo.advertised-expn-implemented": "server does not advertise EXPN",
    "rfc5321.ehlo.advertised-vrfy-implemented": "server does not advertise VRFY",
    # RFC 5321 §2.4's SHOULD applies only without an extension permitting
    # 8-bit envelopes (the keywords-off run below tests it).
    "rfc5321.syntax.8bit-path-without-smtputf8": "server advertises SMTPUTF8",
    # `require` steps: these apply only to servers configured otherwise.
    "rfc5321.refused.waits-for-quit":
        'not applicable to this server: expected code 554, got 220 "localhost ESMTP smtp-harness"',
    "rfc5321.refused.503-until-quit":
        'not applicable to this server: expected code 554, got 220 "localhost ESMTP smtp-harness"',
    "ext.starttls.required-530":
        'not applicable to this server: expected code 530, got 250 "2.1.0 Ok"',
    "ext.starttls.required-530-enhanced":
        'not applicable to this server: expected code 530, got 250 "2.1.0 Ok"',
}

# The lenient profile ends DATA and command lines at a bare LF (as many real
# servers did before SMTP smuggling was published) and accepts message bytes
# pipelined before the 354. These, and only these, must fail.
LENIENT_FAILS = {
    "security.pipelining.data-before-354",
    "smuggling.command.bare-lf",
    "smuggling.command.bare-lf-in-mail",
    "smuggling.command.bare-lf-line-end",
    "smuggling.data-end.crlf-dot-lf",
    "smuggling.data-end.in-header",
    "smuggling.data-end.lf-dot-crlf",
    "smuggling.data-end.lf-dot-lf",
    "smuggling.data-end-split.crlf-dot-lf",
    "smuggling.data-end-split.lf-dot-crlf",
    "smuggling.data-end-split.lf-dot-lf",
    "smuggling.second-message-split.crlf-dot-lf",
    "smuggling.second-message-split.lf-dot-crlf",
    "smuggling.second-message-split.lf-dot-lf",
    "smuggling.second-message.crlf-dot-lf",
    "smuggling.second-message.in-header",
    "smuggling.second-message.lf-dot-crlf",
    "smuggling.second-message.lf-dot-lf",
}

PLAINTEXT_ONLY_REASON = "scenario needs a plaintext connection; the target uses implicit TLS"


class Serve:
    """`smtp-harness serve` on a free loopback port for the duration of a with-block."""

    def __init__(self, *flags):
        self.port = free_port()
        self.flags = list(flags)

    def __enter__(self):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            # The early-talker check is opt-in (serve greets at once by
            # default); the reference server passes the whole suite with it.
            [BIN, "serve", "--listen", "127.0.0.1:%d" % self.port, "--pregreet_delay_ms", "300",
             "--users", "%s:%s" % (USER, PASSWORD), *self.flags],
            stdout=subprocess.DEVNULL, stderr=self.log)
        try:
            wait_for_port(self.port, self.proc, SERVER_START_TIMEOUT_S, "smtp-harness serve")
        except RuntimeError as e:
            self.__exit__()
            self.log.seek(0)
            raise RuntimeError("%s; serve said: %s" % (e, self.log.read().decode()[-2000:]))
        return self

    def __exit__(self, *exc):
        stop(self.proc, 10)
        self.log.close()
        return False


def profile_file(port):
    fd, path = tempfile.mkstemp(prefix="reference-profile-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump({"host": "127.0.0.1", "port": port, "user": USER,
                   "password": {"env": "SMTP_REFERENCE_PASSWORD", "default": PASSWORD}}, f)
    return path


def run(*args):
    out = tempfile.mkdtemp(prefix="reference-run-")
    p = subprocess.run([BIN, "run", "--suite", SUITE, "--out", out, *args],
                       capture_output=True, timeout=RUN_TIMEOUT_S)
    return p.returncode, load_results(out), p.stdout.decode() + p.stderr.decode()


def by_verdict(results, verdict):
    return {s["id"]: s.get("reason", "") for s in results["scenarios"] if s["verdict"] == verdict}


class ReferenceSuite(unittest.TestCase):
    def assertNoErrors(self, results, log):
        self.assertEqual(by_verdict(results, "error"), {}, log)

    def test_strict_passes_everything_that_applies(self):
        rc, results, log = run()
        self.assertNoErrors(results, log)
        self.assertEqual(by_verdict(results, "fail"), {}, log)
        # The embedded server speaks SMTP: the LMTP scenarios skip, saying why.
        skipped = by_verdict(results, "skip")
        lmtp = {k: v for k, v in skipped.items() if k.startswith("ext.lmtp.")}
        self.assertEqual(len(lmtp), 6, skipped)
        for reason in lmtp.values():
            self.assertEqual(reason, LMTP_ON_SMTP)
        self.assertEqual({k: v for k, v in skipped.items() if k not in lmtp}, STRICT_SKIPS)
        self.assertEqual(rc, 0, log)
        # The AUTH family runs over STARTTLS (AUTH is offered only after it).
        passed = by_verdict(results, "pass")
        self.assertIn("ext.auth.valid-credentials-235", passed)
        self.assertIn("ext.starttls.plaintext-injection", passed)
        self.assertGreaterEqual(len(passed), 150)

    def test_absent_extension_scenarios_run_when_the_keywords_are_off(self):
        with Serve("--disable_extensions", "DSN,BINARYMIME,SMTPUTF8") as s:
            rc, results, log = run("--target", "127.0.0.1:%d" % s.port,
                                   "--profile", profile_file(s.port), "--tag", "!lmtp")
        self.assertNoErrors(results, log)
        self.assertEqual(by_verdict(results, "fail"), {}, log)
        passed = by_verdict(results, "pass")
        self.assertIn("ext.8bitmime.body-binarymime-not-offered", passed)
        self.assertIn("rfc5321.params.notify-without-dsn-555", passed)
        self.assertIn("rfc5321.syntax.8bit-path-without-smtputf8", passed)
        skipped = by_verdict(results, "skip")
        self.assertEqual(skipped.get("ext.dsn.mail-ret-envid"), "server does not advertise DSN")
        self.assertEqual(rc, 0, log)

    def test_lenient_fails_exactly_the_smuggling_it_should(self):
        with Serve("--behavior", "lenient") as s:
            rc, results, log = run("--target", "127.0.0.1:%d" % s.port,
                                   "--profile", profile_file(s.port), "--tag", "!lmtp")
        self.assertNoErrors(results, log)
        self.assertEqual(set(by_verdict(results, "fail")), LENIENT_FAILS, log)
        self.assertEqual(rc, 1, log)

    def test_implicit_tls_skips_plaintext_only_scenarios(self):
        with Serve("--implicit_tls") as s:
            rc, results, log = run("--target", "tls:127.0.0.1:%d" % s.port,
                                   "--profile", profile_file(s.port), "--tag", "!lmtp")
        self.assertNoErrors(results, log)
        self.assertEqual(by_verdict(results, "fail"), {}, log)
        skipped = by_verdict(results, "skip")
        for sid in ("security.auth.plain-refused-without-tls",
                    "security.auth.login-refused-without-tls",
                    "security.auth.no-plaintext-mechanism-before-tls"):
            self.assertEqual(skipped.get(sid), PLAINTEXT_ONLY_REASON, sid)
        self.assertIn("ext.auth.valid-credentials-235", by_verdict(results, "pass"))
        self.assertEqual(rc, 0, log)

    def test_deliveries_are_read_from_a_jsonl_sink(self):
        # serve writes accepted mail to a JSONL file; run --deliveries reads it
        # back for the expect_delivery scenarios. Without the Received: line
        # exactly the trace scenario fails.
        sink = tempfile.mktemp(prefix="reference-sink-", suffix=".jsonl")
        with Serve("--sink", "jsonl:" + sink, "--sink_body_limit", "1048576",
                   "--notrace_header") as s:
            rc, results, log = run("--target", "127.0.0.1:%d" % s.port,
                                   "--profile", profile_file(s.port),
                                   "--deliveries", "jsonl:" + sink,
                                   "--filter", "rfc5321.delivery.*,ext.8bitmime.delivered-*")
        self.assertNoErrors(results, log)
        self.assertEqual(set(by_verdict(results, "fail")), {"rfc5321.delivery.received-prepended"},
                         log)
        self.assertGreaterEqual(len(by_verdict(results, "pass")), 7, log)
        self.assertEqual(rc, 1, log)
        # Without --deliveries the same scenarios are skipped, not failed.
        with Serve() as s:
            rc, results, log = run("--target", "127.0.0.1:%d" % s.port,
                                   "--profile", profile_file(s.port),
                                   "--filter", "rfc5321.delivery.*")
        skipped = by_verdict(results, "skip")
        self.assertEqual(len(skipped), len(results["scenarios"]), log)
        self.assertTrue(all(r.startswith("target offers no deliveries") for r in skipped.values()))
        self.assertEqual(rc, 0, log)

    def test_configured_servers_run_the_scenarios_that_apply_to_them(self):
        # A host that takes no mail (554 greeting) and one that requires TLS:
        # the `require` scenarios skipped against the strict server run here.
        with Serve("--refuse_sessions") as s:
            rc, results, log = run("--target", "127.0.0.1:%d" % s.port,
                                   "--profile", profile_file(s.port), "--tag", "refused")
        self.assertNoErrors(results, log)
        self.assertEqual(set(by_verdict(results, "pass")),
                         {"rfc5321.refused.waits-for-quit", "rfc5321.refused.503-until-quit"}, log)
        self.assertEqual(rc, 0, log)
        with Serve("--require_tls") as s:
            rc, results, log = run("--target", "127.0.0.1:%d" % s.port,
                                   "--profile", profile_file(s.port), "--tag", "tls-required")
        self.assertNoErrors(results, log)
        self.assertEqual(set(by_verdict(results, "pass")),
                         {"ext.starttls.required-530", "ext.starttls.required-530-enhanced"}, log)
        self.assertEqual(rc, 0, log)

    def test_lmtp_scenarios_pass_against_the_lmtp_listener(self):
        with Serve("--lmtp") as s:
            rc, results, log = run("--target", "lmtp:127.0.0.1:%d" % s.port,
                                   "--profile", profile_file(s.port))
        self.assertNoErrors(results, log)
        self.assertEqual(by_verdict(results, "fail"), {}, log)
        lmtp = {x["id"] for x in results["scenarios"] if "lmtp" in x["tags"]}
        self.assertGreaterEqual(len(lmtp), 5)
        self.assertEqual(set(by_verdict(results, "pass")), lmtp, log)
        skipped = by_verdict(results, "skip")
        self.assertEqual(set(skipped.values()), {"SMTP scenario; the target speaks LMTP"}, log)
        self.assertEqual(rc, 0, log)

    def test_lmtp_scenarios_are_skipped_against_an_smtp_target(self):
        with Serve() as s:
            rc, results, log = run("--target", "127.0.0.1:%d" % s.port,
                                   "--profile", profile_file(s.port), "--tag", "lmtp")
        skipped = by_verdict(results, "skip")
        self.assertGreaterEqual(len(skipped), 5, log)
        for reason in skipped.values():
            self.assertEqual(reason, LMTP_ON_SMTP)
        self.assertEqual(by_verdict(results, "fail"), {}, log)


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], *sys.argv[3:]], verbosity=2)

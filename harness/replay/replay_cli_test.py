#!/usr/bin/python3
"""`smtp-harness replay` end to end against `smtp-harness serve` on loopback:
sessions recorded by a run replay with no difference against the same
server, with the expected differences against a differently configured one,
and every kind of bad input is one clear line and exit 2.

Usage: replay_cli_test.py PATH/TO/smtp-harness SOURCE_DIR
"""
import glob
import json
import os
import signal
import subprocess
import sys
import socket
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
import loopback  # noqa: E402
from transcript_bytes import escape_bytes  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/default/app/smtp-harness"
SRC = sys.argv[2] if len(sys.argv) > 2 else "."
CORE = os.path.join(SRC, "scenarios", "core")


class EchoServer:
    """A tiny SMTP server on a free loopback port, for a `with` block: it
    echoes what it receives in its replies (a hostile peer that would put
    AUTH secrets into reports), ends its EHLO reply with smtp-sink's bare
    "250 " line, and answers AUTH PLAIN/LOGIN with 235 whatever the
    credentials (the echo is what matters)."""

    def __init__(self):
        self.port = loopback.free_port()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.done = threading.Event()

    def __enter__(self):
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join(5)
        self.sock.close()

    def _serve(self):
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn):
        conn.settimeout(10)
        f = conn.makefile("rb")
        conn.sendall(b"220 echo.test ESMTP\r\n")
        state = None
        try:
            for raw in f:
                line = raw.rstrip(b"\r\n")
                verb = line.split(b" ")[0].upper()
                if state == "login-user":
                    conn.sendall(b"334 UGFzc3dvcmQ6\r\n")
                    state = "login-pass"
                elif state in ("login-pass", "plain"):
                    conn.sendall(b"235 2.7.0 accepted " + line + b"\r\n")
                    state = None
                elif verb == b"EHLO":
                    conn.sendall(b"250-echo.test\r\n250-AUTH PLAIN LOGIN\r\n250 \r\n")
                elif verb == b"AUTH":
                    parts = line.split(b" ")
                    if parts[1].upper() == b"PLAIN" and len(parts) > 2:
                        conn.sendall(b"235 2.7.0 accepted " + line + b"\r\n")
                    elif parts[1].upper() == b"PLAIN":
                        conn.sendall(b"334 \r\n")
                        state = "plain"
                    else:
                        conn.sendall(b"334 VXNlcm5hbWU6\r\n")
                        state = "login-user"
                elif verb == b"QUIT":
                    conn.sendall(b"221 2.0.0 bye " + line + b"\r\n")
                    break
                else:
                    conn.sendall(b"250 2.0.0 you said " + line + b"\r\n")
        except OSError:
            pass
        finally:
            conn.close()


def write_session(path, entries):
    with open(path, "w") as f:
        json.dump({"version": 1, "meta": {"source": "recorded"},
                   "entries": [{"t_us": i, "kind": k, "data": escape_bytes(d.encode())}
                               for i, (k, d) in enumerate(entries)]}, f)


class Replay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="smtp-harness-replay-")
        # Sessions to replay: a run's transcripts against `serve`.
        cls.recorded = os.path.join(cls.tmp.name, "recorded")
        with loopback.Serve(BIN, "--pregreet_delay_ms", "0") as srv:
            p = subprocess.run([BIN, "run", "--suite", CORE, "--target", "127.0.0.1:%d" % srv.port,
                                "--to", "someone@example.org",
                                "--out", cls.recorded], capture_output=True, timeout=120)
        assert p.returncode == 0, p.stderr.decode()
        cls.results = os.path.join(cls.recorded, "results.json")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def replay(self, name, *args, target=None):
        out = os.path.join(self.tmp.name, name)
        cmd = [BIN, "replay", "--out", out, "--timeout_ms", "3000", *args]
        if target:
            cmd += ["--target", target]
        p = subprocess.run(cmd, capture_output=True, timeout=120)
        return p.returncode, p.stdout.decode(), p.stderr.decode(), out

    def test_the_same_server_gives_no_difference(self):
        with loopback.Serve(BIN, "--pregreet_delay_ms", "0") as srv:
            rc, out, err, d = self.replay("same", self.results, "--compare", "text",
                                          target="127.0.0.1:%d" % srv.port)
        self.assertEqual(rc, 0, out + err)
        r = loopback.load_results(d)
        self.assertGreater(len(r["scenarios"]), 10)
        for s in r["scenarios"]:
            self.assertEqual(s["verdict"], "pass", s["reason"])
            self.assertEqual(s["replay"]["differences"], 0)
            self.assertEqual(s["transcript"]["meta"]["source"], "replay")
        for f in ("junit.xml", "index.html"):
            self.assertTrue(os.path.exists(os.path.join(d, f)), f)
        self.assertIn("the same, 0 differ at the text level", out)

    def test_a_different_server_gives_the_expected_differences(self):
        # Recipients at example.org are refused by this one.
        with loopback.Serve(BIN, "--pregreet_delay_ms", "0", "--local_domains",
                            "elsewhere.test") as srv:
            rc, out, err, d = self.replay("other", self.results, target="127.0.0.1:%d" % srv.port)
        self.assertEqual(rc, 1, out + err)
        r = loopback.load_results(d)
        failed = [s for s in r["scenarios"] if s["verdict"] == "fail"]
        self.assertTrue(failed, out)
        for s in failed:
            rows = [row for row in s["replay"]["rows"] if row["differs"]]
            self.assertEqual(rows[0]["differs"], "code")
            self.assertIn("RCPT", rows[0]["sent"])
            self.assertIn("550", rows[0]["replayed"])
        self.assertIn("DIFF", out)
        self.assertIn(r"the reply to", out)
        junit = open(os.path.join(d, "junit.xml")).read()
        self.assertIn("<failure", junit)

    def test_code_level_ignores_text_differences(self):
        with loopback.Serve(BIN, "--pregreet_delay_ms", "0", "--hostname", "other.example") as srv:
            rc, out, err, _ = self.replay("code", self.results, "--compare", "code",
                                          target="127.0.0.1:%d" % srv.port)
        self.assertEqual(rc, 0, out + err)

    def test_bad_input_is_one_line_and_exit_2(self):
        garbage = os.path.join(self.tmp.name, "garbage.json")
        with open(garbage, "w") as f:
            f.write('{"version": 1,\n "entries": [oops]}')
        badkind = os.path.join(self.tmp.name, "badkind.json")
        with open(badkind, "w") as f:
            json.dump({"version": 1, "entries": [{"t_us": 0, "kind": "c2s", "data": "x"},
                                                 {"t_us": 0, "kind": "what"}]}, f)
        empty = os.path.join(self.tmp.name, "empty")
        os.makedirs(empty, exist_ok=True)
        rules = os.path.join(self.tmp.name, "rules.json")
        with open(rules, "w") as f:
            json.dump({"rules": [{"name": "br", "pattern": "(a)\\1"}]}, f)
        cases = [
            ([garbage], "garbage.json: not valid JSON: parse error at line 2"),
            ([badkind], "badkind.json: transcript entry 1: unknown \"kind\""),
            ([empty], "no session files"),
            ([os.path.join(self.tmp.name, "missing.json")], "cannot open"),
            ([], "name the sessions to replay"),
            ([self.results, "--compare", "bytes"], "--compare: 'bytes' is not code, enhanced or text"),
            ([self.results, "--timing", "slow"], "--timing"),
            ([self.results, "--rules", rules], "rules[0] (\"br\"): bad regex"),
        ]
        for args, want in cases:
            rc, out, err, _ = self.replay("bad", *args)
            self.assertEqual(rc, 2, (args, out, err))
            self.assertIn(want, err, args)
            self.assertEqual(len(err.strip().splitlines()), 1, err)
        port = loopback.free_port()
        rc, out, err, d = self.replay("down", self.results, target="127.0.0.1:%d" % port)
        self.assertEqual(rc, 2, out + err)
        self.assertIn("ERROR", out)

    def test_credentials_given_for_redacted_auth_stay_out_of_reports(self):
        session = os.path.join(self.tmp.name, "auth.json")
        entries = [("s2c", "220 mx ESMTP\r\n"), ("c2s", "EHLO c.test\r\n"),
                   ("s2c", "250-mx\r\n250 AUTH PLAIN LOGIN\r\n"), ("c2s", "AUTH PLAIN ***\r\n"),
                   ("s2c", "235 2.7.0 Authentication successful\r\n"), ("c2s", "QUIT\r\n"),
                   ("s2c", "221 2.0.0 Bye\r\n")]
        with open(session, "w") as f:
            json.dump({"version": 1, "meta": {"source": "recorded"},
                       "entries": [{"t_us": i, "kind": k, "data": escape_bytes(d.encode())}
                                   for i, (k, d) in enumerate(entries)]}, f)
        with loopback.Serve(BIN, "--pregreet_delay_ms", "0", "--users", "alice:Sesame99",
                            "--auth_advertise", "always") as srv:
            rc, out, err, d = self.replay("auth", session, "--auth_user", "alice", "--auth_password",
                                          "Sesame99", target="127.0.0.1:%d" % srv.port)
        self.assertEqual(rc, 0, out + err)
        for f in ("results.json", "index.html", "junit.xml"):
            text = open(os.path.join(d, f)).read()
            self.assertNotIn("Sesame99", text, f)
            self.assertNotIn("AGFsaWNlAFNlc2FtZTk5", text, f)  # the PLAIN response
        r = loopback.load_results(d)
        self.assertIn("***", r["command_line"])

    def test_secrets_stay_out_of_every_stored_reply(self):
        # AUTH PLAIN and LOGIN, redacted (rebuilt from --auth_*) and kept in
        # clear (record --keep_secrets), against a server that echoes them.
        ehlo = [("s2c", "220 echo.test ESMTP\r\n"), ("c2s", "EHLO c.test\r\n"),
                ("s2c", "250-echo.test\r\n250-AUTH PLAIN LOGIN\r\n250 \r\n")]
        quit_ = [("c2s", "MAIL FROM:<a@b.test>\r\n"), ("s2c", "250 2.0.0 you said x\r\n"),
                 ("c2s", "QUIT\r\n"), ("s2c", "221 2.0.0 bye QUIT\r\n")]
        sessions = os.path.join(self.tmp.name, "echo-sessions")
        os.makedirs(sessions, exist_ok=True)
        plain_b64 = "AGFsaWNlAFNlc2FtZTk5"  # \0alice\0Sesame99
        write_session(os.path.join(sessions, "plain.json"), ehlo + [
            ("c2s", "AUTH PLAIN ***\r\n"), ("s2c", "235 2.7.0 accepted AUTH PLAIN ***\r\n")] + quit_)
        write_session(os.path.join(sessions, "plain2.json"), ehlo + [
            ("c2s", "AUTH PLAIN\r\n"), ("s2c", "334 \r\n"), ("c2s", "***\r\n"),
            ("s2c", "235 2.7.0 accepted ***\r\n")] + quit_)
        write_session(os.path.join(sessions, "login.json"), ehlo + [
            ("c2s", "AUTH LOGIN\r\n"), ("s2c", "334 VXNlcm5hbWU6\r\n"), ("c2s", "***\r\n"),
            ("s2c", "334 UGFzc3dvcmQ6\r\n"), ("c2s", "***\r\n"),
            ("s2c", "235 2.7.0 accepted ***\r\n")] + quit_)
        write_session(os.path.join(sessions, "login-kept.json"), ehlo + [
            ("c2s", "AUTH LOGIN\r\n"), ("s2c", "334 VXNlcm5hbWU6\r\n"), ("c2s", "YWxpY2U=\r\n"),
            ("s2c", "334 UGFzc3dvcmQ6\r\n"), ("c2s", "U2VzYW1lOTk=\r\n"),
            ("s2c", "235 2.7.0 accepted U2VzYW1lOTk=\r\n")] + quit_)
        with EchoServer() as srv:
            rc, out, err, d = self.replay("echo", sessions, "--auth_user", "alice",
                                          "--auth_password", "Sesame99", "--compare", "text",
                                          target="127.0.0.1:%d" % srv.port)
        self.assertIn(rc, (0, 1), out + err)
        r = loopback.load_results(d)
        self.assertEqual(len(r["scenarios"]), 4, out)
        for s in r["scenarios"]:
            self.assertIn(s["verdict"], ("pass", "fail"), s["reason"])
            self.assertTrue(any("***" in row["replayed"] for row in s["replay"]["rows"]), s["id"])
        for f in ("results.json", "index.html", "junit.xml"):
            text = open(os.path.join(d, f)).read()
            for secret in ("Sesame99", plain_b64, "U2VzYW1lOTk="):
                self.assertNotIn(secret, text, (f, secret))

    def test_smtp_sink_quirk_and_echoed_control_bytes_replay_the_same(self):
        # smtp-sink's bare "250 " ends the EHLO reply; replies echo control
        # bytes and a bare CR: read as `run` reads them, so "the same".
        session = os.path.join(self.tmp.name, "quirks.json")
        write_session(session, [
            ("s2c", "220 echo.test ESMTP\r\n"), ("c2s", "EHLO c.test\r\n"),
            ("s2c", "250-echo.test\r\n250-AUTH PLAIN LOGIN\r\n250 \r\n"),
            ("c2s", "NOOP \x01\x1b[31m\r\n"), ("s2c", "250 2.0.0 you said NOOP \x01\x1b[31m\r\n"),
            ("c2s", "NOOP a\rb 250 x\r\n"), ("s2c", "250 2.0.0 you said NOOP a\rb 250 x\r\n"),
            ("c2s", "QUIT\r\n"), ("s2c", "221 2.0.0 bye QUIT\r\n")])
        with EchoServer() as srv:
            rc, out, err, d = self.replay("quirks", session, "--compare", "text",
                                          target="127.0.0.1:%d" % srv.port)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("1 the same, 0 differ at the text level", out)
        self.assertEqual(out.count("needed leniency (trailing_whitespace, loose_reply_text)"), 1, out)
        r = loopback.load_results(d)
        self.assertEqual(r["target"]["banner"], "echo.test ESMTP")
        self.assertEqual(r["target"]["ehlo_lines"], ["AUTH PLAIN LOGIN", ""])
        html = open(os.path.join(d, "index.html")).read()
        self.assertIn("<title>smtp-harness replay: 127.0.0.1:%d</title>" % srv.port, html)

    def test_implicit_tls_and_cram_md5_recordings_replay_the_same(self):
        # record --upstream tls:..., a client that picks CRAM-MD5 (smtplib),
        # one AUTH that failed; replayed against the same server.
        import smtplib
        sys.path.insert(0, os.path.join(SRC, "tests", "pylib"))
        import recording
        rec = os.path.join(self.tmp.name, "tls-rec")
        with loopback.Serve(BIN, "--pregreet_delay_ms", "0", "--implicit_tls", "--users",
                            "alice:Sesame99", "--auth_advertise", "always") as srv:
            proc, port = recording.start_record(BIN, "tls:127.0.0.1:%d" % srv.port, rec)
            try:
                for password in ("Sesame99", "wrong"):
                    c = smtplib.SMTP("127.0.0.1", port, timeout=10)
                    c.ehlo("client.test")
                    try:
                        c.login("alice", password)
                        c.sendmail("a@client.test", ["postmaster@localhost"], "Subject: t\r\n\r\nhi\r\n")
                    except smtplib.SMTPAuthenticationError:
                        pass
                    c.quit()
            finally:
                recording.stop_record(proc)
            sessions = sorted(glob.glob(os.path.join(rec, "session-*.json")))
            self.assertEqual(len(sessions), 2)
            with open(sessions[0]) as f:
                self.assertIn("AUTH CRAM-MD5", f.read())
            target = "tls:127.0.0.1:%d" % srv.port
            rc, out, err, d = self.replay("tls", rec, "--auth_user", "alice", "--auth_password",
                                          "Sesame99", target=target)
            self.assertEqual(rc, 0, out + err)
            self.assertIn("2 the same, 0 differ", out)
            # Without credentials: the session that succeeded is skipped, the
            # failed one is replayed (with a wrong password) and is the same.
            rc, out, err, d = self.replay("tls-nocreds", rec, target=target)
            self.assertEqual(rc, 0, out + err)
            self.assertIn("1 the same, 0 differ at the enhanced level, 1 not replayable: AUTH "
                          "without credentials", out)
            # Only sessions that need credentials, and none given: usage error.
            rc, out, err, d = self.replay("tls-none", sessions[0], target=target)
            self.assertEqual(rc, 2, out + err)
            self.assertIn("no session can be replayed: AUTH without credentials", err)
            self.assertEqual(len(err.strip().splitlines()), 1, err)

    def test_a_recording_cut_by_its_storage_cap_is_not_replayable_past_the_cut(self):
        # record --max_session_bytes cuts the file in a DATA body: replay
        # compares what was stored and stops there at once (no timeouts).
        import smtplib
        sys.path.insert(0, os.path.join(SRC, "tests", "pylib"))
        import recording
        rec = os.path.join(self.tmp.name, "cut-rec")
        with loopback.Serve(BIN, "--pregreet_delay_ms", "0") as srv:
            proc, port = recording.start_record(BIN, "127.0.0.1:%d" % srv.port, rec,
                                                "--max_session_bytes", "300")
            try:
                c = smtplib.SMTP("127.0.0.1", port, timeout=10)
                c.ehlo("client.test")
                c.sendmail("a@client.test", ["postmaster@localhost"],
                           "Subject: t\r\n\r\n" + "hello world\r\n" * 50)
                c.quit()
            finally:
                recording.stop_record(proc)
            start = time.monotonic()
            rc, out, err, d = self.replay("cut", rec, target="127.0.0.1:%d" % srv.port)
            elapsed = time.monotonic() - start
        self.assertEqual(rc, 0, out + err)
        self.assertLess(elapsed, 5, out)
        self.assertIn("0 the same, 0 differ at the enhanced level, 1 not replayable: truncated "
                      "recording", out)
        s = loopback.load_results(d)["scenarios"][0]
        self.assertEqual(s["verdict"], "skip")
        self.assertEqual([row["differs"] for row in s["replay"]["rows"]], [""] * 3, s["reason"])

    def test_sigint_keeps_the_reports(self):
        with loopback.Serve(BIN, "--behavior", "slow", "--slow_delay_ms", "400") as srv:
            out = os.path.join(self.tmp.name, "sigint")
            p = subprocess.Popen([BIN, "replay", self.results, "--jobs", "1", "--out", out,
                                  "--target", "127.0.0.1:%d" % srv.port],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(2.5)
            p.send_signal(signal.SIGINT)
            p.communicate(timeout=30)
        self.assertEqual(p.returncode, 130)
        r = loopback.load_results(out)
        self.assertFalse(r["complete"])
        self.assertTrue(os.path.exists(os.path.join(out, "index.html")))


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0]], verbosity=2)

#!/usr/bin/env python3
"""smtp-harness record end to end, in front of `smtp-harness serve`: the live
lines, the session files, SIGINT with a session open (its partial transcript
is written, exit 0), AUTH redaction with --intercept_tls, and the usage
errors (exit 2).

usage: record_cli_test.py SMTP_HARNESS"""
import base64
import shutil
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "pylib"))
from checks import check, exit_status  # noqa: E402
import recording  # noqa: E402
from transcript_bytes import side_bytes  # noqa: E402

BIN = sys.argv[1]


def send_one(port, starttls=False, login=None):
    s = smtplib.SMTP("127.0.0.1", port, timeout=10)
    s.ehlo("c.test")
    if starttls:
        s.starttls()
        s.ehlo("c.test")
    if login:
        s.user, s.password = login
        s.auth("PLAIN", s.auth_plain)
    s.sendmail("a@x.test", ["b@localhost"], "Subject: t\r\n\r\nhello\r\n")
    s.quit()


def main():
    tmp = tempfile.mkdtemp(prefix="record-cli-")
    serve, serve_port = recording.start_with_port_file(
        [BIN, "serve", "--listen", "127.0.0.1:0", "--port_file", tmp + "/serve.port",
         "--pregreet_delay_ms", "0", "--users", "alice:s3cret-pw"], tmp + "/serve.port")
    upstream = "127.0.0.1:%d" % serve_port
    try:
        # 1. A plain session, then one left open at SIGINT.
        out = tmp + "/plain"
        rec, port = recording.start_record(BIN, upstream, out, "--shutdown_grace_ms", "300")
        send_one(port)
        held = socket.create_connection(("127.0.0.1", port), timeout=5)
        held.recv(512)
        held.sendall(b"EHLO held.test\r\n")
        time.sleep(0.3)
        started = time.monotonic()
        rc, stdout, stderr = recording.stop_record(rec)
        check(rc == 0, "exit 0 after SIGINT (got %s: %s)" % (rc, stderr))
        check(time.monotonic() - started < 5, "the stop took the grace, not the idle timeout")
        lines = stdout.splitlines()
        check(lines[0].startswith("smtp-harness record: listening on 127.0.0.1:%d" % port),
              "banner: %r" % lines[0])
        check(any(l.startswith("#1 127.0.0.1:") and "5 commands" in l and
                  l.endswith("-> %s/session-000001.json" % out) for l in lines),
              "live line of session 1: %r" % stdout)
        check(any(l.startswith("#2 ") and l.endswith("[shutdown]") for l in lines),
              "live line of the cut session: %r" % stdout)
        check(lines[-1].startswith("smtp-harness record: stopped after 2 sessions, 2 saved"),
              "closing line: %r" % lines[-1])
        s = recording.sessions(out)
        check(len(s) == 2, "two session files")
        if len(s) == 2:
            c2s = side_bytes(s[0], "c2s")
            check(c2s.startswith(b"ehlo c.test\r\nmail FROM:<a@x.test>"), "c2s: %r" % c2s[:60])
            check(c2s.endswith(b"quit\r\n"), "ends with QUIT: %r" % c2s[-20:])
            check(side_bytes(s[0], "s2c").startswith(b"220 "), "greeting recorded")
            check(s[0]["meta"]["source"] == "recorded", "meta source")
            check(s[0]["meta"]["server"] == upstream, "meta server")
            check(side_bytes(s[1], "c2s") == b"EHLO held.test\r\n", "partial session kept")
            check(s[1]["entries"][-1]["kind"] == "local_close", "cut session marked")
        held.close()

        # 2. STARTTLS intercepted and AUTH PLAIN: the secret is redacted.
        out = tmp + "/tls"
        rec, port = recording.start_record(BIN, upstream, out, "--intercept_tls")
        send_one(port, starttls=True, login=("alice", "s3cret-pw"))
        rc, stdout, _ = recording.stop_record(rec)
        check(rc == 0, "exit 0 (intercept)")
        check("[tls redacted]" in stdout, "notes tls and redacted: %r" % stdout)
        secret = base64.b64encode(b"\0alice\0s3cret-pw").decode()
        text = open(out + "/session-000001.json").read()
        check(secret not in text, "AUTH PLAIN response redacted")
        check("AUTH PLAIN ***" in text, "the redaction marker is in its place")
        s = recording.sessions(out)[0]
        check("tls" in recording.kinds(s), "a tls entry")
        check(b"235 " in side_bytes(s, "s2c"), "the plaintext after TLS is recorded")

        # 3. Usage and bind errors: exit 2.
        for args, what in [
            (["--out", tmp + "/x"], "--upstream: required"),
            (["--upstream", "exec:cat", "--out", tmp + "/x"], "--upstream: expected"),
            (["--upstream", upstream], "--out: an output directory is required"),
            (["--upstream", upstream, "--out", tmp + "/y", "--listen", upstream],
             "cannot listen on"),
            (["--upstream", upstream, "--out", tmp + "/y", "--max_sessions", "0"],
             "--max_sessions: must be at least 1"),
        ]:
            p = subprocess.run([BIN, "record"] + args, capture_output=True, text=True,
                               timeout=30)
            check(p.returncode == 2 and what in p.stderr,
                  "%s: exit 2 with %r (got %d: %r)" % (args, what, p.returncode, p.stderr))
    finally:
        serve.terminate()
        serve.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    return exit_status("record_cli_test")


if __name__ == "__main__":
    sys.exit(main())

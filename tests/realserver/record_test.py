#!/usr/bin/env python3
"""swaks and Python's smtplib send through `smtp-harness record` to a real
server (Postfix or aiosmtpd, started by scripts/real-servers.sh): plain SMTP,
STARTTLS (blind: recorded up to the upgrade; and with --intercept_tls:
recorded in plaintext) and pipelining. Each recorded file must hold the
commands sent and the server's replies, and the mail must go through.

usage: record_test.py SMTP_HARNESS NAME HOST:PORT"""
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import checks  # noqa: E402
from checks import exit_status  # noqa: E402
import recording  # noqa: E402
from transcript_bytes import side_bytes, side_chunks  # noqa: E402

BIN, NAME, UPSTREAM = sys.argv[1:4]
FROM, TO = "probe@client.example.org", "user@example.test"


def check(cond, what):
    return checks.check(cond, "%s: %s" % (NAME, what))


def swaks(port, *extra):
    p = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % port, "--from", FROM, "--to", TO,
                        "--helo", "client.example.org", "--timeout", "20"] + list(extra),
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "swaks %s exit %d: %s" % (" ".join(extra), p.returncode,
                                                      p.stdout[-600:]))


def smtplib_send(port, starttls):
    s = smtplib.SMTP("127.0.0.1", port, timeout=20)
    s.ehlo("client.example.org")
    if starttls:
        s.starttls()
        s.ehlo("client.example.org")
    s.sendmail(FROM, [TO], "Subject: via smtplib\r\n\r\nhello\r\n")
    s.quit()


def pipelined_raw(port):
    """MAIL, RCPT and DATA in one write (RFC 2920), whatever the server says."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as c:
        f = c.makefile("rb")

        def reply():
            while True:
                line = f.readline()
                if len(line) < 4 or line[3:4] != b"-":
                    return line

        reply()
        c.sendall(b"EHLO client.example.org\r\n")
        reply()
        c.sendall(b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n" % (FROM.encode(), TO.encode()))
        codes = [reply()[:3] for _ in range(3)]
        check(codes == [b"250", b"250", b"354"], "pipelined replies %r" % codes)
        c.sendall(b"Subject: pipelined\r\n\r\nhello\r\n.\r\nQUIT\r\n")
        reply()
        reply()


def expect_transaction(s, what, until_tls=False):
    c2s, s2c = side_bytes(s, "c2s"), side_bytes(s, "s2c")
    check(s2c.startswith(b"220 "), "%s: the greeting is recorded" % what)
    check(s["meta"]["source"] == "recorded" and s["meta"]["server"] == UPSTREAM,
          "%s: meta %r" % (what, s["meta"]))
    if until_tls:
        check(c2s.upper().endswith(b"STARTTLS\r\n"), "%s: c2s up to STARTTLS: %r" % (what, c2s))
        check(s["entries"][-2]["kind"] == "tls_opaque" or "tls_opaque" in recording.kinds(s),
              "%s: tls_opaque entry" % what)
        return
    for cmd in (b"MAIL FROM:<" + FROM.encode(), b"RCPT TO:<" + TO.encode(), b"DATA\r\n",
                b"QUIT\r\n"):
        check(cmd.upper() in c2s.upper(), "%s: %r in c2s" % (what, cmd))
    check(b"\r\n354 " in s2c or s2c.startswith(b"354 ") or b"354 " in s2c,
          "%s: 354 in s2c" % what)
    check(b"221 " in s2c, "%s: 221 in s2c" % what)
    check("tls_opaque" not in recording.kinds(s), "%s: no tls_opaque" % what)


def main():
    tmp = tempfile.mkdtemp(prefix="record-%s-" % NAME)
    rec = None
    try:
        # Without interception.
        out = tmp + "/blind"
        rec, port = recording.start_record(BIN, UPSTREAM, out)
        swaks(port)                      # 1 plain
        swaks(port, "-tls")              # 2 STARTTLS
        smtplib_send(port, False)        # 3 plain
        smtplib_send(port, True)         # 4 STARTTLS
        if NAME == "postfix":
            swaks(port, "--pipeline")    # 5 pipelining (Postfix offers it)
        else:
            pipelined_raw(port)          # 5 aiosmtpd reads pipelined commands all the same
        rc, stdout, stderr = recording.stop_record(rec)
        check(rc == 0, "record exit %s: %s" % (rc, stderr))
        s = recording.sessions(out)
        check(len(s) == 5, "5 sessions recorded (got %d): %s" % (len(s), stdout))
        if len(s) == 5:
            expect_transaction(s[0], "swaks plain")
            expect_transaction(s[1], "swaks -tls", until_tls=True)
            expect_transaction(s[2], "smtplib plain")
            expect_transaction(s[3], "smtplib starttls", until_tls=True)
            expect_transaction(s[4], "pipelining")
            group = b"MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\n" % (FROM.encode(), TO.encode())
            check(any(group in c.upper().replace(b"FROM:<" + FROM.upper().encode(),
                                                 b"FROM:<" + FROM.encode())
                      .replace(b"TO:<" + TO.upper().encode(), b"TO:<" + TO.encode())
                      for c in side_chunks(s[4], "c2s")),
                  "MAIL and RCPT pipelined in one chunk: %r" % side_chunks(s[4], "c2s"))
            check("[tls_opaque]" in stdout, "live lines note tls_opaque")

        # With --intercept_tls: the session after STARTTLS in plaintext.
        out = tmp + "/intercept"
        rec, port = recording.start_record(BIN, UPSTREAM, out, "--intercept_tls")
        swaks(port, "-tls")
        smtplib_send(port, True)
        rc, stdout, stderr = recording.stop_record(rec)
        check(rc == 0, "record --intercept_tls exit %s: %s" % (rc, stderr))
        s = recording.sessions(out)
        check(len(s) == 2, "2 intercepted sessions (got %d)" % len(s))
        for i, what in enumerate(["swaks -tls intercepted", "smtplib starttls intercepted"]):
            if i < len(s):
                expect_transaction(s[i], what)
                kinds = recording.kinds(s[i])
                check("tls" in kinds, "%s: a tls entry" % what)
                after = side_bytes(s[i], "c2s").upper().split(b"STARTTLS\r\n", 1)
                check(len(after) == 2 and after[1].startswith(b"EHLO "),
                      "%s: EHLO again after TLS" % what)
    finally:
        if rec is not None and rec.poll() is None:
            # A step failed with the proxy running: its live lines tell why.
            _, stdout, stderr = recording.stop_record(rec)
            print("record output:\n%s%s" % (stdout, stderr))
        shutil.rmtree(tmp, ignore_errors=True)
    return exit_status("record_test %s" % NAME)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A pipelined AUTH leaves no secret on disk, through `record` and through
`import-pcap` of a real tcpdump capture (issue 25): for PLAIN and LOGIN, with
and without an initial response, the responses written together with the
AUTH command (and with the next command), for CRAM-MD5 the response written
together with the next command, each also cut into 3-byte writes. No file
under either --out holds the base64 responses or the password, and the
commands after the exchange are stored as sent. The upstream is `smtp-harness
serve --users alice:PASSWORD --auth_advertise always`.

Needs root (tcpdump on lo) and tcpdump (scripts/install-deps.sh).
usage: pipelined_auth_cli_test.py SMTP_HARNESS"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
from checks import check, exit_status  # noqa: E402
from pcap_capture import Tcpdump  # noqa: E402
import recording  # noqa: E402
from transcript_bytes import side_bytes  # noqa: E402

BIN = sys.argv[1]
USER, PASSWORD = "alice", "s3cretPW-7f2"
B64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
PLAIN = B64(b"\0" + USER.encode() + b"\0" + PASSWORD.encode())
LOGIN_USER, LOGIN_PASS = B64(USER.encode()), B64(PASSWORD.encode())
AFTER = "MAIL FROM:<a@x.test>\r\n"


class Client:
    """A raw SMTP client that writes exactly what it is told, in pieces of
    `piece` bytes (0: one write), and reads whole replies with a deadline."""

    def __init__(self, port, piece):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.piece = piece
        self.buf = b""

    def send(self, text):
        data = text.encode()
        if not self.piece:
            self.sock.sendall(data)
            return
        for i in range(0, len(data), self.piece):
            self.sock.sendall(data[i:i + self.piece])
            time.sleep(0.002)

    def replies(self, n):
        """The next `n` replies (their last lines)."""
        out = []
        while len(out) < n:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(4096)
                if not chunk:
                    raise RuntimeError("closed after %r" % out)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            if len(line) < 4 or line[3:4] != b"-":
                out.append(line.decode())
        return out

    def close(self):
        self.sock.close()


def cram_response(challenge_line):
    challenge = base64.b64decode(challenge_line[4:])
    digest = hmac.new(PASSWORD.encode(), challenge, hashlib.md5).hexdigest()
    return B64(("%s %s" % (USER, digest)).encode())


def session(port, mech, piece):
    """One session; returns the AUTH responses sent (the secrets' wire forms)."""
    c = Client(port, piece)
    c.replies(1)
    c.send("EHLO c.test\r\n")
    c.replies(1)
    sent = []
    if mech == "plain":
        c.send("AUTH PLAIN\r\n" + PLAIN + "\r\n" + AFTER)
        sent = [PLAIN]
        r = c.replies(3)
    elif mech == "plain-ir":
        c.send("AUTH PLAIN " + PLAIN + "\r\n" + AFTER)
        sent = [PLAIN]
        r = c.replies(2)
    elif mech == "login":
        c.send("AUTH LOGIN\r\n" + LOGIN_USER + "\r\n" + LOGIN_PASS + "\r\n")
        sent = [LOGIN_USER, LOGIN_PASS]
        r = c.replies(3)
        c.send(AFTER)
        r += c.replies(1)
    elif mech == "login-ir":
        c.send("AUTH LOGIN " + LOGIN_USER + "\r\n" + LOGIN_PASS + "\r\n" + AFTER)
        sent = [LOGIN_USER, LOGIN_PASS]
        r = c.replies(3)
    else:  # cram-md5: the response needs the challenge
        c.send("AUTH CRAM-MD5\r\n")
        challenge = c.replies(1)[0]
        resp = cram_response(challenge)
        c.send(resp + "\r\n" + AFTER)
        sent = [resp]
        r = [challenge] + c.replies(2)
    check(any(x.startswith("235") for x in r), "%s/%d: authenticated: %r" % (mech, piece, r))
    check(r[-1].startswith("250"), "%s/%d: MAIL accepted: %r" % (mech, piece, r))
    c.send("RCPT TO:<b@localhost>\r\nDATA\r\n")
    c.replies(2)
    c.send("Subject: t\r\n\r\nhello\r\n.\r\nQUIT\r\n")
    c.replies(2)
    c.close()
    return sent


def files_under(root):
    for d, _, names in os.walk(root):
        for n in names:
            with open(os.path.join(d, n), "rb") as f:
                yield os.path.join(d, n), f.read()


def check_out(where, out, secrets, expect_sessions, sessions):
    leaked = [(path, s) for path, data in files_under(out) for s in secrets
              if s.encode() in data]
    check(not leaked, "%s: no secret in any file under --out: %r" % (where, leaked[:3]))
    check(len(sessions) == expect_sessions,
          "%s: %d sessions stored (got %d)" % (where, expect_sessions, len(sessions)))
    for i, s in enumerate(sessions):
        c2s = side_bytes(s, "c2s")
        check(c2s.count(AFTER.encode()) == 1, "%s #%d: the MAIL after AUTH stored as sent: %r"
              % (where, i + 1, c2s[:200]))
        check(b"RCPT TO:<b@localhost>\r\nDATA\r\n" in c2s and c2s.endswith(b".\r\nQUIT\r\n"),
              "%s #%d: the commands after it stored as sent: %r" % (where, i + 1, c2s[-80:]))
        check(b"***" in c2s, "%s #%d: the redaction marker stands for the secret" % (where, i + 1))


def main():
    if shutil.which("tcpdump") is None:
        print("FAIL: tcpdump is not installed (scripts/install-deps.sh)")
        return 1
    tmp = tempfile.mkdtemp(prefix="pipelined-auth-")
    serve, serve_port = recording.start_with_port_file(
        [BIN, "serve", "--listen", "127.0.0.1:0", "--port_file", tmp + "/serve.port",
         "--pregreet_delay_ms", "0", "--auth_advertise", "always",
         "--users", "%s:%s" % (USER, PASSWORD)], tmp + "/serve.port")
    cases = [(m, p) for m in ("plain", "plain-ir", "login", "login-ir", "cram-md5")
             for p in (0, 3)]
    secrets = [PASSWORD, PLAIN, LOGIN_PASS]
    try:
        # 1. Through the recording proxy.
        out = tmp + "/record"
        rec, port = recording.start_record(BIN, "127.0.0.1:%d" % serve_port, out)
        for mech, piece in cases:
            secrets += session(port, mech, piece)
        rc, stdout, stderr = recording.stop_record(rec)
        check(rc == 0, "record: exit 0 (%s)" % stderr)
        check_out("record", out, secrets, len(cases), recording.sessions(out))

        # 2. The same sessions straight to the server, under tcpdump.
        pcap = tmp + "/lo.pcap"
        with Tcpdump(pcap, serve_port):
            for mech, piece in cases:
                secrets += session(serve_port, mech, piece)
        out = tmp + "/import"
        p = subprocess.run([BIN, "import-pcap", pcap, "--out", out, "--port", str(serve_port)],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode == 0, "import-pcap: exit 0 (%s)" % p.stderr)
        check("AUTH secrets redacted in %d" % len(cases) in p.stdout,
              "import-pcap says it redacted: %r" % p.stdout)
        imported = []
        for name in sorted(os.listdir(out)):
            with open(os.path.join(out, name)) as f:
                imported.append(json.load(f))
        check_out("import-pcap", out, secrets, len(cases), imported)
    finally:
        serve.terminate()
        serve.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
    return exit_status("pipelined_auth_cli_test")


if __name__ == "__main__":
    sys.exit(main())

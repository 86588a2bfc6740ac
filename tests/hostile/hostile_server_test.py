#!/usr/bin/python3
"""Smoke tests of tests/hostile/hostile_server.py: each mode starts and
behaves as its docstring says, checked with a raw socket. Every wait is
bounded; the only timings asserted are lower bounds the server cannot beat
(its own sleeps).

Usage: hostile_server_test.py [unittest args]
"""
import base64
import os
import re
import socket
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from hostile import Hostile  # noqa: E402

TIMEOUT_S = 10
ENDLESS_BYTES = 256 * 1024  # what "forever" is checked up to
EHLO_REPLY = (b"250-hostile.test greets client.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
              b"250-SIZE 1000000\r\n250 AUTH PLAIN LOGIN\r\n")
BLOB = base64.b64encode(b"\0alice\0s3cret-pw")


class Client:
    """A raw socket with bounded reads."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
        self.buf = b""

    def close(self):
        self.s.close()

    def send(self, data):
        self.s.sendall(data)

    def read_until(self, end):
        """Bytes up to and including `end`; fails on EOF or after TIMEOUT_S."""
        while end not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise AssertionError("EOF before %r; got %r" % (end, self.buf[-200:]))
            self.buf += chunk
        at = self.buf.index(end) + len(end)
        out, self.buf = self.buf[:at], self.buf[at:]
        return out

    def read_reply(self):
        """One whole reply (the line whose fourth octet is a space ends it)."""
        out = b""
        while True:
            line = self.read_until(b"\r\n")
            out += line
            if line[3:4] != b"-":
                return out

    def read_at_least(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(65536)
            if not chunk:
                raise AssertionError("EOF after %d bytes" % len(self.buf))
            self.buf += chunk
        out, self.buf = self.buf, b""
        return out

    def greeted(self):
        greeting = self.read_reply()
        assert greeting.startswith(b"220 "), greeting
        return self

    def ehlo(self):
        self.send(b"EHLO client.test\r\n")
        return self.read_reply()


class HostileServerModes(unittest.TestCase):
    def test_normal_session(self):
        with Hostile("normal") as h:
            c = Client(h.port).greeted()
            self.assertEqual(c.ehlo(), EHLO_REPLY)
            cases = [
                (b"MAIL FROM:<a@b.test>", b"250 2.1.0 Ok\r\n"),
                (b"RCPT TO:<c@d.test>", b"250 2.1.5 Ok\r\n"),
                (b"DATA", b"354 End data with <CR><LF>.<CR><LF>\r\n"),
                (b"Subject: hi\r\n\r\nbody\r\n.", b"250 2.0.0 Ok: queued\r\n"),
                (b"AUTH PLAIN " + BLOB, b"235 2.7.0 Authentication successful\r\n"),
                (b"AUTH PLAIN " + BLOB, b"503 5.5.1 already authenticated\r\n"),
                (b"RCPT TO:<c@d.test>", b"503 5.5.1 MAIL first\r\n"),
                (b"RSET", b"250 2.0.0 Ok\r\n"),
                (b"NOOP", b"250 2.0.0 Ok\r\n"),
                (b"VRFY alice", b"252 2.5.2 Cannot VRFY user\r\n"),
                (b"HELO client.test", b"250 hostile.test\r\n"),
                (b"STARTTLS", b"502 5.5.1 STARTTLS not offered\r\n"),
                (b"BOGUS", b"500 5.5.2 command not recognized\r\n"),
                (b"QUIT", b"221 2.0.0 Bye\r\n"),
            ]
            for command, want in cases:
                c.send(command + b"\r\n")
                self.assertEqual(c.read_reply(), want, command)
            self.assertEqual(c.s.recv(1), b"")  # closed after QUIT
            c.close()

    def test_normal_auth_login_and_bad_credentials(self):
        with Hostile("normal", "--user", "bob", "--password", "pw") as h:
            c = Client(h.port).greeted()
            c.ehlo()
            c.send(b"AUTH PLAIN " + BLOB + b"\r\n")
            self.assertEqual(c.read_reply(), b"535 5.7.8 bad credentials\r\n")
            c.send(b"AUTH LOGIN\r\n")
            self.assertEqual(c.read_reply(), b"334 VXNlcm5hbWU6\r\n")
            c.send(base64.b64encode(b"bob") + b"\r\n")
            self.assertEqual(c.read_reply(), b"334 UGFzc3dvcmQ6\r\n")
            c.send(base64.b64encode(b"pw") + b"\r\n")
            self.assertEqual(c.read_reply(), b"235 2.7.0 Authentication successful\r\n")
            c.close()

    def test_normal_serves_many_connections_at_once(self):
        with Hostile("normal") as h:
            clients = [Client(h.port) for _ in range(50)]
            for c in clients:
                c.greeted()
            for c in clients:
                c.send(b"NOOP\r\n")
            for c in clients:
                self.assertEqual(c.read_reply(), b"250 2.0.0 Ok\r\n")
                c.close()

    def test_stream_after_quit(self):
        with Hostile("stream-after-quit") as h:
            c = Client(h.port).greeted()
            c.ehlo()
            c.send(b"QUIT\r\n")
            got = c.read_at_least(ENDLESS_BYTES)
            whole = len(got) - len(got) % 9
            self.assertEqual(got[:whole], b"221 bye\r\n" * (whole // 9))
            c.close()

    def test_split_echo(self):
        split, delay_ms = 2, 5
        with Hostile("split-echo", "--split", str(split), "--split_delay_ms", str(delay_ms)) as h:
            c = Client(h.port).greeted()
            self.assertEqual(c.ehlo(), EHLO_REPLY)  # only AUTH replies are split
            line = b"AUTH PLAIN " + BLOB
            want = b"535 5.7.8 bad credentials: " + line + b"\r\n"
            start = time.monotonic()
            c.send(line + b"\r\n")
            self.assertEqual(c.read_reply(), want)
            # len(want) / split writes with delay_ms between them.
            pauses = (len(want) + split - 1) // split - 1
            self.assertGreaterEqual(time.monotonic() - start, pauses * delay_ms / 1000.0 * 0.9)
            # Continuation lines are echoed in the final reply; 334s are not.
            c.send(b"AUTH LOGIN\r\n")
            self.assertEqual(c.read_reply(), b"334 VXNlcm5hbWU6\r\n")
            c.send(b"YWxpY2U=\r\n")
            self.assertEqual(c.read_reply(), b"334 UGFzc3dvcmQ6\r\n")
            c.send(b"czNjcmV0LXB3\r\n")
            self.assertEqual(c.read_reply(), b"535 5.7.8 bad credentials: czNjcmV0LXB3\r\n")
            c.send(b"AUTH PLAIN\r\n")
            self.assertEqual(c.read_reply(), b"334 \r\n")
            c.send(BLOB + b"\r\n")
            self.assertEqual(c.read_reply(), b"535 5.7.8 bad credentials: " + BLOB + b"\r\n")
            c.close()

    def test_silent(self):
        with Hostile("silent") as h:
            c = Client(h.port)
            c.s.settimeout(1)
            c.send(b"EHLO client.test\r\n")
            with self.assertRaises(socket.timeout):
                c.s.recv(1)
            c.send(b"NOOP\r\n")  # still open: no reset, no EOF
            with self.assertRaises(socket.timeout):
                c.s.recv(1)
            c.close()

    def test_bad_ehlo(self):
        with Hostile("bad-ehlo") as h:
            c = Client(h.port).greeted()
            c.send(b"EHLO client.test\r\n")
            self.assertEqual(c.read_until(b"y\r\n"), b"250-x\r\n25O y\r\n")
            c.send(b"NOOP\r\n")
            self.assertEqual(c.read_reply(), b"250 2.0.0 Ok\r\n")
            c.close()

    def test_flood(self):
        with Hostile("flood") as h:
            c = Client(h.port).greeted()
            got = c.read_at_least(ENDLESS_BYTES)
            lines = got.split(b"\r\n")[:-1]  # the last may be cut
            self.assertGreater(len(lines), 1000)
            for line in lines:
                self.assertRegex(line, re.compile(rb"^250-flood \d{6} garbage$"))
            c.close()

    def test_endless_line(self):
        with Hostile("endless-line") as h:
            c = Client(h.port).greeted()
            got = c.read_at_least(ENDLESS_BYTES)
            self.assertEqual(got, b"x" * len(got))
            c.close()

    def test_drip(self):
        with Hostile("drip", "--drip_ms", "200") as h:
            start = time.monotonic()
            c = Client(h.port)
            got = b""
            while len(got) < 3:
                chunk = c.s.recv(100)
                self.assertNotEqual(chunk, b"", got)
                got += chunk
            # The third byte comes two 200 ms pauses after the first (0.3 s
            # leaves room for a coarse clock).
            self.assertGreaterEqual(time.monotonic() - start, 0.3)
            self.assertTrue(got.startswith(b"220"), got)
            c.close()


if __name__ == "__main__":
    unittest.main()

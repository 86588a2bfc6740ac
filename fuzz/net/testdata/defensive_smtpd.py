#!/usr/bin/env python3
"""A small, correct SMTP server with a defence, for the network fuzzer's
tests (fuzz_defence_cli_test.py): like aiosmtpd, after its third
unrecognized command it says "502 5.5.1 Too many unrecognized commands,
goodbye." and closes; QUIT gets "221 2.0.0 Bye" and the close. Lines end at
CRLF or a bare LF; every line outside DATA gets one reply; a message ends
at CRLF "." CRLF only. --slow writes
each reply 3 bytes at a time, 40 ms apart (a slow-writing server).

--late-close says "500 5.5.1 Invalid command: Pipelining not supported"
instead of the goodbye (no word of closing) and closes 10 ms later, as
OpenSMTPD does: a client that writes at once overtakes the close.

--single serves one connection at a time, and "VRFY HANG" makes it stop
answering for good (a hung server: every later connection waits too).

--throttle S: "VRFY CRASH" closes the connection without a word (a crash),
and for S seconds after it every connection is closed before the greeting
(a master that stops starting its server for a while after a crash, as
Postfix's does for 60 s).

Usage: defensive_smtpd.py PORT_FILE [--slow] [--single] [--late-close] [--throttle S] [--port N]
(listens on 127.0.0.1:N, 0 by default, and writes the port to PORT_FILE)."""
import socket
import socketserver
import sys
import time

SLOW = "--slow" in sys.argv
SINGLE = "--single" in sys.argv
LATE_CLOSE = "--late-close" in sys.argv
PORT = int(sys.argv[sys.argv.index("--port") + 1]) if "--port" in sys.argv else 0
THROTTLE = float(sys.argv[sys.argv.index("--throttle") + 1]) if "--throttle" in sys.argv else 0
down_until = 0.0
KNOWN = {b"EHLO", b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP", b"VRFY", b"DATA", b"QUIT", b"HELP"}


class Handler(socketserver.StreamRequestHandler):
    timeout = 30

    def send(self, line):
        data = line + b"\r\n"
        if SLOW:
            for i in range(0, len(data), 3):
                self.wfile.write(data[i:i + 3])
                self.wfile.flush()
                time.sleep(0.04)
        else:
            self.wfile.write(data)
            self.wfile.flush()

    def handle(self):
        try:
            self.serve()
        except (OSError, socket.timeout):
            pass

    def serve(self):
        global down_until
        if time.monotonic() < down_until:
            return
        self.send(b"220 defensive.test ESMTP")
        unknown = 0
        in_data = False
        after_crlf = True
        while True:
            raw = self.rfile.readline(1 << 20)
            if not raw:
                return
            line = raw.rstrip(b"\r\n")
            if in_data:
                # Only CRLF . CRLF ends a message (no smuggling here): the
                # line before the dot must have ended with CRLF too.
                if raw == b".\r\n" and after_crlf:
                    in_data = False
                    self.send(b"250 2.0.0 Ok: queued")
                after_crlf = raw.endswith(b"\r\n")
                continue
            verb = line.split(b" ", 1)[0].upper()
            if THROTTLE and line.upper() == b"VRFY CRASH":
                down_until = time.monotonic() + THROTTLE
                return
            if SINGLE and line.upper() == b"VRFY HANG":
                while True:
                    time.sleep(3600)
            if verb not in KNOWN:
                unknown += 1
                if unknown >= 3:
                    if LATE_CLOSE:
                        self.send(b"500 5.5.1 Invalid command: Pipelining not supported")
                        time.sleep(0.01)
                        return
                    self.send(b"502 5.5.1 Too many unrecognized commands, goodbye.")
                    return
                self.send(b"500 5.5.2 Error: command not recognized")
            elif verb == b"QUIT":
                self.send(b"221 2.0.0 Bye")
                return
            elif verb == b"DATA":
                in_data = True
                after_crlf = raw.endswith(b"\r\n")  # the DATA line's own line end
                self.send(b"354 End data with <CR><LF>.<CR><LF>")
            else:
                self.send(b"250 2.0.0 Ok")


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SingleServer(socketserver.TCPServer):
    allow_reuse_address = True


def main():
    server = (SingleServer if SINGLE else Server)(("127.0.0.1", PORT), Handler)
    with open(sys.argv[1], "w") as f:
        f.write(str(server.server_address[1]))
    server.serve_forever()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""aiosmtpd conformance target for smtp-harness (started by scripts/real-servers.sh).

Runs Debian's aiosmtpd (python3-aiosmtpd) in the foreground on HOST:PORT with:
  - hostname mx.test, SMTPUTF8 and 8BITMIME advertised, SIZE 10240000;
  - STARTTLS with the given certificate and key (offered, not required);
  - AUTH PLAIN and LOGIN, also before STARTTLS, for one test account
    (--auth-user / --auth-password); other credentials get 535;
  - RCPT accepted for any local part at example.test, localhost or mx.test,
    anything else refused with 550 5.7.1;
  - each accepted message written as raw bytes into MAILDIR/new, prefixed by
    Return-Path and Delivered-To lines (one file per recipient set).
It binds and loads the key as root, then drops to --user (default nobody).
Must run with /usr/bin/python3: other interpreters may not see aiosmtpd.
"""

import argparse
import asyncio
import logging
import os
import pwd
import signal
import socket
import ssl
import sys
import time

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

LOCAL_DOMAINS = ("example.test", "localhost", "mx.test")
SIZE_LIMIT = 10240000


class Handler:
    """Accepts local domains only and stores each message in a Maildir."""

    def __init__(self, maildir):
        self.maildir = maildir
        self.counter = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        # RFC 5321 §4.5.1: <Postmaster> (any case, no domain) must be accepted.
        is_postmaster = "@" not in address and address.lower() == "postmaster"
        domain = address.rpartition("@")[2].lower()
        if not is_postmaster and domain not in LOCAL_DOMAINS:
            return "550 5.7.1 <%s>: relaying denied" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.counter += 1
        name = "%d.P%dQ%d.mx.test" % (time.time(), os.getpid(), self.counter)
        head = "Return-Path: <%s>\r\nDelivered-To: %s\r\n" % (
            envelope.mail_from,
            ", ".join(envelope.rcpt_tos),
        )
        tmp = os.path.join(self.maildir, "tmp", name)
        with open(tmp, "wb") as f:
            f.write(head.encode("utf-8", "surrogateescape"))
            f.write(envelope.original_content or b"")
        os.rename(tmp, os.path.join(self.maildir, "new", name))
        return "250 2.0.0 Ok: queued as %s" % name


def make_authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        # handled=False: aiosmtpd itself then answers 235 or 535.
        return AuthResult(success=ok, handled=False)

    return authenticate


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", default="127.0.0.1:2526", help="HOST:PORT")
    ap.add_argument("--maildir", required=True)
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--user", default="nobody")
    ap.add_argument("--auth-user", default="user@example.test")
    ap.add_argument("--auth-password", default="password")
    args = ap.parse_args()

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    host, _, port = args.listen.rpartition(":")
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(args.maildir, sub), exist_ok=True)

    tls = None
    if args.cert and args.key:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.cert, args.key)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(128)

    if os.getuid() == 0:
        pw = pwd.getpwnam(args.user)
        for sub in ("", "tmp", "new", "cur"):
            os.chown(os.path.join(args.maildir, sub), pw.pw_uid, pw.pw_gid)
        os.setgroups([])
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    handler = Handler(args.maildir)

    def factory():
        return SMTP(
            handler,
            hostname="mx.test",
            data_size_limit=SIZE_LIMIT,
            enable_SMTPUTF8=True,
            tls_context=tls,
            require_starttls=False,
            auth_require_tls=False,
            authenticator=make_authenticator(args.auth_user, args.auth_password),
            loop=loop,
        )

    server = loop.run_until_complete(loop.create_server(factory, sock=sock))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    print("aiosmtpd_server: listening on %s" % args.listen, flush=True)
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

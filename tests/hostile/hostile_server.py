#!/usr/bin/python3
"""Hostile SMTP servers for the end-to-end tests: one asyncio server on
127.0.0.1, many connections at once, its behaviour chosen by --mode.
Standard library only.

Modes (each a small coroutine below; all but `silent` start from `normal`):
  normal             a minimal well-behaved ESMTP server: 220 greeting; EHLO
                     offers PIPELINING, 8BITMIME, SIZE 1000000, AUTH PLAIN
                     LOGIN (no STARTTLS); HELO, MAIL, RCPT, DATA, RSET, NOOP,
                     VRFY, AUTH, QUIT. AUTH accepts --user/--password.
  stream-after-quit  like normal, but answers QUIT with "221 bye\\r\\n" forever,
                     as fast as the client takes it, never closing.
  split-echo         like normal, but each reply to AUTH and to its
                     continuation lines is written --split N bytes at a time
                     (TCP_NODELAY, --split_delay_ms (1) apart, so they arrive
                     as separate segments), and each final reply echoes the
                     client's whole line: "535 5.7.8 bad credentials: AUTH
                     PLAIN AGFs...". AUTH always fails here. (334 challenges
                     carry base64 only, as RFC 4954 §4 wants, so they do
                     not echo.)
  silent             accepts connections and never sends a byte; reads and
                     discards what the client sends; keeps them open.
  bad-ehlo           like normal, but the EHLO reply is unparseable:
                     "250-x\\r\\n25O y\\r\\n".
  flood              after the greeting, reply lines ("250-flood ...") forever.
  endless-line       after the greeting, one line without CRLF, forever.
  drip               like normal, but every reply goes out one byte every
                     --drip_ms (200) milliseconds.

Usage: hostile_server.py --mode MODE [--port N] [--split N] ...
With --port 0 (the default) the kernel picks the port. Either way the first
line on stdout is "PORT n" once the server listens. SIGTERM stops it.

Every read has a deadline (--idle_s) and a size bound (a line: 4096 octets
plus CRLF; a message: discarded beyond SIZE); the endless writers stop when
the client goes away.
"""
import argparse
import asyncio
import base64
import binascii
import socket
import sys

HOST = "127.0.0.1"
DOMAIN = "hostile.test"
MAX_LINE = 4096 + 2  # RFC 5321 §4.5.3.1.4 is 512; be generous, but bounded
MAX_MESSAGE = 1000000  # what SIZE advertises
EHLO_KEYWORDS = ["PIPELINING", "8BITMIME", "SIZE %d" % MAX_MESSAGE, "AUTH PLAIN LOGIN"]
# How many bytes the endless writers hand the socket per write.
FLOOD_WRITE = 64 * 1024


class Closed(Exception):
    """The client went away, sent an unframable line, or idled too long."""


def reply(code, *lines):
    """A (possibly multiline) reply: reply(250, "a", "b") -> 250-a 250 b."""
    lines = lines or ("",)
    out = []
    for i, text in enumerate(lines):
        sep = " " if i == len(lines) - 1 else "-"
        out.append("%d%s%s\r\n" % (code, sep, text))
    return "".join(out).encode("utf-8", "surrogateescape")


class Session:
    """One client connection: framing, writes, and the `normal` verbs."""

    def __init__(self, reader, writer, opts):
        self.r = reader
        self.w = writer
        self.opts = opts
        self.helo = None
        self.mail = False
        self.rcpts = 0
        self.authed = False
        # Overridable per mode.
        self.ehlo_reply = None  # bytes, or None for the normal reply
        self.write_split = 0  # every write this many bytes at a time; 0: whole
        self.write_delay = 0.0  # seconds between the pieces of a split write
        self.auth_split = 0  # the same for AUTH replies only (split-echo)
        self.auth_delay = 0.0
        self.echo_auth = False
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def write(self, data, split=None, delay=None):
        """Writes `data` whole, or `split` bytes at a time `delay` s apart
        (default: the session's write_split and write_delay)."""
        split = self.write_split if split is None else split
        delay = self.write_delay if delay is None else delay
        if not split:
            self.w.write(data)
            await self.w.drain()
            return
        for at in range(0, len(data), split):
            self.w.write(data[at:at + split])
            await self.w.drain()
            if delay:
                await asyncio.sleep(delay)

    async def readline(self):
        """One line without its CRLF (str, surrogateescape); Closed at EOF,
        on a line longer than MAX_LINE, or after --idle_s of silence."""
        try:
            line = await asyncio.wait_for(self.r.readline(), self.opts.idle_s)
        except (asyncio.TimeoutError, ValueError, ConnectionError) as e:
            raise Closed() from e
        if not line:
            raise Closed()
        if not line.endswith(b"\n"):
            raise Closed()  # EOF in the middle of a line
        return line.rstrip(b"\r\n").decode("utf-8", "surrogateescape")

    async def discard_input(self):
        """Reads and drops what the client sends until it closes (bounded
        chunks; the idle deadline does not apply: the writer side decides)."""
        try:
            while await self.r.read(65536):
                pass
        except ConnectionError:
            pass

    async def greet(self):
        await self.write(reply(220, DOMAIN + " ESMTP hostile_server"))

    # --- the normal verbs ------------------------------------------------

    async def serve_commands(self):
        """Answers commands until QUIT (returns True, nothing sent yet) or
        until the client goes away (returns False)."""
        try:
            while True:
                line = await self.readline()
                verb, _, arg = line.partition(" ")
                verb = verb.upper()
                if verb == "QUIT":
                    return True
                handler = VERBS.get(verb)
                if handler is None:
                    await self.write(reply(500, "5.5.2 command not recognized"))
                else:
                    await handler(self, arg)
        except (Closed, ConnectionError):
            return False

    async def do_ehlo(self, arg):
        if not arg:
            return await self.write(reply(501, "5.5.4 EHLO needs a domain"))
        self.helo, self.mail, self.rcpts = arg, False, 0
        if self.ehlo_reply is not None:
            return await self.write(self.ehlo_reply)
        await self.write(reply(250, DOMAIN + " greets " + arg, *EHLO_KEYWORDS))

    async def do_helo(self, arg):
        if not arg:
            return await self.write(reply(501, "5.5.4 HELO needs a domain"))
        self.helo, self.mail, self.rcpts = arg, False, 0
        await self.write(reply(250, DOMAIN))

    async def do_mail(self, arg):
        if self.helo is None:
            return await self.write(reply(503, "5.5.1 EHLO first"))
        if self.mail:
            return await self.write(reply(503, "5.5.1 nested MAIL"))
        if not arg.upper().startswith("FROM:"):
            return await self.write(reply(501, "5.5.4 syntax: MAIL FROM:<address>"))
        self.mail = True
        await self.write(reply(250, "2.1.0 Ok"))

    async def do_rcpt(self, arg):
        if not self.mail:
            return await self.write(reply(503, "5.5.1 MAIL first"))
        if not arg.upper().startswith("TO:"):
            return await self.write(reply(501, "5.5.4 syntax: RCPT TO:<address>"))
        self.rcpts += 1
        await self.write(reply(250, "2.1.5 Ok"))

    async def do_data(self, arg):
        if arg:
            return await self.write(reply(501, "5.5.4 DATA takes no argument"))
        if not self.rcpts:
            return await self.write(reply(503, "5.5.1 RCPT first"))
        await self.write(reply(354, "End data with <CR><LF>.<CR><LF>"))
        size = 0
        while True:
            line = await self.readline()
            if line == ".":
                break
            size += len(line) + 2
        self.mail, self.rcpts = False, 0
        if size > MAX_MESSAGE:
            return await self.write(reply(552, "5.3.4 message too big"))
        await self.write(reply(250, "2.0.0 Ok: queued"))

    async def do_rset(self, arg):
        self.mail, self.rcpts = False, 0
        await self.write(reply(250, "2.0.0 Ok"))

    async def do_noop(self, arg):
        await self.write(reply(250, "2.0.0 Ok"))

    async def do_vrfy(self, arg):
        if not arg:
            return await self.write(reply(501, "5.5.4 VRFY needs an argument"))
        await self.write(reply(252, "2.5.2 Cannot VRFY user"))

    async def do_starttls(self, arg):
        await self.write(reply(502, "5.5.1 STARTTLS not offered"))

    # --- AUTH (RFC 4954) -------------------------------------------------

    async def auth_reply(self, code, text, line):
        """A reply in an AUTH exchange; split-echo echoes `line` in it."""
        if self.echo_auth and code != 334:
            text += ": " + line
        if self.auth_split:
            await self.write(reply(code, text), self.auth_split, self.auth_delay)
        else:
            await self.write(reply(code, text))

    async def auth_response(self):
        """The client's next line of the exchange, and whether it cancelled."""
        line = await self.readline()
        return line, line == "*"

    async def do_auth(self, arg):
        line = "AUTH " + arg
        if self.helo is None:
            return await self.auth_reply(503, "5.5.1 EHLO first", line)
        if self.authed:
            return await self.auth_reply(503, "5.5.1 already authenticated", line)
        if self.mail:
            return await self.auth_reply(503, "5.5.1 AUTH during a transaction", line)
        mech, _, initial = arg.partition(" ")
        mech = mech.upper()
        if mech == "PLAIN":
            if not initial:
                await self.auth_reply(334, "", line)
                line, cancelled = await self.auth_response()
                if cancelled:
                    return await self.auth_reply(501, "5.0.0 AUTH cancelled", line)
                initial = line
            elif initial == "=":
                initial = ""
            try:
                parts = base64.b64decode(initial, validate=True).split(b"\0")
            except (binascii.Error, ValueError):
                return await self.auth_reply(501, "5.5.2 bad base64", line)
            if len(parts) != 3:
                return await self.auth_reply(535, "5.7.8 bad credentials", line)
            user, password = parts[1], parts[2]
        elif mech == "LOGIN":
            if initial:
                user_line = initial
            else:
                await self.auth_reply(334, base64.b64encode(b"Username:").decode(), line)
                user_line, cancelled = await self.auth_response()
                line = user_line
                if cancelled:
                    return await self.auth_reply(501, "5.0.0 AUTH cancelled", line)
            await self.auth_reply(334, base64.b64encode(b"Password:").decode(), line)
            line, cancelled = await self.auth_response()
            if cancelled:
                return await self.auth_reply(501, "5.0.0 AUTH cancelled", line)
            try:
                user = base64.b64decode(user_line, validate=True)
                password = base64.b64decode(line, validate=True)
            except (binascii.Error, ValueError):
                return await self.auth_reply(501, "5.5.2 bad base64", line)
        else:
            return await self.auth_reply(504, "5.5.4 mechanism not supported", line)
        if (user.decode("utf-8", "surrogateescape") == self.opts.user and
                password.decode("utf-8", "surrogateescape") == self.opts.password and
                not self.echo_auth):
            self.authed = True
            return await self.auth_reply(235, "2.7.0 Authentication successful", line)
        await self.auth_reply(535, "5.7.8 bad credentials", line)


VERBS = {
    "EHLO": Session.do_ehlo,
    "HELO": Session.do_helo,
    "MAIL": Session.do_mail,
    "RCPT": Session.do_rcpt,
    "DATA": Session.do_data,
    "RSET": Session.do_rset,
    "NOOP": Session.do_noop,
    "VRFY": Session.do_vrfy,
    "AUTH": Session.do_auth,
    "STARTTLS": Session.do_starttls,
}


# --- the modes -------------------------------------------------------------

async def write_forever(s, chunk):
    """Writes `chunk` until the client goes away (drain() applies the
    client's back pressure; a dead socket raises)."""
    reading = asyncio.ensure_future(s.discard_input())
    try:
        while not reading.done():
            s.w.write(chunk)
            await s.w.drain()
    except ConnectionError:
        pass
    finally:
        reading.cancel()


async def mode_normal(s):
    await s.greet()
    if await s.serve_commands():
        await s.write(reply(221, "2.0.0 Bye"))


async def mode_stream_after_quit(s):
    await s.greet()
    if await s.serve_commands():
        await write_forever(s, b"221 bye\r\n" * (FLOOD_WRITE // 9))


async def mode_split_echo(s):
    s.echo_auth = True
    s.auth_split = s.opts.split
    s.auth_delay = s.opts.split_delay_ms / 1000.0
    await mode_normal(s)


async def mode_silent(s):
    await s.discard_input()


async def mode_bad_ehlo(s):
    s.ehlo_reply = b"250-x\r\n25O y\r\n"
    await mode_normal(s)


async def mode_flood(s):
    await s.greet()
    lines = b"".join(b"250-flood %06d garbage\r\n" % i for i in range(FLOOD_WRITE // 26))
    await write_forever(s, lines)


async def mode_endless_line(s):
    await s.greet()
    await write_forever(s, b"x" * FLOOD_WRITE)


async def mode_drip(s):
    s.write_split = 1
    s.write_delay = s.opts.drip_ms / 1000.0
    await mode_normal(s)


MODES = {
    "normal": mode_normal,
    "stream-after-quit": mode_stream_after_quit,
    "split-echo": mode_split_echo,
    "silent": mode_silent,
    "bad-ehlo": mode_bad_ehlo,
    "flood": mode_flood,
    "endless-line": mode_endless_line,
    "drip": mode_drip,
}


async def main(opts):
    mode = MODES[opts.mode]

    async def on_client(reader, writer):
        try:
            await mode(Session(reader, writer, opts))
        except (Closed, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_client, HOST, opts.port, limit=MAX_LINE,
                                        backlog=512)
    port = server.sockets[0].getsockname()[1]
    print("PORT %d" % port, flush=True)
    async with server:
        await server.serve_forever()


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mode", required=True, choices=sorted(MODES))
    p.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    p.add_argument("--split", type=int, default=1,
                   help="split-echo: bytes per write of an AUTH reply (>= 1)")
    p.add_argument("--split_delay_ms", type=float, default=1.0,
                   help="split-echo: ms between the writes of an AUTH reply")
    p.add_argument("--drip_ms", type=int, default=200, help="drip: ms between bytes")
    p.add_argument("--user", default="alice", help="AUTH user accepted by normal")
    p.add_argument("--password", default="s3cret-pw", help="AUTH password accepted by normal")
    p.add_argument("--idle_s", type=float, default=300.0,
                   help="a client silent this long is dropped")
    opts = p.parse_args(argv)
    if opts.split < 1:
        p.error("--split must be at least 1")
    if opts.drip_ms < 0 or opts.split_delay_ms < 0:
        p.error("--drip_ms and --split_delay_ms must not be negative")
    return opts


if __name__ == "__main__":
    try:
        asyncio.run(main(parse_args(sys.argv[1:])))
    except KeyboardInterrupt:
        pass

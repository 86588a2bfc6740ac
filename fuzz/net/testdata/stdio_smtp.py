#!/usr/bin/env python3
"""A minimal SMTP server on stdin/stdout, for `fuzz --target exec:...` tests:
220, 250 to every command, 354 to DATA and 250 after the body, 221 to QUIT
(then exit). "CRASH" kills the process with SIGABRT before any reply: a
crash for the fuzzer's oracles to see. "UBSAN" writes a UBSan-style report to
stderr and goes on: a sanitizer finding. A command whose argument is "SLOW"
is answered after 1.5 s (a tarpit); after one whose argument is "HANG"
nothing is answered any more, nor after "LATEHANG" once a "SLOW" came (a
hang that only a tarpit's session reaches). "TRICKLE" gets a 4-line reply,
each line 0.8 s after the one before (a tarpit that sleeps per line, as
Postfix does past its soft error limit). "CRASH ONCE" aborts only in the first
process to see it (it leaves the file named by the first argument): a
flaky crash."""
import os
import sys
import time

out = sys.stdout.buffer
inp = sys.stdin.buffer


def reply(line):
    out.write(line + b"\r\n")
    out.flush()


reply(b"220 stdio.test ESMTP")
in_data = False
hung = False
slowed = False
for raw in iter(inp.readline, b""):
    line = raw.rstrip(b"\r\n")
    if hung:
        continue
    if in_data:
        if line == b".":
            in_data = False
            reply(b"250 2.0.0 queued")
        continue
    verb = line.split(b" ", 1)[0].upper()
    if verb == b"CRASH" and line.upper().endswith(b" ONCE"):
        if len(sys.argv) > 1 and not os.path.exists(sys.argv[1]):
            open(sys.argv[1], "w").close()
            os.abort()
    elif verb == b"CRASH":
        os.abort()
    if verb == b"UBSAN":
        sys.stderr.write("stdio_smtp.py:33:5: runtime error: signed integer overflow\n")
        sys.stderr.flush()
    argument = line.split(b" ", 1)[1].upper() if b" " in line else b""
    if argument == b"HANG" or (argument == b"LATEHANG" and slowed):
        hung = True
        continue
    if argument == b"SLOW":
        time.sleep(1.5)
        slowed = True
    if argument == b"TRICKLE":
        for i in range(3):
            time.sleep(0.8)
            reply(b"250-line %d" % i)
        time.sleep(0.8)
        reply(b"250 last line")
        continue
    if verb == b"QUIT":
        reply(b"221 2.0.0 bye")
        break
    if verb == b"DATA":
        in_data = True
        reply(b"354 go ahead")
    else:
        reply(b"250 2.0.0 ok")

#!/usr/bin/env python3
"""A minimal SMTP server on stdin/stdout, for `fuzz --target exec:...` tests:
220, 250 to every command, 354 to DATA and 250 after the body, 221 to QUIT
(then exit). "CRASH" kills the process with SIGABRT before any reply: a
crash for the fuzzer's oracles to see. "UBSAN" writes a UBSan-style report to
stderr and goes on: a sanitizer finding."""
import os
import sys

out = sys.stdout.buffer
inp = sys.stdin.buffer


def reply(line):
    out.write(line + b"\r\n")
    out.flush()


reply(b"220 stdio.test ESMTP")
in_data = False
for raw in iter(inp.readline, b""):
    line = raw.rstrip(b"\r\n")
    if in_data:
        if line == b".":
            in_data = False
            reply(b"250 2.0.0 queued")
        continue
    verb = line.split(b" ", 1)[0].upper()
    if verb == b"CRASH":
        os.abort()
    if verb == b"UBSAN":
        sys.stderr.write("stdio_smtp.py:33:5: runtime error: signed integer overflow\n")
        sys.stderr.flush()
    if verb == b"QUIT":
        reply(b"221 2.0.0 bye")
        break
    if verb == b"DATA":
        in_data = True
        reply(b"354 go ahead")
    else:
        reply(b"250 2.0.0 ok")

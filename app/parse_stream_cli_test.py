#!/usr/bin/env python3
"""`smtp-harness parse` on inputs far larger than any unit it accepts: a 100 MB
command line, a 100 MB reply line, a 200 MB DATA body. The input is generated
on the fly and piped in; the test checks the JSON lines and that the peak RSS
of the child (wait4's ru_maxrss) stays under MAX_RSS_MB, i.e. that parse
reads in bounded chunks and holds no line or body whole.
Usage: parse_stream_cli_test.py PATH/TO/smtp-harness"""
import hashlib
import json
import os
import subprocess
import sys
import threading
import unittest

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/default/app/smtp-harness"
MAX_RSS_MB = 64
MB = 1 << 20


def run_streamed(args, pieces):
    """Runs parse with `pieces` (an iterable of bytes) written to its stdin by
    a thread. Returns (exit status, JSON lines, stderr, peak RSS in MB)."""
    p = subprocess.Popen([BIN, "parse", *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)

    def feed():
        try:
            for piece in pieces:
                p.stdin.write(piece)
            p.stdin.close()
        except (BrokenPipeError, ValueError):  # parse stopped reading (reply mode)
            pass

    out, err = [], []
    threads = [threading.Thread(target=feed),
               threading.Thread(target=lambda: out.append(p.stdout.read())),
               threading.Thread(target=lambda: err.append(p.stderr.read()))]
    for t in threads:
        t.start()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)  # so Popen does not wait again
    for t in threads:
        t.join(timeout=120)
    for f in (p.stdin, p.stdout, p.stderr):
        f.close()
    lines = [json.loads(l) for l in out[0].decode("utf-8").splitlines() if l.strip()]
    return p.returncode, lines, err[0].decode(errors="replace"), usage.ru_maxrss / 1024


def repeat(block, total):
    """`total` bytes made of `block`, yielded 1 MiB at a time."""
    chunk = block * (MB // len(block))
    left = total
    while left > 0:
        piece = chunk[:min(left, len(chunk))]
        left -= len(piece)
        yield piece


class ParseStreams(unittest.TestCase):
    def test_100mb_command_line_is_an_error_with_its_offset(self):
        size = 100 * MB
        pieces = [b"NOOP\r\n", b"MAIL FROM:<", *repeat(b"a", size), b">\r\n", b"QUIT\r\n"]
        rc, out, err, rss = run_streamed(["--mode", "command"], pieces)
        self.assertEqual(rc, 1, err)
        self.assertLess(rss, MAX_RSS_MB, f"peak RSS {rss:.1f} MB")
        self.assertEqual(len(out), 3)
        self.assertTrue(out[0]["ok"])
        long = out[1]
        self.assertFalse(long["ok"])
        self.assertEqual((long["line"], long["offset"]), (2, 6))
        self.assertEqual(long["error"]["code"], "line_too_long")
        self.assertEqual(long["error"]["offset"], 512)  # relative to the line
        self.assertEqual(long["input_length"], len(b"MAIL FROM:<") + size + 3)
        self.assertTrue(long["truncated"])
        self.assertLess(len(long["input"]), 16 * 1024)
        self.assertEqual(out[2]["command"]["verb"], "QUIT")
        self.assertEqual(out[2]["offset"], 6 + long["input_length"])

    def test_100mb_reply_line_stops_at_the_limit(self):
        pieces = [b"220 ok\r\n", b"250 ", *repeat(b"b", 100 * MB), b"\r\n"]
        rc, out, err, rss = run_streamed(["--mode", "reply"], pieces)
        self.assertEqual(rc, 1, err)
        self.assertLess(rss, MAX_RSS_MB, f"peak RSS {rss:.1f} MB")
        self.assertEqual(len(out), 2)
        self.assertEqual(out[0]["reply"]["code"], 220)
        self.assertEqual(out[1]["offset"], 8)
        self.assertEqual(out[1]["error"]["code"], "line_too_long")
        self.assertEqual(out[1]["error"]["offset"], 8 + 512)  # first octet past the limit

    def test_200mb_data_body_is_not_held(self):
        # 150 MB of 80-octet lines with dot-stuffing, then one 50 MB line.
        lines = b"..dot-stuffed line " + b"x" * 59 + b"\r\n"
        assert len(lines) == 80
        body_wire = [*repeat(lines, 150 * MB), *repeat(b"y", 50 * MB), b"\r\n"]
        # The pieces of repeat() are whole lines, so unstuffing is per piece.
        sha = hashlib.sha256()
        length = 0
        for piece in body_wire:
            unstuffed = piece.replace(b"\r\n..", b"\r\n.")
            if unstuffed.startswith(b".."):
                unstuffed = unstuffed[1:]
            sha.update(unstuffed)
            length += len(unstuffed)
        self.assertEqual(length, 150 * MB // 80 * 79 + 50 * MB + 2)
        rc, out, err, rss = run_streamed(["--mode", "data"],
                                         [*body_wire, b".\r\n", b"QUIT\r\n"])
        self.assertEqual(rc, 0, err)
        self.assertLess(rss, MAX_RSS_MB, f"peak RSS {rss:.1f} MB")
        self.assertEqual(len(out), 2)
        d = out[0]
        self.assertTrue(d["ended"])
        self.assertEqual(d["consumed"], 200 * MB + 2 + 3)
        self.assertEqual(d["body_length"], length)
        self.assertEqual(d["body_sha256"], sha.hexdigest())
        self.assertTrue(d["body_truncated"])
        self.assertEqual(len(d["body"]), 64 * 1024)
        self.assertTrue(d["body"].startswith(".dot-stuffed line xxx"))
        self.assertEqual(d["line_error"]["code"], "data_line_too_long")
        self.assertEqual(d["after_end"], "QUIT\r\n")
        self.assertEqual(out[1]["command"]["verb"], "QUIT")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"])

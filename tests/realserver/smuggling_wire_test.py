#!/usr/bin/env python3
"""DATA-end smuggling: the suite's verdicts agree with what each server does
on the wire (issue 23, label realserver).

  smuggling_wire_test.py HARNESS SUITE PROFILES_DIR OUTDIR NAME...

For each named SMTP server of the zoo that answers (profile
PROFILES_DIR/NAME.json: host, port, sender, rcpt), in parallel:

1. the suite's smuggling.data-end* scenarios run against it
   (`smtp-harness run --tag data-end`);
2. this script's own probe, over a raw socket, for each of those
   sequences: EHLO, MAIL, RCPT, DATA, then one write with a header,
   "line1", the sequence (bare-LF dot, bare-CR dot, <LF>.<CRLF>,
   <CRLF>.<LF>, ...) and "NOOP<CRLF>" (the split variants: the sequence cut
   in two writes 0.3 s apart). For 2 s (longer than the suite's 1.5 s) it
   records every reply and whether the connection closed. The server
   *ended the data there* when a reply other than a 421 came back in that
   time (it answered the message, and then the smuggled NOOP, or refused
   it); a 421 or a close without a reply is a refusal of the session, and
   silence means the sequence was taken as content. The probe then sends
   the real end of data and QUIT.
3. Each scenario's verdict must agree: pass when the data did not end
   there, fail when it did. Anything else (an error, a skip, a
   disagreement, a probe that could not reach DATA) fails this test, with
   the replies seen.

The probe's sequences are this script's own table; each is also checked to
be the bytes the scenario file sends, so the two cannot drift apart. A
server that does not answer is reported as skipped (by name); when none
answers the test exits 77 (ctest SKIP_RETURN_CODE), never passes.
Every socket operation has a deadline; every child process a timeout.
"""
import concurrent.futures
import json
import os
import re
import socket
import subprocess
import sys
import time

SKIP = 77
RUN_TIMEOUT_S = 180
QUIET_S = 2.0         # the suite waits 1.5 s; a later reply is a disagreement
SPLIT_PAUSE_S = 0.3   # as the split scenarios' sleep
IO_TIMEOUT_S = 10.0
MAX_REPLY = 64 * 1024

# id suffix -> (bytes after "line1" in the first write, bytes of a second
# write 0.3 s later or None). NOOP<CRLF> follows the sequence.
SEQUENCES = {
    "data-end.cr-dot-cr": (b"\r.\r", None),
    "data-end.cr-dot-crlf": (b"\r.\r\n", None),
    "data-end.cr-dot-lf": (b"\r.\n", None),
    "data-end.crlf-dot-cr": (b"\r\n.\r", None),
    "data-end.crlf-dot-crcrlf": (b"\r\n.\r\r\n", None),
    "data-end.crlf-dot-lf": (b"\r\n.\n", None),
    "data-end.lf-dot-cr": (b"\n.\r", None),
    "data-end.lf-dot-crlf": (b"\n.\r\n", None),
    "data-end.lf-dot-lf": (b"\n.\n", None),
    "data-end.nul-after-dot": (b"\r\n.\0\r\n", None),
    "data-end.nul-before-dot": (b"\r\n\0.\r\n", None),
    "data-end-split.cr-dot-cr": (b"\r", b".\r"),
    "data-end-split.crlf-dot-crcrlf": (b"\r\n", b".\r\r\n"),
    "data-end-split.crlf-dot-lf": (b"\r\n", b".\n"),
    "data-end-split.lf-dot-crlf": (b"\n", b".\r\n"),
    "data-end-split.lf-dot-lf": (b"\n", b".\n"),
}
# The header-line variant: <LF>.<CRLF> ends the first header line.
IN_HEADER = "data-end.in-header"
# Not a data-end probe (bare CR and LF inside the body, no dot): its verdict
# is about what is delivered, not about where the data ends.
NOT_PROBED = {"smuggling.data-end.bare-cr-lf-in-body"}


def unescape(text):
    """The scenario language's escapes (\\r \\n \\0 \\xNN \\\\) as bytes."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            n = text[i + 1]
            if n == "x":
                out.append(int(text[i + 2:i + 4], 16))
                i += 4
                continue
            out += {"r": b"\r", "n": b"\n", "0": b"\0", "\\": b"\\", "t": b"\t"}.get(n, n.encode())
            i += 2
            continue
        out += c.encode("utf-8")
        i += 1
    return bytes(out)


def scenario_bytes(suite, sid):
    """Every data_raw / send_raw of the scenario, concatenated (escapes decoded)."""
    path = os.path.join(suite, "smuggling", sid + ".json")
    with open(path, encoding="utf-8") as f:
        s = json.load(f)
    parts = []
    for step in s.get("steps", []):
        if "data_raw" in step:
            parts.append(unescape(step["data_raw"]["bytes"]))
        elif "send_raw" in step:
            parts.append(unescape(step["send_raw"]))
    return b"".join(parts)


def probes(suite):
    """{scenario id: (first write, second write or None, final write)}."""
    out = {}
    ids = sorted(f[:-5] for f in os.listdir(os.path.join(suite, "smuggling"))
                 if f.startswith("smuggling.data-end") and f.endswith(".json"))
    for sid in ids:
        if sid in NOT_PROBED:
            continue
        key = sid[len("smuggling."):]
        head = b"From: <${sender}>\r\nTo: <${rcpt}>\r\nSubject: smtp-harness smuggling probe\r\n\r\nline1"
        if key == IN_HEADER:
            out[sid] = (b"From: <${sender}>\r\nSubject: header probe\n.\r\nNOOP\r\n", None,
                        b"\r\nbody\r\n.\r\n")
        elif key in SEQUENCES:
            first, second = SEQUENCES[key]
            if second is None:
                out[sid] = (head + first + b"NOOP\r\n", None, b".\r\n")
            else:
                out[sid] = (head + first, second + b"NOOP\r\n", b".\r\n")
        else:
            raise SystemExit("FAIL: %s has no probe in this test's table: add its sequence" % sid)
        sent = b"".join(p for p in out[sid] if p)
        if sent != scenario_bytes(suite, sid):
            raise SystemExit("FAIL: %s: the scenario sends %r, this test's probe %r"
                             % (sid, scenario_bytes(suite, sid), sent))
    return out


class Conn:
    """A line-oriented SMTP client socket with deadlines and a size bound."""

    def __init__(self, host, port):
        self.s = socket.create_connection((host, port), timeout=IO_TIMEOUT_S)
        self.buf = b""
        self.closed = False

    def fill(self, deadline):
        left = deadline - time.monotonic()
        if left <= 0 or self.closed:
            return False
        self.s.settimeout(left)
        try:
            chunk = self.s.recv(4096)
        except socket.timeout:
            return False
        except OSError:
            chunk = b""
        if not chunk:
            self.closed = True
            return False
        self.buf += chunk
        if len(self.buf) > MAX_REPLY:
            raise RuntimeError("more than %d octets of replies" % MAX_REPLY)
        return True

    def take_reply(self):
        """One complete reply from the buffer: (code or None, text), or None."""
        lines = []
        pos = 0
        while True:
            end = self.buf.find(b"\n", pos)
            if end < 0:
                return None
            line = self.buf[pos:end + 1]
            pos = end + 1
            lines.append(line)
            m = re.match(rb"(\d{3})([ -]?)", line)
            if not m or m.group(2) != b"-":
                self.buf = self.buf[pos:]
                text = b"".join(lines).decode("latin-1").rstrip("\r\n")
                return (int(m.group(1)) if m else None, text)

    def reply(self, timeout=IO_TIMEOUT_S):
        deadline = time.monotonic() + timeout
        while True:
            r = self.take_reply()
            if r is not None:
                return r
            if not self.fill(deadline):
                return None

    def replies_within(self, seconds):
        """Every reply that arrives within `seconds`."""
        deadline = time.monotonic() + seconds
        got = []
        while True:
            r = self.take_reply()
            if r is not None:
                got.append(r)
                continue
            if not self.fill(deadline):
                return got

    def send(self, data):
        self.s.sendall(data)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def fill_vars(data, profile):
    return data.replace(b"${sender}", profile["sender"].encode()).replace(
        b"${rcpt}", profile["rcpt"].encode())


def probe(profile, sid, writes):
    """What the server does with the sequence: a dict with outcome
    'ended' | 'content' | 'refused', the replies in the quiet period, and
    'problem' when the probe could not reach DATA."""
    first, second, final = writes
    c = Conn(profile["host"], int(profile["port"]))
    try:
        steps = [(None, 220), (b"EHLO %s\r\n" % profile["client_domain"].encode(), 250),
                 (b"MAIL FROM:<%s>\r\n" % profile["sender"].encode(), 250),
                 (b"RCPT TO:<%s>\r\n" % profile["rcpt"].encode(), (250, 251)),
                 (b"DATA\r\n", 354)]
        for cmd, want in steps:
            if cmd:
                c.send(cmd)
            r = c.reply()
            ok = r is not None and (r[0] in want if isinstance(want, tuple) else r[0] == want)
            if not ok:
                return {"problem": "%s got %r, not %r" % (cmd or b"(greeting)", r, want)}
        c.send(fill_vars(first, profile))
        if second is not None:
            time.sleep(SPLIT_PAUSE_S)
            c.send(second)
        quiet = c.replies_within(QUIET_S)
        closed = c.closed
        if any(code != 421 for code, _ in quiet):
            outcome = "ended"
        elif quiet or closed:
            outcome = "refused"
        else:
            outcome = "content"
        after = None
        if not closed:
            try:
                c.send(final)
                after = c.reply()
                c.send(b"QUIT\r\n")
                c.reply(3)
            except OSError:
                pass
        return {"outcome": outcome, "quiet": quiet, "closed": closed, "after_end": after}
    except (OSError, RuntimeError) as e:
        return {"problem": "%s: %s" % (type(e).__name__, e)}
    finally:
        c.close()


def greets(host, port):
    try:
        c = Conn(host, port)
    except OSError:
        return False
    try:
        r = c.reply(5)
        return r is not None and r[0] == 220
    finally:
        c.close()


def check_server(harness, suite, profiles_dir, outdir, name, writes):
    with open(os.path.join(profiles_dir, name + ".json"), encoding="utf-8") as f:
        profile = json.load(f)
    profile.setdefault("client_domain", "client.example.org")
    host, port = profile["host"], int(profile["port"])
    if not greets(host, port):
        return name, None, ["skipped: %s does not answer 220 on %s:%d" % (name, host, port)]
    out = os.path.join(outdir, name)
    argv = [harness, "run", "--target", "%s:%d" % (host, port), "--profile",
            os.path.join(profiles_dir, name + ".json"), "--suite", suite, "--tag", "data-end",
            "--jobs", "4", "--target_name", name, "--out", out]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        wire = {sid: pool.submit(probe, profile, sid, w) for sid, w in writes.items()}
        try:
            p = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return name, None, ["smtp-harness run timed out after %d s" % RUN_TIMEOUT_S]
        wire = {sid: f.result() for sid, f in wire.items()}
    problems = []
    if p.returncode not in (0, 1):
        return name, None, ["smtp-harness run exited %d: %s" % (p.returncode, p.stderr[-800:])]
    with open(os.path.join(out, "results.json"), encoding="utf-8") as f:
        verdicts = {s["id"]: s for s in json.load(f)["scenarios"]}
    rows = []
    for sid in sorted(writes):
        w = wire[sid]
        s = verdicts.get(sid)
        if s is None:
            problems.append("%s: not in the run (is its tag data-end?)" % sid)
            continue
        if "problem" in w:
            problems.append("%s: the probe could not run: %s" % (sid, w["problem"]))
            continue
        want = "fail" if w["outcome"] == "ended" else "pass"
        rows.append((sid, w["outcome"], s["verdict"], len(w["quiet"]) >= 2))
        if s["verdict"] != want:
            problems.append("%s: the wire says %s (replies in %.1f s: %r%s), the suite says %s: %s"
                            % (sid, w["outcome"], QUIET_S, w["quiet"],
                               ", closed" if w["closed"] else "", s["verdict"],
                               s.get("reason", "")[:300]))
    return name, rows, problems


def main(argv):
    if len(argv) < 6:
        print(__doc__)
        return 2
    harness, suite, profiles_dir, outdir = argv[1:5]
    names = argv[5:]
    writes = probes(suite)
    os.makedirs(outdir, exist_ok=True)
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
        results = list(pool.map(
            lambda n: check_server(harness, suite, profiles_dir, outdir, n, writes), names))
    failed = checked = 0
    for name, rows, problems in results:
        if rows is None and problems and problems[0].startswith("skipped:"):
            print("SKIP " + problems[0])
            continue
        checked += 1
        if rows:
            ended = [sid for sid, outcome, _, _ in rows if outcome == "ended"]
            noop = [sid for sid, outcome, _, two in rows if outcome == "ended" and two]
            print("%s: %d sequences probed, %d ended the data there (the smuggled NOOP got its "
                  "own reply after %d of them)%s; suite agrees on %d"
                  % (name, len(rows), len(ended), len(noop),
                     (": " + ", ".join(ended)) if ended else "",
                     len(rows) - len([p for p in problems if "the wire says" in p])))
        for p in problems:
            failed += 1
            print("FAIL %s: %s" % (name, p))
    print("%.1f s" % (time.monotonic() - start))
    if checked == 0:
        print("SKIP: no server answered; nothing was checked")
        return SKIP
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

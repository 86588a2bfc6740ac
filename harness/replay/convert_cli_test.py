#!/usr/bin/env python3
"""smtp-harness convert, end to end.

Without --real (label app): usage and input errors (exit 2, the file named),
a session with nothing to convert (skipped with a note), corpus output, and a
round trip through the embedded server (run -> convert -> run the converted
scenarios: they pass).

With --real NAME HOST:PORT PROFILE (label realserver): a converted scenario
passes against the real server it was recorded from. Two recordings:
  1. a conformance run's transcript: `run --filter R5321-3.3-e` (a whole mail
     transaction), its results.json converted;
  2. a session written here by a small socket client, in the session file
     format (docs/transcripts.md): EHLO, MAIL/RCPT/DATA pipelined when the
     server offers PIPELINING, a body with a dot-stuffed line, RSET, NOOP, an
     unknown command, QUIT.
Each is converted with `convert --to scenario`, and `run --suite CONVERTED`
against the same server must exit 0 with every verdict "pass".

usage: convert_cli_test.py SMTP_HARNESS WORKDIR [--real NAME HOST:PORT PROFILE]
"""
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
from checks import check, failures  # noqa: E402
from loopback import load_results  # noqa: E402
from transcript_bytes import escape_bytes  # noqa: E402

HARNESS, WORK = sys.argv[1], sys.argv[2]
REAL = sys.argv[3:] if len(sys.argv) > 3 and sys.argv[3] == "--real" else None
if REAL:
    NAME, TARGET, PROFILE = REAL[1:4]
    HOST, PORT = TARGET.rsplit(":", 1)


def sh(*args):
    p = subprocess.run([HARNESS, *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def offline():

    # Usage errors: exit 2.
    rc, _, err = sh("convert", "--to", "scenario", "--out", WORK + "/x")
    check(rc == 2 and "usage" in err, f"no SESSION: exit {rc}, {err!r}")
    rc, _, err = sh("convert", WORK, "--to", "pcap", "--out", WORK + "/x")
    check(rc == 2 and "--to must be scenario or corpus, not 'pcap'" in err, f"bad --to: {rc} {err!r}")
    rc, _, err = sh("convert", WORK, "--to", "scenario")
    check(rc == 2 and "usage" in err, f"no --out: exit {rc}, {err!r}")

    # Garbage and malformed session files: exit 2, the file named.
    garbage = os.path.join(WORK, "garbage.json")
    write(garbage, "\x00\x01 this is not JSON {")
    rc, _, err = sh("convert", garbage, "--to", "scenario", "--out", WORK + "/x")
    check(rc == 2 and "garbage.json" in err, f"garbage: exit {rc}, {err!r}")
    bad = os.path.join(WORK, "bad.json")
    write(bad, json.dumps({"version": 1, "entries": [{"t_us": 0, "kind": "bogus"}]}))
    rc, _, err = sh("convert", bad, "--to", "corpus", "--out", WORK + "/x")
    check(rc == 2 and "bad.json" in err, f"bad entry: exit {rc}, {err!r}")
    rc, _, err = sh("convert", WORK + "/missing.json", "--to", "scenario", "--out", WORK + "/x")
    check(rc == 2 and "missing.json" in err, f"missing file: exit {rc}, {err!r}")

    # A session with nothing to convert is skipped with a note; the others still convert.
    sessions = os.path.join(WORK, "sessions")
    os.makedirs(sessions)
    write(os.path.join(sessions, "a-greeting-only.json"), json.dumps({
        "version": 1, "meta": {"source": "recorded"},
        "entries": [{"t_us": 0, "kind": "s2c", "data": "220 mx\\r\\n"}]}))
    write(os.path.join(sessions, "b-noop.json"), json.dumps({
        "version": 1,
        "meta": {"source": "recorded", "client": "127.0.0.1:40000", "server": "127.0.0.1:25",
                 "started_at": "2026-12-03T22:40:00.000000Z"},
        "entries": [{"t_us": 0, "kind": "s2c", "data": "220 mx\\r\\n"},
                    {"t_us": 5, "kind": "c2s", "data": "NOOP\\r\\n"},
                    {"t_us": 9, "kind": "s2c", "data": "250 2.0.0 ok\\r\\n"}]}))
    rc, out, err = sh("convert", sessions, "--to", "scenario", "--out", WORK + "/sc")
    check(rc == 0, f"skip is not fatal: exit {rc}, {err!r}")
    check("a-greeting-only.json: skipped: nothing to convert: no command the server answered" in out,
          f"skip note: {out!r}")
    check("1 session(s) converted, 1 skipped, 1 file(s) written" in out, f"summary: {out!r}")
    written = [f for f in os.listdir(WORK + "/sc") if f.endswith(".json")]
    check(len(written) == 1 and written[0].startswith("recorded.b-noop."), f"written: {written}")
    rc, out, err = sh("list", "--suite", WORK + "/sc")
    check(rc == 0 and "recorded.b-noop." in out, f"the scenario loads: {rc} {out!r} {err!r}")

    # Corpus: seeds per target, named by content, written once.
    rc, out, err = sh("convert", sessions, "--to", "corpus", "--out", WORK + "/corpus")
    check(rc == 0, f"corpus: exit {rc}, {err!r}")
    dirs = sorted(os.listdir(WORK + "/corpus"))
    check(dirs == ["fuzz_command", "fuzz_reply", "session"], f"corpus dirs: {dirs}")
    cmd = os.listdir(WORK + "/corpus/fuzz_command")
    check(len(cmd) == 1, f"one command seed: {cmd}")
    if cmd:
        with open(os.path.join(WORK, "corpus/fuzz_command", cmd[0]), "rb") as f:
            check(f.read() == b"\0\0\0\0NOOP\r\n", "command seed bytes")
    with open(os.path.join(WORK, "corpus/session", os.listdir(WORK + "/corpus/session")[0]), "rb") as f:
        check(f.read() == b"\x01\x04NOOP", "session seed: one command step")
    rc, out, _ = sh("convert", sessions, "--to", "corpus", "--out", WORK + "/corpus")
    check(rc == 0 and "0 file(s) written" in out, f"second corpus run writes nothing new: {out!r}")

    # Round trip through the embedded server.
    rc, out, err = sh("run", "--filter", "R5321-3.3-e,R5321-4.1.1.9-a", "--out", WORK + "/run")
    check(rc == 0, f"run: exit {rc}, {err[-500:]!r}")
    rc, out, err = sh("convert", WORK + "/run/results.json", "--to", "scenario", "--out",
                      WORK + "/conv")
    check(rc == 0 and "2 session(s) converted" in out, f"convert results.json: {rc} {out!r} {err!r}")
    rc, out, err = sh("run", "--suite", WORK + "/conv", "--out", WORK + "/rerun")
    check(rc == 0, f"rerun: exit {rc}, {out[-800:]!r}")
    verdicts = {s["id"]: s["verdict"] for s in load_results(WORK + "/rerun")["scenarios"]}
    check(len(verdicts) == 2 and set(verdicts.values()) == {"pass"}, f"verdicts: {verdicts}")


class Recorder:
    """A plain SMTP client that records what it sends and receives."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.sock = socket.create_connection((HOST, int(PORT)), timeout=10)
        self.local = "%s:%d" % self.sock.getsockname()[:2]
        self.entries = [{"t_us": 0, "kind": "connect", "text": TARGET}]
        self.buf = b""

    def now(self):
        return int((time.monotonic() - self.t0) * 1e6)

    def send(self, data):
        self.sock.sendall(data)
        self.entries.append({"t_us": self.now(), "kind": "c2s", "data": escape_bytes(data)})

    def replies(self, n):
        """Reads n complete replies; returns their codes and texts."""
        got = []
        while len(got) < n:
            lines = self.buf.split(b"\r\n")
            done = None
            for i, line in enumerate(lines[:-1]):
                if len(line) >= 4 and line[3:4] == b" " or len(line) == 3:
                    done = i
                    break
            if done is None:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise RuntimeError("server closed")
                self.entries.append({"t_us": self.now(), "kind": "s2c", "data": escape_bytes(chunk)})
                self.buf += chunk
                continue
            reply = lines[:done + 1]
            self.buf = b"\r\n".join(lines[done + 1:])
            got.append((int(reply[-1][:3]), [l[4:].decode("latin-1") for l in reply]))
        return got

    def close(self, path):
        try:
            self.sock.settimeout(5)
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    self.entries.append({"t_us": self.now(), "kind": "peer_close"})
                    break
                self.entries.append({"t_us": self.now(), "kind": "s2c", "data": escape_bytes(chunk)})
        except OSError:
            pass
        self.sock.close()
        session = {
            "version": 1,
            "meta": {"source": "recorded", "client": self.local, "server": TARGET,
                     "started_at": self.started.strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
            "entries": self.entries,
        }
        with open(path, "w", encoding="utf-8") as f:
            json.dump(session, f, indent=2)


def record_session(path, profile):
    r = Recorder()
    (code, _), = r.replies(1)
    assert code == 220, code
    r.send(b"EHLO client.example.org\r\n")
    (code, ehlo), = r.replies(1)
    assert code == 250, ehlo
    keywords = {line.split(" ")[0].upper() for line in ehlo[1:]}
    rcpt = profile["rcpt"]
    mail = [b"MAIL FROM:<%s>\r\n" % profile["sender"].encode(),
            b"RCPT TO:<%s>\r\n" % rcpt.encode(),
            b"DATA\r\n"]
    if "PIPELINING" in keywords:
        r.send(b"".join(mail))
        codes = [c for c, _ in r.replies(3)]
    else:
        codes = []
        for m in mail:
            r.send(m)
            codes += [c for c, _ in r.replies(1)]
    assert codes == [250, 250, 354], codes
    r.send(b"From: <%s>\r\nTo: <%s>\r\nSubject: convert test\r\n\r\n" %
           (profile["sender"].encode(), rcpt.encode()))
    r.send(b"..a dot-stuffed line\r\nlast line\r\n.\r\n")
    r.replies(1)
    for line in (b"RSET\r\n", b"NOOP\r\n", b"XYZZY plugh\r\n", b"QUIT\r\n"):
        r.send(line)
        r.replies(1)
    r.close(path)
    return "PIPELINING" in keywords


def run_converted(what, sessions, out):
    rc, text, err = sh("convert", *sessions, "--to", "scenario", "--out", out)
    check(rc == 0, f"{what}: convert exit {rc}: {text} {err}")
    check(any(f.endswith(".json") for f in os.listdir(out)) if os.path.isdir(out) else False,
          f"{what}: a scenario was written")
    print(text, end="")
    rc, text, err = sh("run", "--target", TARGET, "--profile", PROFILE, "--suite", out,
                       "--out", out + "-run")
    check(rc == 0, f"{what}: run of the converted scenario exit {rc}: {text[-1500:]} {err[-500:]}")
    try:
        results = load_results(out + "-run")["scenarios"]
    except OSError as e:
        check(False, f"{what}: no results.json: {e}")
        return
    check(len(results) >= 1, f"{what}: scenarios ran")
    for s in results:
        check(s["verdict"] == "pass", f"{what}: {s['id']} is {s['verdict']}: {s.get('reason')}")


def realserver():
    with open(PROFILE, encoding="utf-8") as f:
        profile = json.load(f)

    # 1. A conformance run's transcript.
    rc, text, err = sh("run", "--target", TARGET, "--profile", PROFILE, "--filter", "R5321-3.3-e",
                       "--out", WORK + "/run")
    check(os.path.exists(WORK + "/run/results.json"), f"run wrote results.json: {rc} {err[-500:]}")
    run_converted("results.json", [WORK + "/run/results.json"], WORK + "/from-run")

    # 2. A session recorded by a socket client.
    os.makedirs(WORK + "/sessions")
    pipelined = record_session(WORK + "/sessions/client.json", profile)
    run_converted("socket session", [WORK + "/sessions"], WORK + "/from-session")
    with open(WORK + "/from-session/" + os.listdir(WORK + "/from-session")[0], encoding="utf-8") as f:
        steps = json.load(f)["steps"]
    kinds = [next(iter(s)) for s in steps]
    if pipelined:  # MAIL, RCPT, DATA in one pipeline step; the body sent as it was
        check(kinds[4:7] == ["pipeline", "send_raw", "expect"], f"pipelined, then the body: {kinds}")
    else:
        check("data" in kinds, f"DATA and the body became a data step: {kinds}")
    check(kinds[-1] == "expect_close", f"QUIT and the close: {kinds}")


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
if REAL:
    realserver()
else:
    offline()
if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("ok")

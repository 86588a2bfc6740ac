#!/usr/bin/env python3
"""A converted scenario passes against the real server it was recorded from.

Two recordings per server:
  1. a conformance run's transcript: `smtp-harness run --filter R5321-3.3-e`
     (a whole mail transaction), its results.json converted;
  2. a session written here by a small socket client, in the session file
     format (docs/transcripts.md): EHLO, MAIL/RCPT/DATA pipelined when the
     server offers PIPELINING, a body with a dot-stuffed line, an unknown
     recipient, an unknown command, RSET, NOOP, QUIT.
Each is converted with `convert --to scenario`, and `run --suite CONVERTED`
against the same server must exit 0 with every verdict "pass".

usage: convert_realserver_test.py SMTP_HARNESS NAME HOST:PORT PROFILE WORKDIR
"""
import datetime
import json
import os
import shutil
import socket
import subprocess
import sys
import time

HARNESS, NAME, TARGET, PROFILE, WORK = sys.argv[1:6]
HOST, PORT = TARGET.rsplit(":", 1)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def sh(*args):
    p = subprocess.run([HARNESS, *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def escape(data):
    """The transcript byte encoding (results/transcript.h)."""
    out = []
    for b in data:
        if b == 0x5C:
            out.append("\\\\")
        elif b == 0x0D:
            out.append("\\r")
        elif b == 0x0A:
            out.append("\\n")
        elif b == 0x09:
            out.append("\\t")
        elif 0x20 <= b <= 0x7E:
            out.append(chr(b))
        else:
            out.append("\\x%02x" % b)
    return "".join(out)


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
        self.entries.append({"t_us": self.now(), "kind": "c2s", "data": escape(data)})

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
                self.entries.append({"t_us": self.now(), "kind": "s2c", "data": escape(chunk)})
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
                self.entries.append({"t_us": self.now(), "kind": "s2c", "data": escape(chunk)})
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
        with open(out + "-run/results.json", encoding="utf-8") as f:
            results = json.load(f)["scenarios"]
    except OSError as e:
        check(False, f"{what}: no results.json: {e}")
        return
    check(len(results) >= 1, f"{what}: scenarios ran")
    for s in results:
        check(s["verdict"] == "pass", f"{what}: {s['id']} is {s['verdict']}: {s.get('reason')}")


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)
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

if failures:
    print(f"{NAME}: {len(failures)} failure(s)")
    sys.exit(1)
print(f"{NAME}: ok")

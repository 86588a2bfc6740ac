#!/usr/bin/env python3
"""smtp-harness convert without real servers: usage and input errors, a
session with nothing to convert, corpus output, and a round trip through the
embedded server (run -> convert -> run the converted scenario: it passes).

usage: convert_cli_test.py SMTP_HARNESS WORKDIR
"""
import json
import os
import shutil
import subprocess
import sys

HARNESS, WORK = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def sh(*args):
    p = subprocess.run([HARNESS, *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


shutil.rmtree(WORK, ignore_errors=True)
os.makedirs(WORK)

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
with open(WORK + "/rerun/results.json", encoding="utf-8") as f:
    verdicts = {s["id"]: s["verdict"] for s in json.load(f)["scenarios"]}
check(len(verdicts) == 2 and set(verdicts.values()) == {"pass"}, f"verdicts: {verdicts}")

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("ok")

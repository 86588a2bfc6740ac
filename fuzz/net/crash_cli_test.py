#!/usr/bin/env python3
"""smtp-harness fuzz --spawn against a server built WITHOUT a sanitizer
(testdata/crashy_smtpd.c): two different abort()s (HELP %..., VRFY %...)
and one between sessions (after NOOP LATER, once the session is over).

1. Located crashes: with gdb and a core_pattern that writes files (this
   host's), each abort is its own finding, named by the function it died in
   (crashed-SIGABRT-in-help_abort, -in-vrfy_abort), not one crashed-SIGABRT;
   each deterministic and minimized to its command. No core file is left
   behind.
   (With a warm standby: {port} in the command.)
2. A death between sessions is a finding whose session reproduces it
   (crashed-SIGABRT-in-die_later, minimized to NOOP LATER; its session.json
   ends with the crash), not only a console line.
3. Without backtraces (--crash_backtraces=false): the aborts are still two
   findings, told apart by their trigger (verb and the reply code before).
   (A fixed port: no standby.)
4. The between-sessions finding replays against a fresh server, which dies
   of it.

usage: crash_cli_test.py SMTP_HARNESS CRASHY_SMTPD"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
from checks import check, exit_status  # noqa: E402
from crash_replay import replay_kills_server  # noqa: E402
from loopback import free_port  # noqa: E402

BIN = sys.argv[1]
CRASHY = sys.argv[2]


def step(kind, payload):
    assert len(payload) < 128
    return bytes([kind, len(payload)]) + payload


def cmd(text):
    return step(1, text)


def seeds(directory):
    os.makedirs(directory)
    for name, data in {
        "help": cmd(b"EHLO x") + cmd(b"HELP %a") + cmd(b"NOOP"),
        "vrfy": cmd(b"EHLO x") + cmd(b"VRFY %b") + cmd(b"NOOP"),
        "later": cmd(b"EHLO x") + cmd(b"NOOP LATER") + cmd(b"RSET"),
        "plain": cmd(b"EHLO x") + cmd(b"MAIL FROM:<a@b>") + cmd(b"RSET"),
    }.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)


def fuzz(tmp, out, seed_dir, *flags, standby=False):
    """A run; `standby`: {port} in the command, so a warm standby takes over
    after each death (the attribution of each crash must not change)."""
    port = free_port()
    spawn = "%s {port}" % CRASHY if standby else "%s %d" % (CRASHY, port)
    r = subprocess.run([BIN, "fuzz", "--spawn", spawn, "--target",
                        "127.0.0.1:%d" % port, "--out", out, "--seeds", "none", "-runs=60",
                        "-seed=1", "-max_total_time=200"] + list(flags) + [seed_dir],
                       capture_output=True, text=True, timeout=280, cwd=tmp)
    print(r.stderr[-4000:])
    check(r.returncode == 0, "fuzz exits 0 (got %d)" % r.returncode)
    with open(os.path.join(out, "fuzz.json")) as f:
        return {f["bucket"]: f for f in json.load(f)["findings"]}


def main():
    if not os.access(CRASHY, os.X_OK):
        print("FAIL: %s was not built: no C compiler (cc) was found at configure time" % CRASHY)
        return 1
    if shutil.which("gdb") is None:
        print("FAIL: gdb is not installed (Debian package gdb): crashes cannot be located")
        return 1
    with open("/proc/sys/kernel/core_pattern") as f:
        pattern = f.read().strip()
    if pattern.startswith("|"):
        print("FAIL: this host pipes core files to %s; the test needs core files written as "
              "files (sysctl kernel.core_pattern=core)" % pattern)
        return 1
    tmp = tempfile.mkdtemp(prefix="crash-cli-")
    seed_dir = os.path.join(tmp, "seeds")
    seeds(seed_dir)

    # 1 + 2. Located crashes, and the death between sessions.
    out = os.path.join(tmp, "located")
    findings = fuzz(tmp, out, seed_dir, standby=True)
    print("buckets:", sorted(findings))
    want = {"crashed-SIGABRT-in-help_abort": b"HELP %",
            "crashed-SIGABRT-in-vrfy_abort": b"VRFY %",
            "crashed-SIGABRT-in-die_later": b"NOOP LATER"}
    crashes = {b for b in findings if b.startswith("crashed-")}
    check(crashes == set(want), "each abort is its own finding, named by its frame: %s"
          % sorted(crashes))
    for bucket, command in want.items():
        f = findings.get(bucket)
        if f is None:
            continue
        check(f["deterministic"] and f["reproduced"] == 3,
              "%s is deterministic, 3/3 (%s)" % (bucket, f["reproduced"]))
        check(command.decode() in f["steps"] and f["minimize"]["steps_after"] == 1,
              "%s is minimized to its one command: %r" % (bucket, f["steps"]))
    later = findings.get("crashed-SIGABRT-in-die_later")
    if later:
        check("after the session ended" in later["detail"],
              "the late crash says it came after the session: %s" % later["detail"])
        with open(os.path.join(out, later["dir"], "session.json")) as f:
            notes = [e.get("text", "") for e in json.load(f)["entries"] if e["kind"] == "note"]
        check(any(n.startswith("oracle crashed") for n in notes),
              "its session.json shows the crash, not an ok re-run: %s" % notes)
    cores = [n for n in os.listdir(tmp) if n.startswith("core")]
    check(not cores, "no core file is left behind: %s" % cores)

    # 3. Without backtraces: told apart by the trigger.
    out3 = os.path.join(tmp, "trigger")
    findings3 = fuzz(tmp, out3, seed_dir, "--crash_backtraces=false")
    print("buckets:", sorted(findings3))
    crashes3 = {b for b in findings3 if b.startswith("crashed-")}
    check(crashes3 == {"crashed-SIGABRT-HELP-after-220", "crashed-SIGABRT-VRFY-after-220",
                       "crashed-SIGABRT-NOOP-after-221"},
          "without backtraces the aborts are told apart by verb and last reply: %s"
          % sorted(crashes3))

    # 4. The between-sessions finding replays; the server dies of it.
    if later:
        replay_kills_server(BIN, CRASHY, os.path.join(out, later["dir"], "session.json"),
                            os.path.join(tmp, "replay"), "the late crash", cwd=tmp)
    return exit_status("crash_cli_test")


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""`smtp-harness fuzz --client` end to end against the planted-bug client.

testdata/buggy_client.c, built with afl-cc and AddressSanitizer, has two
planted bugs: a shallow one (a reply of more than 12 lines overflows a stack
array: an ASan report) and a deep one (EHLO advertising DSN and 8BITMIME,
then a 251 without '<' to RCPT: a NULL dereference). One fuzz run with a
fixed seed must find the shallow bug within 60 s and the deep one within
300 s (the run is stopped with SIGINT once both are in fuzz.json, which
also checks that a stopped run leaves fuzz.json complete). Then both
findings must be minimized to their cause and reproduce with --reproduce,
and a reply sequence without the cause must not.

usage: client_fuzz_cli_test.py SMTP_HARNESS BUGGY_CLIENT
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def main():
    binary, client = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    if not os.access(client, os.X_OK):
        fail(f"{client} is missing: install AFL++ (Debian: apt-get install afl++) and rebuild")
    work = tempfile.mkdtemp(prefix="clientfuzz-")
    try:
        run(binary, client, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("PASS")


def run(binary, client, work):
    profile = os.path.join(work, "buggy.json")
    with open(profile, "w") as f:
        json.dump({"name": "buggy_client",
                   "commands": {"plain": f"exec {client} {{host}} {{port}} {{from}} {{to}} {{message}}"},
                   "timeout_ms": 5000,
                   "env": {"ASAN_OPTIONS": "detect_leaks=0:symbolize=0"}}, f)

    # Usage errors: exit 2 with a reason.
    for args, words in [(["--client", os.path.join(work, "nope.json")], "cannot"),
                        (["--client", profile, "--mode", "starttls"], "no \"starttls\""),
                        (["--client", profile, "-fork=2"], "-max_total_time, -runs and -seed")]:
        p = subprocess.run([binary, "fuzz", *args, "--out", os.path.join(work, "x")],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 2 or words not in p.stderr:
            fail(f"{args}: exit {p.returncode}, stderr {p.stderr!r}")

    # A client that cannot start is a setup error, not a run of empty sessions.
    broken = os.path.join(work, "broken.json")
    with open(broken, "w") as f:
        json.dump({"name": "broken", "commands": {"plain": "exec /nonexistent/client {port}"}}, f)
    p = subprocess.run([binary, "fuzz", "--client", broken, "--out", os.path.join(work, "b"),
                        "-max_total_time=20"], capture_output=True, text=True, timeout=60)
    if p.returncode != 2 or "never connected" not in p.stderr:
        fail(f"a client that cannot start: exit {p.returncode}, stderr {p.stderr!r}")

    # The violation and hang oracles, each on a tiny client that has the
    # fault from the first run: a bare LF after EHLO, and a client that
    # never ends (timeout_ms 1000).
    lf_client = os.path.join(work, "lf_client.py")
    with open(lf_client, "w") as f:
        f.write("import socket, sys, time\n"
                "s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=2)\n"
                "s.recv(4096)\n"
                "s.sendall(b'EHLO lf.test\\n')\n"
                "time.sleep(0.2)\n"
                "s.sendall(b'QUIT\\r\\n')\n"
                "s.recv(4096)\n")
    for name, command, timeout_ms, oracle, kind in [
            ("lf", f"exec {sys.executable} {lf_client} {{host}} {{port}}", 5000, "violation",
             "line-end"),
            ("sleeper", f"exec {sys.executable} -c \"import socket,sys,time;"
                        f"s=socket.create_connection((sys.argv[1],int(sys.argv[2])));"
                        f"time.sleep(30)\" {{host}} {{port}}", 1000, "hang", "timeout")]:
        prof = os.path.join(work, name + ".json")
        with open(prof, "w") as f:
            json.dump({"name": name, "commands": {"plain": command}, "timeout_ms": timeout_ms}, f)
        o = os.path.join(work, "o-" + name)
        p = subprocess.run([binary, "fuzz", "--client", prof, "--out", o, "-runs=3",
                            "--minimize_runs=5"], capture_output=True, text=True, timeout=120)
        with open(os.path.join(o, "fuzz.json")) as f:
            found = [(x["oracle"], x["kind"]) for x in json.load(f)["findings"]]
        if p.returncode != 0 or (oracle, kind) not in found:
            fail(f"{name}: expected a {oracle} {kind} finding, got {found}, exit {p.returncode}: "
                 f"{p.stderr[-2000:]}")

    out = os.path.join(work, "out")
    started = time.monotonic()
    proc = subprocess.Popen([binary, "fuzz", "--client", profile, "--out", out,
                             "-max_total_time=300", "-seed=3"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    shallow = deep = None
    fuzz_json = os.path.join(out, "fuzz.json")
    while proc.poll() is None and time.monotonic() - started < 330:
        time.sleep(1)
        try:
            with open(fuzz_json) as f:
                doc = json.load(f)
        except (OSError, ValueError):
            continue
        for fd in doc.get("findings", []):
            if fd["kind"] == "stack-buffer-overflow" and shallow is None:
                shallow = fd
            if fd["kind"] in ("SEGV", "SIGSEGV") and deep is None:
                deep = fd
        if shallow and deep:
            proc.send_signal(signal.SIGINT)
            break
    try:
        output, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("fuzz --client did not stop within 60 s of SIGINT")
    print(output[-4000:])
    if shallow is None:
        fail("the shallow bug (stack-buffer-overflow) was not found")
    if shallow["first_at_s"] > 60:
        fail(f"the shallow bug took {shallow['first_at_s']:.1f} s (> 60)")
    if deep is None:
        fail("the deep bug (SEGV at RCPT) was not found within 300 s")
    print(f"shallow {shallow['bucket']} at {shallow['first_at_s']:.1f} s, "
          f"deep {deep['bucket']} at {deep['first_at_s']:.1f} s")
    if proc.returncode != 130:
        fail(f"exit {proc.returncode} after SIGINT, expected 130")
    with open(fuzz_json) as f:
        doc = json.load(f)
    if doc.get("complete") is not True or "SIGINT" not in doc.get("stop_reason", ""):
        fail(f"fuzz.json after SIGINT: complete={doc.get('complete')} reason={doc.get('stop_reason')}")
    if doc["stats"]["client_coverage"] <= 0:
        fail("no AFL++ edges from the afl-cc client")
    if not os.path.exists(os.path.join(out, "index.html")):
        fail("no index.html")

    # Minimized to the cause.
    for fd in (shallow, deep):
        d = os.path.join(out, fd["dir"])
        for name in ("scenario.json", "finding.json", "session.json", "stderr.txt"):
            if not os.path.exists(os.path.join(d, name)):
                fail(f"{d}/{name} missing")
    with open(os.path.join(out, deep["dir"], "finding.json")) as f:
        commands = json.load(f)["client_commands"].split()
    if commands[-1:] != ["RCPT"]:
        fail(f"the deep finding's last command is not RCPT: {commands}")
    with open(os.path.join(out, deep["dir"], "scenario.json")) as f:
        script = json.load(f)["server"]
    ext = [e.upper() for e in script.get("extensions", [])]
    if ext != ["DSN", "8BITMIME"] and ext != ["8BITMIME", "DSN"]:
        fail(f"the deep finding's extensions are not minimized to DSN and 8BITMIME: {script}")
    rcpt = script.get("replies", {}).get("RCPT", [])
    if len(rcpt) != 1 or "251" not in rcpt[0].get("raw", ""):
        fail(f"the deep finding's RCPT reply is not one 251: {script}")
    if len(script.get("replies", {})) != 1:
        fail(f"the deep finding kept replies it does not need: {script}")
    if deep["minimize"]["steps_after"] > 3:
        fail(f"the deep finding is not minimized: {deep['minimize']}")
    m = shallow["minimize"]
    if m["steps_after"] > 1 and m["steps_after"] >= m["steps_before"]:
        fail(f"the shallow finding is not minimized: {m} {shallow['steps']}")

    # Replay: both reproduce (exit 0); without the 251 the deep one does not (exit 1).
    for fd in (shallow, deep):
        p = subprocess.run([binary, "fuzz", "--client", profile, "--reproduce",
                            os.path.join(out, fd["dir"])], capture_output=True, text=True,
                           timeout=120)
        if p.returncode != 0 or "REPRODUCED " + fd["bucket"] not in p.stderr:
            fail(f"--reproduce {fd['bucket']}: exit {p.returncode}: {p.stderr}")
    with open(os.path.join(out, deep["dir"], "scenario.json")) as f:
        scenario = json.load(f)
    del scenario["server"]["replies"]
    fixed = os.path.join(work, "fixed.json")
    with open(fixed, "w") as f:
        json.dump(scenario, f)
    p = subprocess.run([binary, "fuzz", "--client", profile, "--reproduce", fixed],
                       capture_output=True, text=True, timeout=120)
    if p.returncode != 1 or "NOT REPRODUCED" not in p.stderr:
        fail(f"--reproduce without the 251: exit {p.returncode}: {p.stderr}")


if __name__ == "__main__":
    main()

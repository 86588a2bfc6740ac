#!/usr/bin/env python3
"""smtp-harness fuzz against a correct server with a defence
(testdata/defensive_smtpd.py: "502 ... goodbye." and a close after its third
unknown command, "221 Bye" and a close after QUIT):

1. Defences apart: from seeds that trip the goodbye (pipelined, raw, one by
   one) and that send QUIT inside a raw step and a pipelined group, a run
   has no finding: the closes are listed under "defences" (with the RFC
   5321 3.8 conformance note: a 5xx where 421 is wanted), none after our
   own QUIT. --defences_are_findings makes the goodbye a finding again.
2. A quiet console: the status line and the findings only; libFuzzer's
   output is in OUT/libfuzzer.log; a libFuzzer flag given with two dashes
   gets the one-dash hint.
3. -max_total_time bounds the whole run: against the server writing 3 bytes
   at a time, slowly, a 10-s budget ends within 15 s, fuzz.json complete.
4. SIGINT stops a run within 2 s: exit 130, fuzz.json complete with the
   reason "interrupted by SIGINT"; SIGTERM the same with 143.
5. A spawned server that stops answering is restarted, the run goes on, and
   the hang is a finding whose session reproduces it.
6. A refusal without a word of closing, the close 10 ms after it (as
   OpenSMTPD's "Pipelining not supported"): our next write overtakes the
   close, and the drop is re-run cautiously (waiting for a close after the
   refusal), which shows the close was announced: a defence, no finding.
7. -jobs=2: the parent's fuzz.json sums the processes' defences (and the
   conformance note's sessions), as the processes' own files count them.
8. A server that accepts and closes every connection before its greeting
   (Dovecot past its process_limit): the input plays no part, so the run
   reports the target "unresponsive" once (after waiting --recover_wait_ms
   for it), not one "dropped" finding per session.
9. A server that takes no session for a while after a crash (Postfix's
   master throttling smtpd): the re-runs wait for it, so the crash is a
   deterministic finding; with --recover_wait_ms 0 it is not one.

usage: fuzz_defence_cli_test.py SMTP_HARNESS"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
from checks import check, exit_status  # noqa: E402

BIN = sys.argv[1]
SERVER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "testdata", "defensive_smtpd.py")


def start(tmp, name, *flags):
    port_file = os.path.join(tmp, name + ".port")
    proc = subprocess.Popen([sys.executable, SERVER, port_file] + list(flags),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 10
    while time.monotonic() < end and not (os.path.exists(port_file) and
                                          os.path.getsize(port_file) > 0):
        time.sleep(0.05)
    with open(port_file) as f:
        return proc, int(f.read())


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def step(kind, payload, pipelined=False):
    assert len(payload) < 128
    return bytes([kind | (0x10 if pipelined else 0), len(payload)]) + payload


def cmd(text, pipelined=False):
    return step(1, text, pipelined)


def raw(data):
    return step(4, data)


def seeds(directory):
    os.makedirs(directory)
    for name, data in {
        # The goodbye, one command at a time: our next write meets the close.
        "goodbye": cmd(b"EHLO x") + cmd(b"XA") + cmd(b"XB") + cmd(b"XC") + cmd(b"NOOP"),
        # The same pipelined, and raw.
        "goodbye-pipelined": cmd(b"XA") + cmd(b"XB", True) + cmd(b"XC", True) + cmd(b"NOOP", True),
        "goodbye-raw": raw(b"XA\r\nXB\r\nXC\r\n") + cmd(b"NOOP"),
        # Our own QUIT, raw and pipelined, with more behind it.
        "quit-raw": cmd(b"EHLO x") + raw(b"NOOP\r\nQUIT\r\n") + cmd(b"RSET") + cmd(b"NOOP"),
        "quit-pipelined": cmd(b"EHLO x") + cmd(b"QUIT", True) + cmd(b"RSET", True),
        "quit-bare-lf": cmd(b"EHLO x") + raw(b"quit\n") + cmd(b"NOOP"),
    }.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
    return directory


def fuzz(args, timeout=120):
    return subprocess.run([BIN, "fuzz"] + args, capture_output=True, text=True, timeout=timeout)


def main():
    tmp = tempfile.mkdtemp(prefix="fuzz-defence-")
    fast, fast_port = start(tmp, "fast")
    slow, slow_port = start(tmp, "slow", "--slow")
    try:
        seed_dir = seeds(os.path.join(tmp, "seeds"))
        target = "127.0.0.1:%d" % fast_port

        # 1. Defences apart; 2. the console.
        out = os.path.join(tmp, "defences")
        p = fuzz(["--target", target, "--out", out, "--seeds", seed_dir, "-runs=300", "-seed=1"])
        check(p.returncode == 0, "fuzz exits 0 (rc %d): %s" % (p.returncode, p.stderr[-1500:]))
        with open(os.path.join(out, "fuzz.json")) as f:
            report = json.load(f)
        check(report["complete"] is True, "fuzz.json is complete")
        check(report["findings"] == [], "a correct server's announced closes and the 221 to our "
              "own QUIT are no findings: %s" %
              [(f["bucket"], f["detail"], f["steps"]) for f in report["findings"]])
        defences = {d["signature"]: d for d in report["defences"]}
        goodbye = defences.get("502-5.5.1-too-many-unrecognized-commands-goodbye")
        check(goodbye is not None and goodbye["count"] >= 3,
              "the goodbye is a defence, counted: %s" % list(defences))
        check(not any(s.startswith("221") for s in defences),
              "the 221 to our own QUIT is not a defence either: %s" % list(defences))
        check(goodbye is not None and len(goodbye["routes"]) >= 2,
              "the defence lists its routes: %s" % (goodbye or {}).get("routes"))
        notes = report["conformance_notes"]
        check(len(notes) == 1 and "421" in notes[0]["note"],
              "one conformance note: a 5xx close where RFC 5321 wants 421: %s" % notes)
        check(report["stats"]["defence_sessions"] >= 3, "defence sessions are counted")
        check(not os.path.exists(os.path.join(out, "findings")) or
              os.listdir(os.path.join(out, "findings")) == [], "OUT/findings/ is empty")
        with open(os.path.join(out, "index.html")) as f:
            html = f.read()
        check("Server defences" in html or "defences" in html, "the report has the defences")
        lines = p.stderr.splitlines()
        check(len(lines) < 30, "a quiet console: %d lines" % len(lines))
        check(not any(" NEW " in l or "cov:" in l or "WARNING: Failed to find" in l
                      for l in lines), "no libFuzzer output on the console")
        check(any("defence (not a finding)" in l and "goodbye" in l for l in lines),
              "the defence is named once on the console")
        with open(os.path.join(out, "libfuzzer.log")) as f:
            log = f.read()
        check("Done" in log or "INITED" in log, "libFuzzer's output is in OUT/libfuzzer.log")

        again = os.path.join(tmp, "as-findings")
        p = fuzz(["--target", target, "--out", again, "--seeds", seed_dir, "-runs=30", "-seed=1",
                  "--defences_are_findings"])
        with open(os.path.join(again, "fuzz.json")) as f:
            found = json.load(f)
        check(any(f["oracle"] == "dropped" and "goodbye" in f["detail"] for f in found["findings"]),
              "--defences_are_findings makes the goodbye a finding: %s" %
              [(f["bucket"], f["detail"]) for f in found["findings"]])
        check(found["defences"] == [], "and lists no defence")

        p = fuzz(["--target", target, "--out", os.path.join(tmp, "dashes"), "--max_total_time=5"])
        check(p.returncode == 2 and "libFuzzer flags take one dash: -max_total_time" in p.stderr,
              "two dashes get the hint (rc %d): %s" % (p.returncode, p.stderr.strip()))

        # 3. The budget bounds the whole run, against a slow writer.
        out = os.path.join(tmp, "budget")
        t0 = time.monotonic()
        p = fuzz(["--target", "127.0.0.1:%d" % slow_port, "--out", out, "-max_total_time=10",
                  "-seed=1", "--reply_timeout_ms", "3000"], timeout=60)
        took = time.monotonic() - t0
        check(p.returncode == 0 and took < 15,
              "a 10-s budget against a slow writer ends within 15 s (%.1f s, rc %d)" %
              (took, p.returncode))
        with open(os.path.join(out, "fuzz.json")) as f:
            b = json.load(f)
        check(b["complete"] is True and "budget" in b["stop_reason"],
              "fuzz.json complete, stopped by the budget: %r" % b.get("stop_reason"))

        # 4. SIGINT and SIGTERM, in the middle of slow sessions.
        for sig, rc in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
            out = os.path.join(tmp, "signal-%d" % sig)
            proc = subprocess.Popen([BIN, "fuzz", "--target", "127.0.0.1:%d" % slow_port, "--out",
                                     out, "-max_total_time=60", "--reply_timeout_ms", "3000"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            time.sleep(4)
            t0 = time.monotonic()
            proc.send_signal(sig)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            took = time.monotonic() - t0
            check(proc.returncode == rc and took < 2.5,
                  "signal %d stops the run within 2 s with exit %d (rc %s, %.2f s)" %
                  (sig, rc, proc.returncode, took))
            with open(os.path.join(out, "fuzz.json")) as f:
                s = json.load(f)
            check(s["complete"] is True and s["stop_reason"].startswith("interrupted by SIG"),
                  "fuzz.json complete with the reason: %r" % s.get("stop_reason"))
        # 5. A spawned server that stops answering (one connection at a
        # time, "VRFY HANG" hangs it) is restarted, the run goes on, and
        # the hang is a finding whose session holds the VRFY HANG.
        hang_seeds = os.path.join(tmp, "hang-seeds")
        os.makedirs(hang_seeds)
        with open(os.path.join(hang_seeds, "hang"), "wb") as f:
            f.write(cmd(b"EHLO x") + cmd(b"VRFY HANG"))
        with open(os.path.join(hang_seeds, "fine"), "wb") as f:
            f.write(cmd(b"EHLO x") + cmd(b"NOOP"))
        port = free_port()
        out = os.path.join(tmp, "hang")
        t0 = time.monotonic()
        p = fuzz(["--spawn", "%s %s %s --single --port %d" %
                  (sys.executable, SERVER, os.path.join(tmp, "spawned.port"), port),
                  "--target", "127.0.0.1:%d" % port, "--out", out, "--seeds", hang_seeds,
                  "-runs=40", "-seed=1", "--reply_timeout_ms", "500",
                  "--patient_reply_timeout_ms", "1500", "--minimize_time_ms", "20000"],
                 timeout=240)
        took = time.monotonic() - t0
        with open(os.path.join(out, "fuzz.json")) as f:
            h = json.load(f)
        hangs = [f for f in h["findings"] if f["oracle"] == "hang"]
        check(p.returncode == 0 and h["stats"]["sessions"] >= 40,
              "the run goes on past the hang: %d sessions in %.0f s (rc %d)" %
              (h["stats"]["sessions"], took, p.returncode))
        check(h["stats"]["server_restarts"] >= 1 and "stopped answering" in p.stderr,
              "the stuck server was restarted (%d): %s" % (h["stats"]["server_restarts"],
                                                           p.stderr[-800:]))
        check(len(hangs) == 1 and "VRFY HANG" in hangs[0]["steps"].upper() and
              hangs[0]["deterministic"],
              "the hang is a finding, its session holds the VRFY HANG: %s" %
              [(f["bucket"], f["steps"], f["reproduced"]) for f in h["findings"]])

        # 7. -jobs=2: defences summed over the processes.
        out = os.path.join(tmp, "jobs")
        jobs_cwd = os.path.join(tmp, "jobs-cwd")
        os.makedirs(jobs_cwd)
        p = subprocess.run([BIN, "fuzz", "--target", target, "--out", out, "--seeds", seed_dir,
                            "-jobs=2", "-workers=2", "-runs=150", "-seed=1"],
                           capture_output=True, text=True, timeout=180, cwd=jobs_cwd)
        with open(os.path.join(out, "fuzz.json")) as f:
            jr = json.load(f)
        per_worker = []
        for name in os.listdir(os.path.join(out, "workers")):
            if name.endswith(".json"):
                with open(os.path.join(out, "workers", name)) as f:
                    w = json.load(f)
                per_worker.append(sum(d["count"] for d in w.get("defences", [])))
        total = sum(d["count"] for d in jr["defences"])
        check(p.returncode == 0 and len(per_worker) == 2 and all(n > 0 for n in per_worker),
              "-jobs=2: both processes met the goodbye (rc %d): %s" % (p.returncode, per_worker))
        check(total == sum(per_worker) and jr["stats"]["defence_sessions"] == total,
              "-jobs=2: fuzz.json sums the defences: %d, stats %d, processes %s" %
              (total, jr["stats"]["defence_sessions"], per_worker))
        check(len(jr["conformance_notes"]) == 1 and jr["conformance_notes"][0]["sessions"] == total,
              "-jobs=2: one conformance note over all of them: %s" % jr["conformance_notes"])
        check(jr["findings"] == [] and jr["unconfirmed"] == [],
              "-jobs=2: still no finding: %s" % [f["bucket"] for f in jr["findings"]])

        # 6. A close that our next write overtook.
        late, late_port = start(tmp, "late", "--late-close")
        try:
            out = os.path.join(tmp, "late")
            late_seeds = os.path.join(tmp, "late-seeds")
            os.makedirs(late_seeds)
            with open(os.path.join(late_seeds, "refused"), "wb") as f:
                f.write(cmd(b"EHLO x") + cmd(b"XA") + cmd(b"XB") + cmd(b"XC") + cmd(b"NOOP"))
            p = fuzz(["--target", "127.0.0.1:%d" % late_port, "--out", out, "--seeds", late_seeds,
                      "-runs=20", "-seed=1"])
            with open(os.path.join(out, "fuzz.json")) as f:
                lr = json.load(f)
            check(p.returncode == 0 and lr["findings"] == [],
                  "a close our write overtook is no finding (rc %d): %s" %
                  (p.returncode, [(f["bucket"], f["detail"]) for f in lr["findings"]]))
            check(any(d["signature"] == "500-5.5.1-invalid-command-pipelining-not-supported"
                      for d in lr["defences"]),
                  "it is a defence: %s" % [d["signature"] for d in lr["defences"]])
            check("is a defence: given time before its next write" in p.stderr,
                  "found so by the cautious re-run: %s" % p.stderr[-800:])
        finally:
            late.terminate()
            late.wait(timeout=10)
        # 8. Closed before the greeting, every time once 20 were served.
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.settimeout(0.2)
        stop = threading.Event()

        def serve_then_drop():
            # The first 20 connections (the start-up check and the first
            # sessions) get a greeting and "250 ok" to every line; then
            # every connection is closed at once.
            served = 0
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                with conn:
                    if served >= 20:
                        continue
                    served += 1
                    conn.settimeout(2)
                    try:
                        conn.sendall(b"220 x ESMTP\r\n")
                        buf = b""
                        while True:
                            data = conn.recv(4096)
                            if not data:
                                break
                            buf += data
                            while b"\n" in buf:
                                line, buf = buf.split(b"\n", 1)
                                if line.strip().upper() == b"QUIT":
                                    conn.sendall(b"221 bye\r\n")
                                    raise EOFError
                                conn.sendall(b"250 ok\r\n")
                    except (OSError, EOFError):
                        pass

        dropper = threading.Thread(target=serve_then_drop, daemon=True)
        dropper.start()
        try:
            out = os.path.join(tmp, "no-greeting")
            p = fuzz(["--target", "127.0.0.1:%d" % listener.getsockname()[1], "--out", out,
                      "--seeds", seed_dir, "-runs=100", "-seed=1", "--recover_wait_ms", "1000"])
            with open(os.path.join(out, "fuzz.json")) as f:
                nr = json.load(f)
            buckets = {f["bucket"]: f["count"] for f in nr["findings"]}
            check(list(buckets) == ["unresponsive"],
                  "closed before the greeting: only 'unresponsive' (rc %d): %s" %
                  (p.returncode, buckets))
            check(not os.path.isdir(os.path.join(out, "findings")) or
                  os.listdir(os.path.join(out, "findings")) == [],
                  "and no finding directory per session: %s" %
                  (os.listdir(os.path.join(out, "findings"))
                   if os.path.isdir(os.path.join(out, "findings")) else []))
            check("target down" in p.stderr and "closed before the greeting" in p.stderr,
                  "the console says the target is down and why: %s" % p.stderr[-600:])
            check("waiting up to 1 s" in p.stderr and "still down after" in p.stderr,
                  "after waiting --recover_wait_ms for it: %s" % p.stderr[-600:])
        finally:
            stop.set()
            dropper.join(timeout=5)
            listener.close()
        # 9. A server that, after a crash, takes no session for a while (as
        # Postfix's master throttles smtpd for 60 s): the re-runs wait for
        # it, so the crash is a deterministic finding (3/3), and the
        # throttle is not "unresponsive". Without the wait
        # (--recover_wait_ms 0) no re-run reaches it: not a finding.
        throttled, tport = start(tmp, "throttled", "--throttle", "1.5")
        try:
            crash_seeds = os.path.join(tmp, "crash-seeds")
            os.makedirs(crash_seeds)
            with open(os.path.join(crash_seeds, "crash"), "wb") as f:
                f.write(cmd(b"EHLO x") + cmd(b"NOOP") + cmd(b"VRFY CRASH") + cmd(b"NOOP"))
            results = {}
            for wait in ("0", "20000"):
                time.sleep(2)  # the server takes sessions again
                out = os.path.join(tmp, "throttled-" + wait)
                p = fuzz(["--target", "127.0.0.1:%d" % tport, "--out", out, "--seeds",
                          crash_seeds, "-runs=1", "-seed=1", "--minimize_time_ms", "4000",
                          "--recover_wait_ms", wait])
                with open(os.path.join(out, "fuzz.json")) as f:
                    results[wait] = (p, json.load(f))
            p, tr = results["20000"]
            found = [(f["bucket"], f["reproduced"], f["deterministic"]) for f in tr["findings"]]
            check(p.returncode == 0 and len(found) == 1 and found[0][1] == 3 and found[0][2] and
                  found[0][0].startswith("dropped-"),
                  "the crash is one deterministic finding, 3/3 (rc %d): %s\n%s" %
                  (p.returncode, found, p.stderr[-1200:]))
            check("waiting up to 20 s" in p.stderr and "the target is back after" in p.stderr,
                  "the console says it waited for the server: %s" % p.stderr[-800:])
            p, tr = results["0"]
            check(not [f for f in tr["findings"] if f["bucket"] != "unresponsive" and
                       f["reproduced"] == 3],
                  "without the wait no re-run reaches the throttled server: %s" %
                  [(f["bucket"], f["reproduced"]) for f in tr["findings"]])
        finally:
            throttled.terminate()
            throttled.wait(timeout=10)
    finally:
        for proc in (fast, slow):
            proc.terminate()
            proc.wait(timeout=10)
    sys.exit(exit_status("fuzz_defence_cli_test"))


if __name__ == "__main__":
    main()

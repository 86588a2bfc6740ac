#!/usr/bin/env python3
"""smtp-harness fuzz against a foreign server built with AFL++ (afl-cc, with
AddressSanitizer): testdata/tiny_smtpd.c, a small C server with two planted
bugs (HELP %... aborts; after MAIL BODY=8BITMIME a RCPT path over 64 bytes
overflows a heap buffer).

1. --spawn: the fuzzer starts the listening server, reads its edge coverage
   through the AFL shared-memory map (__AFL_SHM_ID), restarts it when it
   dies (switching to the warm standby it keeps on a second port: {port} in
   the command), and stops it at the end. Within the budget both planted bugs are
   found from the shipped seeds, each in one bucket named by what died
   (crashed-SIGABRT-HELP-after-220: ASan leaves no core file, so the abort
   is named by its trigger; sanitizer-heap-buffer-overflow-in-rcpt_to), both
   deterministic and minimized; the server's coverage grows over the run
   past what the shipped seeds alone reach (a -runs=0 run), and the report
   says it is AFL++ coverage.
2. The crash finding replays against a fresh server, which then dies of it.
3. exec: with the same binary in stdio mode also feeds AFL++ coverage.
4. Bad input: --spawn without a HOST:PORT target, a spawned command that
   exits at once, one that never listens: exit 2 with a clear message.

usage: afl_spawn_test.py SMTP_HARNESS TINY_SMTPD_AFL"""
import json
import re
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
from checks import check, failures  # noqa: E402
from crash_replay import replay_kills_server  # noqa: E402
from loopback import free_port  # noqa: E402

BIN = sys.argv[1]
TINY = sys.argv[2]


def session_steps(path):
    """The (kind, payload) steps of a session input file (fuzz/net/session_input.h:
    a head octet whose low 4 bits are the kind, a LEB128 length, the payload)."""
    with open(path, "rb") as f:
        data = f.read()
    steps, i = [], 0
    while i < len(data):
        kind = data[i] & 0x0F
        i += 1
        n, shift = 0, 0
        while i < len(data):
            b = data[i]
            i += 1
            n |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                break
        steps.append((kind, data[i:i + n]))
        i += n
    return steps


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return False
    except OSError:
        return True


def fuzz(args, timeout=400):
    return subprocess.run([BIN, "fuzz"] + args, capture_output=True, text=True, timeout=timeout)


def main():
    if not os.access(TINY, os.X_OK):
        print("FAIL: %s was not built: afl-cc (Debian package afl++) is missing; run "
              "scripts/install-deps.sh and reconfigure" % TINY)
        return 1
    tmp = tempfile.mkdtemp(prefix="afl-spawn-")

    # 1. --spawn with AFL++ coverage.
    port = free_port()
    out = os.path.join(tmp, "spawn")
    # 50,000 sessions: the abort (HELP with an argument starting with '%')
    # comes from mutating the shipped seeds, usually within a few thousand
    # sessions, but once in ten runs of 20,000 it did not come at all.
    # {port}: the fuzzer fills in the port of each incarnation, and keeps a
    # warm standby on a second port (spawned_server.h); the seeds-only run
    # below has a fixed port and no standby.
    r = fuzz(["--spawn", "%s {port}" % TINY, "--target", "127.0.0.1:%d" % port, "--out", out,
              "-runs=50000", "-max_total_time=240", "-seed=3"])
    print(r.stderr[-3000:])
    check(r.returncode == 0, "fuzz --spawn exits 0 when its budget runs out (got %d)" % r.returncode)
    with open(os.path.join(out, "fuzz.json")) as f:
        report = json.load(f)
    stats = report["stats"]
    check(report["complete"], "fuzz.json is complete")
    check(stats["coverage_source"] == "afl", "the coverage is AFL++'s: %s" % stats["coverage_source"])
    cov = [s["server_coverage"] for s in report["timeline"]]
    # Growth is measured against the shipped seeds alone (-runs=0: the seeds
    # run, no mutation), not against the first 5-s sample, which may already
    # hold all the run finds (the seeds reach ~135 edges, a run ~160-170).
    seed_port = free_port()
    seeds_out = os.path.join(tmp, "seeds-only")
    rs = fuzz(["--spawn", "%s %d" % (TINY, seed_port), "--target", "127.0.0.1:%d" % seed_port,
               "--out", seeds_out, "-runs=0", "-seed=3"])
    check(rs.returncode == 0, "a seeds-only run exits 0 (got %d)" % rs.returncode)
    with open(os.path.join(seeds_out, "fuzz.json")) as f:
        seeds_cov = json.load(f)["stats"]["server_coverage"]
    check(seeds_cov > 20 and cov[-1] > seeds_cov,
          "the server's AFL++ edge coverage grows over the run: %s, seeds alone %d"
          % (cov, seeds_cov))
    check(stats["server_restarts"] >= 1, "the dead server was restarted (%d)" % stats["server_restarts"])
    check("a warm standby of the spawned server waits on port" in r.stderr,
          "the run says it keeps a warm standby")
    check("by a switch to the warm standby" in r.stderr and
          " 0 by a switch to the warm standby" not in r.stderr,
          "restarts switched to the standby: %s"
          % [l for l in r.stderr.splitlines() if "warm standby" in l][-1:])
    check(os.path.exists(os.path.join(out, "spawned-server.log")),
          "the target port's incarnations wrote spawned-server.log")
    findings = {f["bucket"]: f for f in report["findings"]}
    print("buckets:", sorted(findings))
    crash = findings.get("crashed-SIGABRT-HELP-after-220")
    check(crash is not None and crash["deterministic"], "the abort is found, deterministic")
    if crash:
        # Any equivalent minimal form: the command, or the same line sent
        # raw (which route the run met first decides which one it keeps).
        steps = session_steps(os.path.join(out, crash["dir"], "input.bin"))
        check(len(steps) == 1 and steps[0][0] in (1, 4) and
              steps[0][1].upper().startswith(b"HELP %"),
              "the abort is minimized to its one command: %r (%s)" % (steps, crash["steps"]))
    asan = findings.get("sanitizer-heap-buffer-overflow-in-rcpt_to")
    check(asan is not None and asan["deterministic"],
          "the heap overflow is found through the ASan report, bucketed by its frame")
    if asan:
        steps = asan["steps"].upper()
        check("BODY=8BITMIME" in steps and "RCPT TO:" in steps and asan["minimize"]["steps_after"] <= 3,
              "the overflow is minimized to its three commands: %r" % asan["steps"])
        # Its whole report beside it, the frames symbolized by the fuzzer
        # (the server runs with symbolize=0).
        report_path = os.path.join(out, asan["dir"], "report.txt")
        text = open(report_path).read() if os.path.exists(report_path) else ""
        check(text.startswith("==") and "ERROR: AddressSanitizer: heap-buffer-overflow" in text and
              re.search(r"in rcpt_to .*tiny_smtpd\.c:\d+", text) is not None,
              "report.txt holds the symbolized ASan report: %r" % text[:600])
        # Numbered as ASan numbers them: an address with inlined calls
        # (rcpt_to inlined into serve) takes a number per function.
        first_stack = text.split("\n\n")[0]
        numbers = [int(n) for n in re.findall(r"^\s+#(\d+) ", first_stack, re.M)]
        check(len(numbers) >= 2 and numbers == list(range(len(numbers))),
              "the first stack's frames are numbered 0, 1, 2, ...: %s" % numbers)
    # One abort, one finding: a route that minimizing could not bring down
    # to its line (a flaky one, kept as found, once named the abort
    # "crashed-SIGABRT-RCPT-after-500", about one run in three) sends the
    # line that alone kills the server, and is counted in its bucket.
    crashes = sorted(b for b in findings if b.startswith("crashed-"))
    check(crashes == ["crashed-SIGABRT-HELP-after-220"],
          "exactly one crash bucket, the planted abort's: %s" %
          [(b, findings[b]["steps"][:200]) for b in crashes])
    # Each port's incarnations write their own log: spawned-server.log for
    # the target's, spawned-server.PORT.log for the standby's.
    logs = sorted(n for n in os.listdir(out) if n.startswith("spawned-server") and n.endswith(".log"))
    said = ""
    for name in logs:
        with open(os.path.join(out, name), errors="replace") as f:
            said += f.read()
    check(len(logs) == 2 and "ERROR: AddressSanitizer" in said,
          "the server's output is kept in the two ports' logs: %s" % logs)
    check(refused(port), "the spawned server is stopped when the run ends")
    with open(os.path.join(out, "index.html"), errors="replace") as f:
        html = f.read()
    check('"coverage_source"' in html and "AFL++ edges" in html,
          "the HTML report carries the AFL++ coverage and labels it")

    # 2. The crash replays against a fresh server, which dies of it.
    if crash:
        replay_kills_server(BIN, TINY, os.path.join(out, crash["dir"], "session.json"),
                            os.path.join(tmp, "replay"), "the crash finding")

    # 3. exec: in stdio mode: one process per session, AFL++ coverage too.
    out3 = os.path.join(tmp, "exec")
    r = fuzz(["--target", "exec:%s -" % TINY, "--out", out3, "-max_total_time=8"])
    with open(os.path.join(out3, "fuzz.json")) as f:
        stats3 = json.load(f)["stats"]
    check(r.returncode == 0 and stats3["coverage_source"] == "afl" and stats3["server_coverage"] > 20,
          "exec: targets built with afl-cc feed AFL++ coverage (%d edges, exit %d)"
          % (stats3["server_coverage"], r.returncode))

    # 4. Bad input.
    r = fuzz(["--spawn", TINY + " 1", "--out", os.path.join(tmp, "bad1")])
    check(r.returncode == 2 and "--spawn needs --target HOST:PORT" in r.stderr,
          "--spawn with the embedded target: exit 2 (%d: %s)" % (r.returncode, r.stderr.strip()))
    port4 = free_port()
    r = fuzz(["--spawn", "echo oops >&2; exit 3", "--target", "127.0.0.1:%d" % port4,
              "--out", os.path.join(tmp, "bad2")])
    check(r.returncode == 2 and "exited with status 3 before it greeted" in r.stderr
          and "oops" in r.stderr,
          "a spawned server that exits at once: exit 2 with its output (%d: %s)"
          % (r.returncode, r.stderr.strip()))
    r = fuzz(["--spawn", "sleep 30", "--spawn_timeout_ms", "500", "--target",
              "127.0.0.1:%d" % port4, "--out", os.path.join(tmp, "bad3")], timeout=60)
    check(r.returncode == 2 and "did not greet" in r.stderr,
          "a spawned server that never listens: exit 2 (%d: %s)" % (r.returncode, r.stderr.strip()))

    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

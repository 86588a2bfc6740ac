#!/usr/bin/env python3
"""smtp-harness fuzz end to end:

1. In process against the embedded server's planted-bug profile, from the
   shipped seeds: the shallow planted bug (HELP %x) is found within 60 s,
   minimized to that one command, and written as a finding (input.bin,
   session.json, finding.json) with fuzz.json complete.
2. The finding replays: against `serve --behavior planted` nothing differs
   (exit 0); against the strict profile the replies differ (exit 1).
3. Over TCP against `serve --behavior planted`: sessions run, fuzz.json
   counts them, response states grow.
4. Bad input: an unknown profile, an unreachable target, a remote target
   without --allow_remote, a missing dictionary: exit 2 with one clear line.
5. A full disk under --out: a clear error, the finding still printed, exit 1.
6. LMTP in process (lmtp:embedded): sessions deliver, no false finding.

usage: fuzz_cli_test.py SMTP_HARNESS"""
import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
from checks import check, failures  # noqa: E402


BIN = sys.argv[1]


def serve(tmp, name, behavior):
    """`serve --behavior BEHAVIOR` on an ephemeral port: (process, port)."""
    port_file = os.path.join(tmp, name + ".port")
    log = open(os.path.join(tmp, name + ".log"), "w")
    proc = subprocess.Popen(
        [BIN, "serve", "--listen", "127.0.0.1:0", "--port_file", port_file, "--behavior", behavior,
         "--pregreet_delay_ms", "0", "--max_connections_per_ip", "0"],
        stdout=log, stderr=subprocess.STDOUT)
    end = time.monotonic() + 10
    while time.monotonic() < end and not os.path.exists(port_file):
        if proc.poll() is not None:
            raise RuntimeError("serve exited with %s" % proc.returncode)
        time.sleep(0.05)
    with open(port_file) as f:
        return proc, int(f.read())


def write_seeds(directory, seeds):
    """A new seed directory: one file per name, holding its session input."""
    os.makedirs(directory)
    for name, data in seeds.items():
        with open(os.path.join(directory, name), "wb") as f:
            f.write(data)
    return directory


def small_files():
    """preexec_fn of a full disk: files over 1,500 octets fail with EFBIG (as
    with ENOSPC), SIGXFSZ ignored."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (1500, 1500))


def fuzz(args, timeout=180):
    return subprocess.run([BIN, "fuzz"] + args, capture_output=True, text=True, timeout=timeout)


def main():
    tmp = tempfile.mkdtemp(prefix="fuzz-cli-")

    # 1. The shallow planted bug, in process, within 60 s.
    out = os.path.join(tmp, "planted")
    p = fuzz(["--target", "embedded:planted", "--out", out, "-max_total_time=60", "-seed=7"])
    check(p.returncode == 0, "fuzz exits 0 when its budget runs out (rc %d): %s" %
          (p.returncode, p.stderr[-2000:]))
    with open(os.path.join(out, "fuzz.json")) as f:
        report = json.load(f)
    check(report["complete"] is True, "fuzz.json is complete at the end")
    check(report["stats"]["sessions"] > 1000, "sessions ran: %d" % report["stats"]["sessions"])
    check(report["stats"]["server_coverage"] > 100,
          "server coverage is fed back: %d" % report["stats"]["server_coverage"])
    check(len(report["timeline"]) >= 2, "stats over time")
    check("-entropic=0" in report["libfuzzer_args"],
          "libFuzzer's entropic scheduler is off by default: %s" % report["libfuzzer_args"])
    with open(os.path.join(out, "index.html")) as f:
        html = f.read()
    check("dropped-HELP-220" in html, "index.html (the fuzz report) names the finding")
    shallow = [f for f in report["findings"] if f["bucket"] == "dropped-HELP-220"]
    check(len(shallow) == 1, "the shallow planted bug is found: %s" %
          [f["bucket"] for f in report["findings"]])
    if shallow:
        f = shallow[0]
        check(f["first_at_s"] < 60, "found within 60 s (%.1f s)" % f["first_at_s"])
        check(f["deterministic"] and f["reproduced"] == f["reruns"], "it is deterministic")
        # The bug takes the verb in any case: "help %x" is as minimal.
        check(f["steps"].lower() == "command help %x\n",
              "minimized to the one command: %r" % f["steps"])
        d = os.path.join(out, f["dir"])
        for name in ("input.bin", "session.json", "finding.json"):
            check(os.path.isfile(os.path.join(d, name)), "finding has " + name)
        with open(os.path.join(d, "finding.json")) as fj:
            saved = json.load(fj)
        check(saved["replay"].startswith("smtp-harness replay ") and saved["replay"] == f["replay"],
              "finding.json has the replay command: %r" % saved["replay"])
        check(saved["routes"] and all(r["count"] >= 1 for r in saved["routes"]),
              "finding.json lists its routes with hits: %r" % saved["routes"])
        check("FINDING dropped-HELP-220" in p.stderr, "the finding is printed")
        check(f["cause"] == "planted bug 1: HELP %x",
              "the in-process server's abort reason is kept: %r" % f["cause"])
    # One bug, one bucket: routes that minimize to another verb (a raw
    # "HELP %x" that the next step completes) count in the first bucket.
    causes = [f["cause"] for f in report["findings"] if f["cause"]]
    check(len(causes) == len(set(causes)), "one bucket per abort reason: %s" %
          [(f["bucket"], f["cause"]) for f in report["findings"]])
    if shallow:

        # 2. It replays.
        session = os.path.join(d, "session.json")
        planted, planted_port = serve(tmp, "planted", "planted")
        strict, strict_port = serve(tmp, "strict", "strict")
        try:
            r = subprocess.run([BIN, "replay", session, "--target", "127.0.0.1:%d" % planted_port,
                                "--out", os.path.join(tmp, "replay-same")],
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 0, "the finding replays against the planted server unchanged "
                  "(rc %d): %s" % (r.returncode, r.stderr[-1500:]))
            r = subprocess.run([BIN, "replay", session, "--target", "127.0.0.1:%d" % strict_port,
                                "--out", os.path.join(tmp, "replay-strict")],
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 1, "against the strict server the replies differ (rc %d)" %
                  r.returncode)

            # 3. Over TCP.
            net = os.path.join(tmp, "net")
            p = fuzz(["--target", "127.0.0.1:%d" % planted_port, "--out", net, "-runs=400",
                      "-seed=3"])
            check(p.returncode == 0, "fuzz over TCP exits 0 (rc %d): %s" %
                  (p.returncode, p.stderr[-1500:]))
            with open(os.path.join(net, "fuzz.json")) as fj:
                nr = json.load(fj)
            check(nr["target"] == "127.0.0.1:%d" % planted_port, "the target is named")
            check(nr["stats"]["sessions"] >= 400, "400 sessions ran over TCP: %d" %
                  nr["stats"]["sessions"])
            check(nr["stats"]["response_states"] > 20,
                  "response states are fed back: %d" % nr["stats"]["response_states"])
            check(nr["stats"]["reached"]["mail"] > 0, "sessions get past MAIL")

            # 3a. Over TCP against the lenient profile (DATA ends at a bare
            # LF dot): the shipped smuggling probes make it answer a command
            # hidden in a message; that reply comes before the client sends
            # anything more: a desync at the DATA step, minimized.
            lenient, lenient_port = serve(tmp, "lenient", "lenient")
            try:
                smug = os.path.join(tmp, "smuggle")
                p = fuzz(["--target", "127.0.0.1:%d" % lenient_port, "--out", smug,
                          "-runs=2000", "-seed=3"])
                with open(os.path.join(smug, "fuzz.json")) as fj:
                    found = json.load(fj)["findings"]
                # A server the fuzzer does not start: the bucket is the
                # oracle and the reply that tripped it; the verb is an
                # attribute.
                check(any(f["oracle"] == "desync" and f["verb"] == "DATA" for f in found),
                      "smuggling over TCP is a desync at the DATA step: %s" %
                      [(f["bucket"], f["verb"]) for f in found])
                smuggled = [f for f in found if f["oracle"] == "desync" and f["verb"] == "DATA"]
                if smuggled:
                    # The reproduction without smtp-harness runs and shows
                    # the replies.
                    script = smuggled[0]["reproduce"]
                    check(script.startswith("python3 - <<'EOF'") and
                          ("'127.0.0.1', %d" % lenient_port) in script,
                          "a finding has a raw reproduction: %r" % script[:200])
                    r = subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                                       timeout=60)
                    check(r.returncode == 0 and "250" in r.stdout,
                          "which runs and shows the server's replies: %r %r" %
                          (r.stdout[-500:], r.stderr[-500:]))
                check(all(f["bucket"].startswith(f["oracle"] + "-") and
                          f["verb"] not in f["bucket"].split("-")[1:2] for f in found),
                      "buckets are named by the reply, not the verb: %s" %
                      [f["bucket"] for f in found])
            finally:
                lenient.terminate()
                lenient.wait(timeout=10)
        finally:
            for s in (planted, strict):
                s.terminate()
                s.wait(timeout=10)

    # 3b. exec: a server on stdin/stdout, one process per session; a seed
    # that makes it abort is a "crashed" finding (the signal), one that makes
    # it print a UBSan report a "sanitizer" finding.
    seeds = write_seeds(os.path.join(tmp, "exec-seeds"), {
        "crash": b"\x01\x06EHLO x\x01\x05CRASH",  # session input: EHLO x, CRASH
        "ubsan": b"\x01\x06EHLO x\x01\x05UBSAN",
    })
    stdio = os.path.join(os.path.dirname(os.path.abspath(__file__)), "testdata", "stdio_smtp.py")
    ex = os.path.join(tmp, "exec")
    p = fuzz(["--target", "exec:python3 " + stdio, "--out", ex, "--seeds", seeds, "-runs=30",
              "-seed=5", "--minimize_time_ms", "5000"])
    check(p.returncode == 0, "fuzz over exec: exits 0 (rc %d): %s" % (p.returncode,
                                                                       p.stderr[-1500:]))
    with open(os.path.join(ex, "fuzz.json")) as fj:
        er = json.load(fj)
    check(er["stats"]["sessions"] >= 30, "sessions ran over exec: %d" % er["stats"]["sessions"])
    crash = [f for f in er["findings"] if f["oracle"] == "crashed"]
    check(any(f["steps"].upper() == "COMMAND CRASH\n" and "Aborted" in f["detail"]
              for f in crash),
          "the aborting command is a crashed finding (signal), minimized to it: %s" %
          [(f["bucket"], f["steps"], f["detail"]) for f in er["findings"]])
    san = [f for f in er["findings"] if f["oracle"] == "sanitizer"]
    check(any("runtime error: signed integer overflow" in f["detail"] and
              f["steps"].upper() == "COMMAND UBSAN\n" for f in san),
          "a sanitizer report on stderr is a finding, minimized to its command: %s" %
          [(f["bucket"], f["steps"]) for f in er["findings"]])

    # 7. One bug reached by two routes is one bucket, under the plainer
    # route. libFuzzer runs its seeds smallest first, so the raw route ("HELP
    # %x" sent raw, its line end from the next step's STARTTLS, which the
    # minimizer does not fold into commands) is found and saved first; the
    # direct one then takes its bucket over.
    def step(kind, payload):
        return bytes([kind, len(payload)]) + payload
    seeds = write_seeds(os.path.join(tmp, "cause-seeds"), {
        "raw": step(1, b"EHLO x") + step(4, b"HELP %x") + step(5, b""),
        "direct": step(1, b"EHLO x") + step(1, b"HELP %x") + step(1, b"NOOP " + b"n" * 40),
    })
    out = os.path.join(tmp, "cause")
    p = fuzz(["--target", "embedded:planted", "--out", out, "--seeds", seeds, "-runs=1",
              "-seed=3"])
    with open(os.path.join(out, "fuzz.json")) as f:
        report = json.load(f)
    buckets = [(f["bucket"], f["cause"], f["count"]) for f in report["findings"]]
    check(p.returncode == 0 and [b for b, _, _ in buckets] == ["dropped-HELP-220"],
          "two routes to one abort are one bucket, the direct one's (rc %d): %s" %
          (p.returncode, buckets))
    check(buckets and buckets[0][2] >= 2, "it counts both routes: %s" % buckets)
    routes = report["findings"][0]["routes"] if report["findings"] else []
    check(buckets and sum(r["count"] for r in routes) == buckets[0][2],
          "the taken-over bucket's routes come along (routes %s, count %s)" % (routes, buckets))
    check("by a simpler route (same abort: planted bug 1: HELP %x)" in p.stderr,
          "the takeover is printed: %s" % p.stderr[-1500:])
    check(os.listdir(os.path.join(out, "findings")) == ["dropped-HELP-220"],
          "the raw route's files are gone: %s" % os.listdir(os.path.join(out, "findings")))

    # 8. A reply that comes late is not a hang: a hang is run again with
    # longer deadlines first. "VRFY SLOW" is answered after 1.5 s (past the
    # 0.5 s deadline, within the patient 4 s); after "NOOP HANG" nothing
    # comes.
    seeds = write_seeds(os.path.join(tmp, "slow-seeds"), {
        "slow": b"\x01\x06EHLO x\x01\x09VRFY SLOW",
        "hang": b"\x01\x06EHLO x\x01\x09NOOP HANG\x01\x04NOOP",
    })
    out = os.path.join(tmp, "slow")
    p = fuzz(["--target", "exec:python3 " + stdio, "--out", out, "--seeds", seeds, "-runs=2",
              "-seed=5", "--reply_timeout_ms", "500", "--patient_reply_timeout_ms", "4000",
              "--minimize_time_ms", "3000"])
    with open(os.path.join(out, "fuzz.json")) as f:
        report = json.load(f)
    found = [(f["oracle"], f["steps"]) for f in report["findings"]]
    check(p.returncode == 0 and len(found) == 1 and found[0][0] == "hang" and
          "HANG" in found[0][1].upper(),
          "the server that stops answering is a hang, the slow one is not (rc %d): %s" %
          (p.returncode, found))
    check(report["stats"]["slow_sessions"] >= 1,
          "the slow session is counted as slow: %s" % report["stats"].get("slow_sessions"))
    check(not [n for n in os.listdir(out) if n.startswith("crash-")],
          "a session slowed by re-runs leaves no crash-slow-unit file: %s" % os.listdir(out))
    check("hang-VRFY-250 is not a hang: with longer deadlines the session ended normally"
          in p.stderr, "and said so: %s" % p.stderr[-1500:])
    check(re.search(r"findings \d+ in 1 bucket\(s\), %d slow session\(s\) \(done\)" %
                    report["stats"]["slow_sessions"], p.stderr) is not None,
          "the last progress line counts the slow sessions: %s" % p.stderr[-600:])
    # A server that answers every reply within the patient deadline, but
    # slowly enough that the whole session runs past its deadline (patient:
    # 3 x 2 s; five tarpitted replies take 7.5 s), is slow as well: no
    # finding.
    def patient_run(name, seed, extra=()):
        """One seed against the stdio server, 0.5 s per reply, 2 s when
        patient: (the process, its fuzz.json)."""
        seeds = write_seeds(os.path.join(tmp, name + "-seeds"), {name: seed})
        out = os.path.join(tmp, name)
        p = fuzz(["--target", "exec:python3 " + stdio, "--out", out, "--seeds", seeds,
                  "-runs=1", "-seed=5", "--reply_timeout_ms", "500",
                  "--patient_reply_timeout_ms", "2000", "--minimize_time_ms", "3000"] +
                 list(extra))
        with open(os.path.join(out, "fuzz.json")) as f:
            return p, json.load(f)

    p, report = patient_run("tarpit", b"\x01\x06EHLO x" + b"\x01\x09VRFY SLOW" * 5,
                            ["--fuzz_session_timeout_ms", "3000"])
    check(p.returncode == 0 and not report["findings"] and report["stats"]["slow_sessions"] >= 1,
          "a session that outlasts its deadline one slow reply at a time is slow, not a hang "
          "(rc %d): %s" % (p.returncode, [(f["bucket"], f["steps"]) for f in report["findings"]]))
    check("answered every reply, but slowly enough to run past the session's deadline"
          in p.stderr, "and said so: %s" % p.stderr[-1500:])
    # A reply whose lines come slowly, each within the patient deadline but
    # all of them past it (4 x 0.8 s against 2 s), is slow too: the patient
    # deadline restarts with each line.
    p, report = patient_run("trickle", b"\x01\x06EHLO x\x01\x0cVRFY TRICKLE")
    check(p.returncode == 0 and not report["findings"] and report["stats"]["slow_sessions"] >= 1,
          "a reply that trickles in line by line is slow, not a hang (rc %d): %s" %
          (p.returncode, [(f["bucket"], f["steps"]) for f in report["findings"]]))
    # A tarpit before a real hang that needs it ("LATEHANG" hangs only after
    # a "SLOW"): minimized at the normal deadline, the session keeps only the
    # slow VRFY, which the longer deadline answers. The finding keeps the
    # session that hung, named where it hung.
    p, report = patient_run("slow-hang", b"\x01\x06EHLO x\x01\x09VRFY SLOW\x01\x0dNOOP LATEHANG")
    found = [(f["bucket"], f["steps"], f["minimize"]["steps_after"]) for f in report["findings"]]
    check(p.returncode == 0 and len(found) == 1 and found[0][0].startswith("hang-NOOP-") and
          "SLOW" in found[0][1] and "HANG" in found[0][1] and found[0][2] == 3,
          "a hang behind a tarpit keeps the session that hung, bucketed where it hung "
          "(rc %d): %s" % (p.returncode, found))
    check("the minimized session is only slow with longer deadlines" in p.stderr,
          "and said so: %s" % p.stderr[-1500:])

    # 9. A crash first met by a route that does not reproduce is kept as
    # found; a later route that does takes its bucket over. "CRASH ONCE"
    # aborts only once; the larger seed reaches the same abort every time.
    seeds = write_seeds(os.path.join(tmp, "flaky-seeds"), {
        "once": b"\x01\x06EHLO x\x01\x0aCRASH ONCE",
        "always": b"\x01\x06EHLO x\x01\x2cNOOP " + b"n" * 39 + b"\x01\x05CRASH",
    })
    out = os.path.join(tmp, "flaky")
    p = fuzz(["--target", "exec:python3 %s %s" % (stdio, os.path.join(tmp, "crashed-once")),
              "--out", out, "--seeds", seeds, "-runs=1", "-seed=5", "--minimize_time_ms", "5000"])
    with open(os.path.join(out, "fuzz.json")) as f:
        report = json.load(f)
    found = [(f["bucket"], f["deterministic"], f["steps"], f["count"]) for f in report["findings"]]
    check(p.returncode == 0 and len(found) == 1 and found[0][1] and
          found[0][2].upper() == "COMMAND CRASH\n" and found[0][3] == 2,
          "the flaky route gave way to the one that reproduces, minimized (rc %d): %s" %
          (p.returncode, found))
    check("has a route that reproduces now" in p.stderr, "and said so: %s" % p.stderr[-1500:])

    # 6. LMTP in process: EHLO goes out as LHLO, one reply per recipient at
    # the end of a message; our strict LMTP server gives no finding.
    out = os.path.join(tmp, "lmtp")
    p = fuzz(["--target", "lmtp:embedded", "--out", out, "-max_total_time=10", "-seed=5"])
    with open(os.path.join(out, "fuzz.json")) as f:
        report = json.load(f)
    check(p.returncode == 0 and report["target"] == "lmtp:embedded:strict",
          "lmtp:embedded runs (rc %d, target %s)" % (p.returncode, report["target"]))
    check(report["stats"]["reached"]["data"] > 100,
          "LMTP sessions deliver messages: %d" % report["stats"]["reached"]["data"])
    check(report["findings"] == [], "no finding against the strict LMTP server: %s" %
          [f["bucket"] for f in report["findings"]])

    # 5. A full disk (files over a size limit here, RLIMIT_FSIZE with
    # SIGXFSZ ignored: writes fail with EFBIG as they would with ENOSPC):
    # a clear error, the finding still printed, exit 1; no crash.
    p = subprocess.run([BIN, "fuzz", "--target", "embedded:planted", "--out",
                        os.path.join(tmp, "full"), "-max_total_time=60", "-seed=7",
                        "-handle_xfsz=0"],
                       capture_output=True, text=True, timeout=180, preexec_fn=small_files)
    check(p.returncode == 1, "a run whose results cannot be written exits 1 (rc %d)" % p.returncode)
    check("ERROR: cannot write" in p.stderr and "fuzz.json" in p.stderr,
          "the write error names the file")
    check("FINDING dropped-HELP-220" in p.stderr, "the finding is still printed")
    check("the results in" in p.stderr and "are incomplete" in p.stderr,
          "the end of the run says the results are incomplete")

    # A libFuzzer flag the user gives wins over the tool's default.
    given = os.path.join(tmp, "entropic")
    p = fuzz(["--target", "embedded", "--out", given, "-runs=200", "-entropic=1"], timeout=60)
    with open(os.path.join(given, "fuzz.json")) as f:
        args = json.load(f)["libfuzzer_args"]
    check(p.returncode == 0 and "-entropic=1" in args and "-entropic=0" not in args,
          "-entropic=1 given replaces the default -entropic=0: %s" % args)

    # 4. Bad input: exit 2, one clear line.
    for args, want in [
        (["--target", "embedded:nope"], "unknown server profile 'nope'"),
        (["--target", "127.0.0.1:1"], "target unreachable"),
        (["--target", "192.0.2.1:25"], "needs --allow_remote"),
        (["--target", "embedded", "-dict=/nonexistent.dict"], "cannot open /nonexistent.dict"),
    ]:
        p = fuzz(args + ["--out", os.path.join(tmp, "bad"), "-runs=1"], timeout=60)
        check(p.returncode == 2 and want in p.stderr,
              "%s: exit 2 naming the problem (rc %d): %s" % (args, p.returncode, p.stderr.strip()))

    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()

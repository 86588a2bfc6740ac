#!/usr/bin/python3
"""The whole shipped suite against one hostile mode of hostile_server.py
finishes within 2 x (scenarios / jobs x step timeout), with bounded memory,
and writes its reports. Modes whose server cannot be tested at all (no
greeting, unreadable EHLO) stop after the probe with exit 2.

Usage: suite_bound_test.py PATH/TO/smtp-harness SOURCE_DIR MODE [SERVER_FLAGS...]
"""
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile import Hostile  # noqa: E402

BIN, SRC, MODE = sys.argv[1], sys.argv[2], sys.argv[3]
SERVER_FLAGS = sys.argv[4:]
JOBS = 8
STEP_MS = 1000
MAX_RSS_MB = 256
# Modes whose target cannot be tested: the run stops after the probe.
# (drip at its default 200 ms a byte cannot send a greeting within the step
# timeout either.)
STOPS_AT_PROBE = {"silent", "bad-ehlo", "flood", "endless-line", "drip"}


def main():
    with Hostile(MODE, *SERVER_FLAGS) as server, \
            tempfile.TemporaryDirectory(prefix="suite-bound-") as out:
        argv = [BIN, "run", "--target", "127.0.0.1:%d" % server.port, "--suite",
                os.path.join(SRC, "scenarios"), "--jobs", str(JOBS), "--timeout_ms", str(STEP_MS),
                "--out", out]
        start = time.monotonic()
        # Far above the bound: a hang is reported as a failure, not waited out.
        p = subprocess.run(argv, capture_output=True, timeout=900)
        took = time.monotonic() - start
        rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        with open(os.path.join(out, "results.json")) as f:
            results = json.load(f)
        for name in ("junit.xml", "index.html"):
            assert os.path.exists(os.path.join(out, name)), name
    planned = results["planned"]
    bound = 2 * (planned / JOBS) * STEP_MS / 1000
    verdicts = {}
    for s in results["scenarios"]:
        verdicts[s["verdict"]] = verdicts.get(s["verdict"], 0) + 1
    print("mode %s: exit %d, %.1f s (bound %.1f s for %d scenarios), peak RSS %.0f MB, %s%s"
          % (MODE, p.returncode, took, bound, planned, rss_mb, verdicts,
             "; stopped: " + results["stopped"] if results["stopped"] else ""))
    failures = []
    if took > bound:
        failures.append("took %.1f s, more than the bound %.1f s" % (took, bound))
    if rss_mb > MAX_RSS_MB:
        failures.append("peak RSS %.0f MB > %d MB" % (rss_mb, MAX_RSS_MB))
    if MODE in STOPS_AT_PROBE:
        if p.returncode != 2 or not results["stopped"] or results["scenarios"]:
            failures.append("expected a stop after the probe with exit 2, got exit %d, "
                            "stopped %r, %d scenarios"
                            % (p.returncode, results["stopped"], len(results["scenarios"])))
    else:
        if results["stopped"] or len(results["scenarios"]) != planned:
            failures.append("expected every scenario to run, got %d of %d (stopped %r)"
                            % (len(results["scenarios"]), planned, results["stopped"]))
        if p.returncode not in (0, 1, 2):
            failures.append("exit %d" % p.returncode)
    if failures:
        print("FAILED: " + "; ".join(failures))
        print(p.stderr.decode(errors="replace")[-3000:])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

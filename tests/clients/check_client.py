#!/usr/bin/env python3
"""Runs the client suite against one real client and compares its verdicts
with the documented ones (tests/clients/expected/NAME.json, triaged in
docs/clients.md).

  check_client.py HARNESS PROFILE EXPECTED OUT_DIR [--update]

Fails when the run has a harness error (verdict "error", or exit status 2),
when a scenario's verdict differs from the expected one, or when a scenario
has no expected verdict (a new scenario needs a triage). --update writes
EXPECTED from the run instead (then check docs/clients.md by hand).
"""
import json
import os
import shutil
import subprocess
import sys


def main(argv):
    harness, profile, expected_path, out = argv[1:5]
    update = "--update" in argv[5:]
    shutil.rmtree(out, ignore_errors=True)
    p = subprocess.run([harness, "run", "--client", profile, "--jobs", "8", "--out", out,
                        "--progress_every", "0"],
                       capture_output=True, text=True, timeout=900)
    print(p.stdout[-6000:])
    print(p.stderr[-3000:], file=sys.stderr)
    problems = []
    if p.returncode not in (0, 1):
        problems.append("exit status %d (2: a harness error or a usage error)" % p.returncode)
    try:
        with open(os.path.join(out, "results.json")) as f:
            results = json.load(f)
    except OSError as e:
        print("FAIL: no results.json:", e)
        return 1
    got = {s["id"]: s["verdict"] for s in results["scenarios"]}
    reasons = {s["id"]: s.get("reason", "") for s in results["scenarios"]}
    errors = [i for i, v in got.items() if v == "error"]
    for i in errors:
        problems.append("harness error in %s: %s" % (i, reasons[i]))
    if update:
        with open(expected_path, "w") as f:
            json.dump(dict(sorted(got.items())), f, indent=2)
            f.write("\n")
        print("wrote", expected_path)
    else:
        with open(expected_path) as f:
            expected = json.load(f)
        for i in sorted(set(got) | set(expected)):
            if i not in expected:
                problems.append("%s: %s, but no expected verdict (triage it in docs/clients.md)" %
                                (i, got[i]))
            elif i not in got:
                problems.append("%s: expected %s, not run" % (i, expected[i]))
            elif got[i] != expected[i]:
                problems.append("%s: %s, expected %s (%s)" % (i, got[i], expected[i], reasons[i]))
    for problem in problems:
        print("FAIL:", problem)
    counts = {}
    for v in got.values():
        counts[v] = counts.get(v, 0) + 1
    print("verdicts:", counts)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""Real-server conformance checks for ctest (label realserver).

  check_run.py run HARNESS SERVER HOST:PORT PROFILE SUITE EXPECTED OUTDIR
      Runs the suite (without LMTP scenarios) against a real server and
      checks the run against its documented verdicts (docs/real-servers.md):
      no scenario is "error", the failing ids equal EXPECTED["fail"] and the
      skipped ids EXPECTED["skip"] exactly, every scenario that ran has a
      non-empty transcript (skips have none by design, docs/results.md), and
      index.html and junit.xml exist. The smuggling verdicts (issue 14 item 6):
      the levels of the failing smuggling.* scenarios equal
      EXPECTED["smuggling_fail_levels"] (OpenSMTPD: MUST only, the sequence
      ended the data; Postfix: MUST and security, the smuggled command ran),
      and each id of EXPECTED["not_exploitable"] passed with a reason that
      says "Not exploitable as tested".
      A server of the zoo that does not answer on HOST:PORT is skipped
      (exit 77, ctest SKIP_RETURN_CODE) saying so, never passed. With
      EXPECTED["lmtp"] the target is lmtp:HOST:PORT and only the LMTP
      scenarios run; EXPECTED["min_scenarios"] (default 100) is how many
      must run at least.
  check_run.py start REAL_SERVERS_SH NAME
      Starts one server of the zoo (idempotent); when it cannot start, says
      why (the script's error and log tail) and exits 77: ctest reports the
      start and the tests that need the server as skipped, not passed.
  check_run.py compare HARNESS SUITE OUTDIR RESULTS.json...
      Runs the suite against the embedded server, then `smtp-harness compare`
      on the given runs plus the embedded one; checks exit status 1 (targets
      disagree), the HTML page, and that the text summary names disagreeing
      rows.

Every child process is bounded by a timeout. Exit 0 on success, 1 otherwise.
"""
import json
import os
import subprocess
import sys

RUN_TIMEOUT_S = 300      # one suite run (about 25 s on the 2-core CI box)
START_TIMEOUT_S = 300    # one server's install and start
SKIP = 77                # ctest SKIP_RETURN_CODE
COMPARE_TIMEOUT_S = 60


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def run_cmd(argv, timeout):
    print("+ " + " ".join(argv), flush=True)
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail("timed out after %d s: %s" % (timeout, " ".join(argv)))
    sys.stdout.write(p.stdout[-4000:])
    sys.stderr.write(p.stderr[-4000:])
    return p


def skip(msg):
    print("SKIP: " + msg)
    sys.exit(SKIP)


def greets(target):
    """The server at HOST:PORT sends a 220 greeting within 5 s."""
    import socket
    host, port = target.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.settimeout(5)
            return s.recv(512).startswith(b"220")
    except OSError:
        return False


def cmd_start(script, name):
    try:
        p = subprocess.run([script, "start", name], capture_output=True, text=True,
                           timeout=START_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        skip("%s did not start within %d s" % (name, START_TIMEOUT_S))
    sys.stdout.write(p.stdout)
    if p.returncode != 0:
        skip("%s could not start; the tests that need it are skipped. real-servers.sh said:\n%s"
             % (name, p.stderr[-3000:]))
    sys.stderr.write(p.stderr[-2000:])
    print("OK")


def load_results(outdir):
    path = os.path.join(outdir, "results.json")
    if not os.path.isfile(path):
        fail("no results.json in " + outdir)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def check_files(outdir, problems):
    for name in ("index.html", "junit.xml"):
        p = os.path.join(outdir, name)
        if not os.path.isfile(p) or os.path.getsize(p) == 0:
            problems.append("missing or empty " + p)


def diff_sets(kind, got, want, problems):
    extra = sorted(got - want)
    missing = sorted(want - got)
    if extra:
        problems.append("%s but not documented as %s: %s" % (kind, kind, ", ".join(extra)))
    if missing:
        problems.append("documented as %s but not %s: %s" % (kind, kind, ", ".join(missing)))


def check_smuggling(scenarios, expected, problems):
    """MUST (non-conforming) and security (exploitable) smuggling verdicts."""
    levels = {s["level"] for s in scenarios
              if s["verdict"] == "fail" and s["id"].startswith("smuggling.")}
    want = set(expected.get("smuggling_fail_levels", []))
    if levels != want:
        problems.append("failing smuggling scenarios have levels %s, documented %s"
                        % (sorted(levels), sorted(want)))
    by_id = {s["id"]: s for s in scenarios}
    for sid in expected.get("not_exploitable", []):
        s = by_id.get(sid)
        if s is None:
            problems.append("not_exploitable: %s did not run" % sid)
        elif s["verdict"] != "pass" or "Not exploitable as tested" not in s.get("reason", ""):
            problems.append("%s: expected a pass 'Not exploitable as tested', got %s: %r"
                            % (sid, s["verdict"], s.get("reason", "")))


def cmd_run(harness, server, target, profile, suite, expected_path, outdir):
    with open(expected_path, encoding="utf-8") as f:
        expected = json.load(f)
    if expected.get("server") != server:
        fail("%s is for server %r, not %r" % (expected_path, expected.get("server"), server))
    if not greets(target):
        skip("%s does not answer 220 on %s (see the test realserver.start.%s for why it did "
             "not start)" % (server, target, server))
    lmtp = bool(expected.get("lmtp"))
    p = run_cmd([harness, "run", "--target", ("lmtp:" if lmtp else "") + target,
                 "--profile", profile, "--suite", suite, "--tag", "lmtp" if lmtp else "!lmtp",
                 "--jobs", "4", "--target_name", server, "--out", outdir], RUN_TIMEOUT_S)
    if p.returncode not in (0, 1):
        fail("smtp-harness run exited %d (2 = errors or bad input)" % p.returncode)
    r = load_results(outdir)
    problems = []
    if not r.get("complete"):
        problems.append("results.json is not complete")
    scenarios = r.get("scenarios", [])
    if len(scenarios) < expected.get("min_scenarios", 100):
        problems.append("only %d scenarios ran" % len(scenarios))
    by = {"pass": set(), "fail": set(), "skip": set(), "error": set()}
    for s in scenarios:
        by.setdefault(s["verdict"], set()).add(s["id"])
        if s["verdict"] == "error":
            problems.append("error: %s: %s" % (s["id"], s.get("reason", "")))
        if s["verdict"] != "skip" and not s.get("transcript", {}).get("entries"):
            problems.append("empty transcript: " + s["id"])
    diff_sets("fail", by["fail"], set(expected.get("fail", [])), problems)
    check_smuggling(scenarios, expected, problems)
    diff_sets("skip", by["skip"], set(expected.get("skip", [])), problems)
    check_files(outdir, problems)
    print("%s: %d pass, %d fail, %d skip, %d error" % (
        server, len(by["pass"]), len(by["fail"]), len(by["skip"]), len(by["error"])))
    if problems:
        fail("\n  ".join([server + " differs from " + expected_path] + problems))
    print("OK")


def cmd_compare(harness, suite, outdir, runs):
    emb = os.path.join(outdir, "embedded")
    p = run_cmd([harness, "run", "--suite", suite, "--tag", "!lmtp", "--jobs", "4",
                 "--target_name", "embedded", "--out", emb], RUN_TIMEOUT_S)
    if p.returncode != 0:
        fail("embedded run exited %d (expected 0: the reference server passes)" % p.returncode)
    html = os.path.join(outdir, "compare.html")
    if os.path.exists(html):
        os.remove(html)
    inputs = list(runs) + [os.path.join(emb, "results.json")]
    for f in inputs:
        load_results(os.path.dirname(f))
    p = run_cmd([harness, "compare"] + inputs + ["--html", html], COMPARE_TIMEOUT_S)
    problems = []
    if p.returncode != 1:
        problems.append("compare exited %d, expected 1 (targets disagree)" % p.returncode)
    if not os.path.isfile(html) or os.path.getsize(html) == 0:
        problems.append("compare did not write " + html)
    lines = p.stdout.splitlines()
    head = lines[0] if lines else ""
    import re
    m = re.match(r"compare: (\d+) scenarios x (\d+) targets; (\d+) disagree", head)
    if not m:
        problems.append("unexpected summary line: %r" % head)
    else:
        if int(m.group(2)) != len(inputs):
            problems.append("summary names %s targets, expected %d" % (m.group(2), len(inputs)))
        if int(m.group(3)) == 0:
            problems.append("summary says no disagreement")
    # A row every real server fails and the embedded server passes.
    rows = [l for l in lines if l.startswith("smuggling.data-end.lf-dot-crlf ")]
    if not rows or "fail" not in rows[0] or "pass" not in rows[0]:
        problems.append("disagreeing row smuggling.data-end.lf-dot-crlf not listed")
    for name in ("postfix", "aiosmtpd", "embedded"):
        if not any(l.startswith(name + " ") for l in lines):
            problems.append("target %s not in the totals table" % name)
    if problems:
        fail("\n  ".join(["compare"] + problems))
    print("OK")


def main(argv):
    if len(argv) == 9 and argv[1] == "run":
        cmd_run(*argv[2:])
    elif len(argv) == 4 and argv[1] == "start":
        cmd_start(argv[2], argv[3])
    elif len(argv) >= 6 and argv[1] == "compare":
        cmd_compare(argv[2], argv[3], argv[4], argv[5:])
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)

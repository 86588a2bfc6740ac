#!/usr/bin/env python3
"""CLI tests of `smtp-harness report` and `compare` (no browser needed).

  cli_test.py SMTP_HARNESS TESTDATA_DIR

Checks: report writes index.html and junit.xml (where asked, or next to the
input); junit.xml parses as XML (expat) for every fixture, hostile bytes
included, with the right counts; compare prints the summary and exits 1 when
the targets differ (a verdict disagrees or a scenario is missing), 0 when
they agree, 2 on bad input; report --serve answers over
HTTP, refuses foreign Host headers and never serves outside its runs.
"""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "browser_test"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "pylib"))
from checks import check, failures  # noqa: E402
import fixtures  # noqa: E402

CLI, TESTDATA = sys.argv[1], sys.argv[2]


def run(*argv):
    return subprocess.run([CLI, *argv], capture_output=True, text=True, timeout=120)


def junit_counts(path):
    root = ET.parse(path).getroot()
    return {k: int(root.get(k)) for k in ("tests", "failures", "errors", "skipped")}


tmp = tempfile.mkdtemp(prefix="smtp-reports-cli-")
try:
    # report: explicit outputs, for every fixture.
    for name in ("small", "hostile", "live"):
        src = os.path.join(TESTDATA, name + "_results.json")
        html, xml = os.path.join(tmp, name + ".html"), os.path.join(tmp, name + ".xml")
        p = run("report", src, "--html", html, "--junit", xml)
        check(p.returncode == 0, f"report {name}: exit 0 ({p.stderr.strip()})")
        check(os.path.exists(html) and os.path.exists(xml), f"report {name}: both files written")
        try:
            counts = junit_counts(xml)
            check(True, f"report {name}: junit.xml is well-formed XML")
        except ET.ParseError as e:
            counts = None
            check(False, f"report {name}: junit.xml is well-formed XML ({e})")
        doc = fixtures.load(src)
        want = len(doc["scenarios"])
        check(counts is not None and counts["tests"] == want, f"report {name}: {want} testcases")
        with open(html, encoding="utf-8") as f:
            page = f.read()
        check(page.count("<script") == 3, f"report {name}: exactly 3 script elements")

    counts = junit_counts(os.path.join(tmp, "small.xml"))
    check(counts == {"tests": 4, "failures": 1, "errors": 1, "skipped": 1}, f"small junit counts {counts}")
    tree = ET.parse(os.path.join(tmp, "hostile.xml"))
    out = "".join(e.text or "" for e in tree.iter("system-out"))
    check("<script>window.__pwned=1;alert(1)</script>" in out, "hostile junit: payload kept as text")
    names = [tc.get("name") for tc in tree.iter("testcase")]
    check(any("hostile.<script>" in n for n in names), "hostile junit: testcase name unescaped by parser")

    # junit.xml shape (issue 14 item 8), parsed as CI viewers parse it.
    def junit_cases(path):
        return list(ET.parse(path).getroot().iter("testcase"))

    cases = junit_cases(os.path.join(tmp, "small.xml"))
    for tc in cases:
        cls = tc.get("classname")
        # Jenkins: package = up to the last dot, class = the rest.
        check(cls.startswith("smtp-harness.") and "." not in cls[len("smtp-harness."):],
              f"junit classname {cls!r}: one dot, after the package")
        check(" \u2014 " in tc.get("name"), f"junit name {tc.get('name')!r}: 'ID \u2014 title'")
        passing = not any(tc.find(x) is not None for x in ("failure", "error", "skipped"))
        if passing:
            check(tc.find("system-out") is None, f"junit {tc.get('name')}: no transcript for a pass")
    check([tc.find("failure").get("type") for tc in cases if tc.find("failure") is not None] == ["MUST"],
          "junit small: the one <failure> is the MUST failure")
    # A run whose only failure is below fail-on exits 0: no <failure>, no <error>, the
    # finding visible as <skipped> with its message and transcript.
    findings = fixtures.load(os.path.join(TESTDATA, "small_results.json"))
    for sc in findings["scenarios"]:
        if sc["verdict"] == "fail":
            sc["level"] = "SHOULD"
        elif sc["verdict"] == "error":
            sc["verdict"], sc["reason"] = "pass", ""
    fsrc = os.path.join(tmp, "findings", "results.json")
    fixtures.write(fsrc, findings)
    fxml = os.path.join(tmp, "findings.xml")
    p = run("report", fsrc, "--junit", fxml)
    counts = junit_counts(fxml)
    check(p.returncode == 0 and counts["failures"] == 0 and counts["errors"] == 0 and counts["skipped"] == 2,
          f"junit of an exit-0 run with a SHOULD finding: no failures or errors ({counts})")
    finding = [tc for tc in junit_cases(fxml) if tc.find("skipped") is not None
               and "SHOULD finding" in (tc.find("skipped").get("message") or "")]
    check(len(finding) == 1 and finding[0].find("system-out") is not None,
          "junit: the SHOULD finding is a <skipped> with its transcript")
    lean = sum(tc.find("system-out") is not None for tc in junit_cases(fxml))
    p = run("report", fsrc, "--junit", fxml, "--junit_passing_transcripts")
    full = sum(tc.find("system-out") is not None for tc in junit_cases(fxml))
    check(p.returncode == 0 and lean == 1 and full == 3,  # the skip has no transcript
          f"junit: --junit_passing_transcripts adds the passing transcripts ({lean} -> {full})")

    # report: default outputs next to the input.
    d = os.path.join(tmp, "run1")
    os.makedirs(d)
    shutil.copy(os.path.join(TESTDATA, "small_results.json"), os.path.join(d, "results.json"))
    p = run("report", os.path.join(d, "results.json"))
    check(p.returncode == 0 and "4 scenarios: 1 pass, 1 fail, 1 skip, 1 error" in p.stdout,
          f"report default: summary line ({p.stdout.strip()})")
    check(sorted(os.listdir(d)) == ["index.html", "junit.xml", "results.json"], "report default: files")

    # report: errors.
    check(run("report").returncode == 2, "report without input: exit 2")
    check(run("report", os.path.join(tmp, "missing.json")).returncode == 2, "report missing file: exit 2")
    bad = os.path.join(tmp, "bad.json")
    with open(bad, "w") as f:
        f.write("{\"schema_version\": 1}")
    p = run("report", bad)
    check(p.returncode == 2 and "scenarios" in p.stderr, "report invalid results: exit 2 with reason")
    p = run("report", os.path.join(tmp, "missing.json"))
    check("No such file or directory" in p.stderr, f"report missing file: the system's reason ({p.stderr.strip()})")
    broken = os.path.join(tmp, "broken.json")
    with open(broken, "w") as f:
        f.write('{"schema_version": 1,\n "scenarios": [}\n')
    p = run("report", broken)
    check(p.returncode == 2 and "not valid JSON: parse error at line 2, column 16" in p.stderr,
          f"report broken JSON: exit 2 with the position ({p.stderr.strip()})")

    # report, compare: the input size limit (--max_results_mb), with an error naming the
    # file, its size, the limit and the flag.
    big = os.path.join(tmp, "big", "results.json")
    doc = fixtures.load(os.path.join(TESTDATA, "small_results.json"))
    doc["command_line"] = "x" * (2 << 20)
    fixtures.write(big, doc)
    size = os.path.getsize(big)
    p = run("report", big, "--max_results_mb", "1")
    want = f"{big} is {size} bytes, more than the limit of 1048576 bytes (1 MiB); --max_results_mb=N raises the limit"
    check(p.returncode == 2 and want in p.stderr, f"report over --max_results_mb: exit 2 ({p.stderr.strip()})")
    p = run("compare", big, big, "--max_results_mb", "1")
    check(p.returncode == 2 and want in p.stderr, f"compare over --max_results_mb: exit 2 ({p.stderr.strip()})")
    p = run("report", big, "--max_results_mb", "3", "--html", os.path.join(tmp, "big.html"),
            "--junit", os.path.join(tmp, "big.xml"))
    check(p.returncode == 0, f"report under a raised --max_results_mb: exit 0 ({p.stderr.strip()})")
    p = run("report", big, "--max_results_mb", "0")
    check(p.returncode == 2 and "--max_results_mb must be at least 1" in p.stderr, "report --max_results_mb 0: exit 2")

    # compare.
    small = fixtures.load(os.path.join(TESTDATA, "small_results.json"))
    a, b, c = (os.path.join(tmp, x, "results.json") for x in ("alpha", "beta", "gamma"))
    fixtures.write(a, fixtures.variant(small, "", {}))
    fixtures.write(b, fixtures.variant(small, "beta-mx", {"rfc5321.ehlo.basic": "fail"}))
    fixtures.write(c, fixtures.variant(small, "", {}))
    p = run("compare", a, b, "--html", os.path.join(tmp, "cmp.html"))
    check(p.returncode == 1, f"compare disagreeing: exit 1 (got {p.returncode})")
    check("1 disagree (pass vs fail)" in p.stdout and re.search(r"rfc5321\.ehlo\.basic\s+pass\s+fail", p.stdout) is not None,
          "compare: disagreeing row listed")
    check(re.search(r"^alpha\s+4\s", p.stdout, re.M) is None and re.search(r"^alpha\s+1\s+1\s+1\s+1", p.stdout, re.M)
          is not None, "compare: directory name labels an unnamed run")
    check(os.path.exists(os.path.join(tmp, "cmp.html")), "compare: html written")
    p = run("compare", a, c)
    check(p.returncode == 0 and "all targets agree" in p.stdout, "compare agreeing: exit 0")
    # A scenario one target lacks is a difference too: exit 1, and "missing" in the text
    # and on the page (issue 13: compare exited 0 with 253 scenarios missing).
    partial = fixtures.variant(small, "", {})
    partial["scenarios"] = [s for s in partial["scenarios"] if s["id"] != "rfc5321.ehlo.basic"]
    d = os.path.join(tmp, "delta", "results.json")
    fixtures.write(d, partial)
    p = run("compare", a, d, "--html", os.path.join(tmp, "cmp-missing.html"))
    check(p.returncode == 1, f"compare with a missing scenario: exit 1 (got {p.returncode})")
    check("0 disagree (pass vs fail), 1 missing from some target" in p.stdout and
          re.search(r"^rfc5321\.ehlo\.basic\s+pass\s+missing\s", p.stdout, re.M) is not None,
          f"compare: missing row listed as missing ({p.stdout!r})")
    with open(os.path.join(tmp, "cmp-missing.html"), encoding="utf-8") as f:
        page = f.read()
    check('"missing":true' in page and "'disagree or missing'" in page,
          "compare html: the row is marked missing and the filter includes it")
    # Coverage differences (a skip or an error on one side) are counted and listed apart
    # and alone exit 0 (issue 14: 59 of 82 "disagreements" were skips).
    cov = fixtures.variant(small, "", {"rfc5321.ehlo.basic": "skip", "rfc5321.vrfy.policy": "pass"})
    e = os.path.join(tmp, "epsilon", "results.json")
    fixtures.write(e, cov)
    p = run("report", a)  # alpha gets an index.html; epsilon has none
    p = run("compare", a, e, "--html", os.path.join(tmp, "cmp-cov.html"))
    check(p.returncode == 0, f"compare with coverage differences only: exit 0 (got {p.returncode})")
    check("0 disagree (pass vs fail), 0 missing from some target, 2 coverage differences" in p.stdout
          and re.search(r"coverage only[^\n]*:\n.*\nrfc5321\.ehlo\.basic\s+pass\s+skip", p.stdout) is not None
          and "no disagreements: the targets differ in coverage only" in p.stdout,
          f"compare: coverage rows listed apart ({p.stdout!r})")
    with open(os.path.join(tmp, "cmp-cov.html"), encoding="utf-8") as f:
        page = f.read()
    check('"report":"alpha/index.html"' in page and '"report":""' in page,
          "compare html: the column with a report links it, relatively; the other does not")
    check('"coverage":2' in page and '"coverage":true' in page, "compare html: coverage counted and marked")
    check(run("compare", a).returncode == 2, "compare with one file: exit 2")
    check(run("compare", a, bad).returncode == 2, "compare with a bad file: exit 2")

    # report --serve.
    root = os.path.join(tmp, "serve")
    fixtures.write(os.path.join(root, "r1", "results.json"), small)
    with open(os.path.join(tmp, "secret.txt"), "w") as f:
        f.write("secret")
    srv = subprocess.Popen([CLI, "report", "--serve", root, "--port", "0"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        m = re.search(r"127\.0\.0\.1:(\d+)/", srv.stdout.readline())
        check(m is not None, "serve: prints its address")
        port = int(m.group(1))

        def get(path, host=None, method="GET"):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            conn.putheader("Host", host or f"127.0.0.1:{port}")
            conn.endheaders()
            r = conn.getresponse()
            body = r.read()
            conn.close()
            return r.status, dict(r.getheaders()), body

        status, headers, body = get("/")
        check(status == 200 and b"/run/r1/" in body, "serve: listing links the run")
        check(headers.get("X-Content-Type-Options") == "nosniff", "serve: nosniff header")
        status, headers, body = get("/run/r1/")
        check(status == 200 and "script-src 'nonce-" in headers.get("Content-Security-Policy", ""),
              "serve: run page with CSP nonce header")
        status, _, body = get("/run/r1/results.json")
        check(status == 200 and json.loads(body)["target"]["name"] == "postfix", "serve: results.json")
        status, _, body = get("/run/r1/junit.xml")
        check(status == 200 and ET.fromstring(body).get("tests") == "4", "serve: junit.xml")
        for path in ["/run/../secret.txt", "/run/r1/../../secret.txt", "/run/%2e%2e/secret.txt",
                     "/run/r1/..%2f..%2fsecret.txt", "/secret.txt", "/../secret.txt", "/run/./r1/"]:
            status, _, body = get(path)
            check(status == 404 and b"secret" not in body, f"serve: {path} -> 404")
        status, _, _ = get("/", host="evil.example")
        check(status == 403, "serve: foreign Host refused")
        status, _, _ = get("/", method="POST")
        check(status == 405, "serve: POST refused")
    finally:
        srv.send_signal(signal.SIGTERM)
        rc = srv.wait(10)
    check(rc == 0, f"serve: clean exit on SIGTERM ({rc})")
    p = run("report", "--serve", os.path.join(tmp, "nope"), "--port", "0")
    check(p.returncode == 2 and "not a directory" in p.stderr, "serve: missing directory is exit 2")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)

#!/usr/bin/env python3
"""The interoperability matrix and triage of docs/interop.md, from real runs.

  scripts/interop.py run [--harness PATH] [--out DIR] [--update FILE] [NAME...]
      Runs the suite against every server of the zoo that answers (or the
      NAMEs given), all in parallel: profiles tests/realserver/profiles/NAME.json,
      LMTP servers (tests/realserver/expected/NAME.json "lmtp") with the LMTP
      scenarios only. Each run goes to DIR/NAME (default out/interop); then
      `smtp-harness compare` over the SMTP servers' runs writes the matrix
      page DIR/interop.html (servers as columns, differences first, grouped
      by RFC section). Prints the generated Markdown, or with --update
      writes it into FILE between the markers. A server that does not answer
      is left out, and the text says so.
  scripts/interop.py check
      Without any server: every id that tests/realserver/expected/NAME.json
      lists as failing has a triage note for NAME (the ctest
      realserver.triage-complete; realserver.NAME keeps those lists equal
      to what the servers do). Exit 1 naming each id without one.
  scripts/interop.py [--update FILE] TRIAGE.json RESULTS_DIR...
      The same Markdown from existing runs (each RESULTS_DIR holds the
      results.json of one server, target_name = the server).

The Markdown: a totals table (one row per server: banner, pass, fail, skip,
error); the matrix (SMTP servers as columns; the scenarios on which they
differ first, grouped by RFC section, then those on which all agree, folded
per section); and per server every failing verdict with its level, RFC
clause, the server's answer and its triage note. Notes come from TRIAGE
(tests/realserver/triage.json; key "SERVER:id" first, then "id") and, for
Postfix, aiosmtpd and OpenSMTPD, from the tables of docs/real-servers.md. A
failing verdict (or an error) with no note is printed as "UNTRIAGED" and
makes the exit status 1, so a new failure cannot slip into the document
unexplained. --update replaces the text between <!-- interop:begin --> and
<!-- interop:end -->. Every child process has a timeout.
"""
import concurrent.futures
import json
import os
import re
import socket
import subprocess
import sys

BEGIN, END = "<!-- interop:begin -->", "<!-- interop:end -->"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ZOO = ["postfix", "aiosmtpd", "opensmtpd", "smtp-sink", "exim", "sendmail", "chasquid",
       "courier", "nodejs", "dovecot"]
RUN_TIMEOUT_S = 600
COMPARE_TIMEOUT_S = 120
# docs/real-servers.md's classes.
CLASSES = {"a": "deviation", "b": "policy", "c": "scenario bug (fixed)", "d": "harness error"}


def cell(text, limit=160):
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("|", "\\|")
    text = "".join(c if c.isprintable() else "\\x%02x" % ord(c) for c in text)
    return text if len(text) <= limit else text[:limit] + "..."


def code(text, limit=160):
    """`text` as a Markdown code span (backticks in it cannot end it)."""
    return "`%s`" % cell(text, limit).replace("`", "'")


def rfc_of(s):
    rfc = s.get("rfc") or {}
    doc, sec = rfc.get("document", ""), rfc.get("section", "")
    return doc + (" §" + sec if sec else "")


def section_group(s):
    """As reports/compare.cc RfcSectionGroup: 'RFC 5321 §4.1', 'RFC 5321 Appendix F'."""
    rfc = s.get("rfc") or {}
    doc, sec = rfc.get("document", ""), rfc.get("section", "")
    if not doc:
        return "(no RFC clause)"
    if not sec:
        return doc
    if sec[0].isalpha():
        return doc + " Appendix " + sec[0]
    return doc + " §" + ".".join(sec.split(".")[:2])


def natural(text):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", text)]


def real_servers_notes(path):
    """{'SERVER:id': 'deviation: ...'} from the tables of docs/real-servers.md."""
    notes = {}
    if not os.path.isfile(path):
        return notes
    server = None
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"## (\S+) \(", line)
            if m:
                server = m.group(1)
                continue
            m = re.match(r"\| `([^`]+)` \| [^|]+ \| fail \| ([a-d]) \([^)]*\) \| (.*?) \| `", line)
            if server and m:
                notes["%s:%s" % (server, m.group(1))] = "%s: %s" % (CLASSES[m.group(2)], m.group(3))
    return notes


def load_runs(dirs):
    runs = []
    for d in dirs:
        with open(os.path.join(d, "results.json"), encoding="utf-8") as f:
            runs.append(json.load(f))
    return runs


def totals(runs, absent):
    out = ["| server | banner | pass | fail | skip | error |", "|---|---|---:|---:|---:|---:|"]
    for r in runs:
        c = {"pass": 0, "fail": 0, "skip": 0, "error": 0}
        for s in r["scenarios"]:
            c[s["verdict"]] = c.get(s["verdict"], 0) + 1
        out.append("| %s | %s | %d | %d | %d | %d |" % (
            r["target"]["name"], code(r["target"].get("banner", ""), 70),
            c["pass"], c["fail"], c["skip"], c["error"]))
    for name, why in absent:
        out.append("| %s | (not run: %s) | | | | |" % (name, cell(why, 100)))
    return out


def matrix(runs):
    """SMTP servers as columns; differing rows first, by RFC section."""
    smtp = [r for r in runs if not any("lmtp" in s.get("tags", []) for s in r["scenarios"])]
    if len(smtp) < 2:
        return []
    names = [r["target"]["name"] for r in smtp]
    by = [{s["id"]: s for s in r["scenarios"]} for r in smtp]
    ids = []
    for r in smtp:
        for s in r["scenarios"]:
            if s["id"] not in ids:
                ids.append(s["id"])
    rows = {0: [], 1: [], 2: []}  # disagree, other difference, agree
    for sid in ids:
        cells = [b.get(sid) for b in by]
        verdicts = [c["verdict"] if c else "missing" for c in cells]
        some = next(c for c in cells if c)
        kind = 0 if ("pass" in verdicts and "fail" in verdicts) else (
            1 if len(set(verdicts)) > 1 else 2)
        rows[kind].append((section_group(some), sid, some["level"], verdicts))
    out = ["SMTP servers as columns (Dovecot speaks LMTP and runs only the LMTP "
           "scenarios). The same table, with each cell's reason, is the page "
           "`smtp-harness compare` writes (`interop.html`).", ""]
    head = "| scenario | level | " + " | ".join(names) + " |"
    rule = "|---|---|" + "---|" * len(names)
    mark = {"pass": "pass", "fail": "**fail**", "skip": "skip", "error": "**error**",
            "missing": "—"}
    titles = {0: "Servers disagree (pass against fail): %d scenarios",
              1: "Servers differ in coverage only (skipped or missing on some): %d scenarios"}
    for kind in (0, 1):
        out += ["### " + titles[kind] % len(rows[kind]), "", head, rule]
        group = None
        for g, sid, level, verdicts in sorted(rows[kind], key=lambda r: (natural(r[0]), r[1])):
            if g != group:
                group = g
                out.append("| *%s* | |%s" % (cell(g), " |" * len(names)))
            out.append("| `%s` | %s | %s |" % (sid, level, " | ".join(mark[v] for v in verdicts)))
        out.append("")
    out += ["### All servers agree: %d scenarios" % len(rows[2]), "",
            "<details><summary>by RFC section</summary>", "",
            "| RFC section | scenarios | verdict on every server |", "|---|---|---|"]
    groups = {}
    for g, sid, level, verdicts in rows[2]:
        groups.setdefault(g, []).append((sid, verdicts[0]))
    for g in sorted(groups, key=natural):
        items = sorted(groups[g])
        out.append("| %s | %s | %s |" % (cell(g), ", ".join("`%s`" % i for i, _ in items),
                                           ", ".join(sorted({v for _, v in items}))))
    out += ["", "</details>", ""]
    return out


def render(triage, dirs, absent=()):
    runs = load_runs(dirs)
    out = totals(runs, absent)
    out += ["", "## Matrix", ""] + matrix(runs)
    out += ["## Failing verdicts, per server"]
    untriaged = 0
    for r in runs:
        name = r["target"]["name"]
        fails = [s for s in r["scenarios"] if s["verdict"] in ("fail", "error")]
        out += ["", "### %s" % name, ""]
        if not fails:
            out.append("No failing verdict.")
            continue
        out += ["| id | level | RFC | the server's answer | triage |", "|---|---|---|---|---|"]
        for s in sorted(fails, key=lambda s: s["id"]):
            note = triage.get(name + ":" + s["id"], triage.get(s["id"]))
            if note is None or s["verdict"] == "error":
                untriaged += 1
                note = "UNTRIAGED" + (" (harness error)" if s["verdict"] == "error" else "")
            actual = (s.get("failure") or {}).get("actual") or s.get("reason", "")
            out.append("| `%s` | %s | %s | %s | %s |" % (
                s["id"], s["level"], rfc_of(s), code(actual), cell(note, 1000)))
    return "\n".join(out) + "\n", untriaged


def greets(host, port):
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            s.settimeout(5)
            return s.recv(512).startswith(b"220")
    except OSError:
        return False


def run_one(harness, out, name):
    """Runs the suite against NAME: (results dir, None) or (None, why not)."""
    prof = os.path.join(ROOT, "tests", "realserver", "profiles", name + ".json")
    with open(prof, encoding="utf-8") as f:
        p = json.load(f)
    exp = os.path.join(ROOT, "tests", "realserver", "expected", name + ".json")
    lmtp = False
    if os.path.isfile(exp):
        with open(exp, encoding="utf-8") as f:
            lmtp = bool(json.load(f).get("lmtp"))
    if not greets(p["host"], int(p["port"])):
        return None, "no 220 on %s:%s (scripts/real-servers.sh start %s)" % (p["host"], p["port"], name)
    d = os.path.join(out, name)
    argv = [harness, "run", "--target", ("lmtp:" if lmtp else "") + "%s:%s" % (p["host"], p["port"]),
            "--profile", prof, "--suite", os.path.join(ROOT, "scenarios"),
            "--tag", "lmtp" if lmtp else "!lmtp", "--jobs", "4", "--target_name", name, "--out", d]
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        return None, "the run took more than %d s" % RUN_TIMEOUT_S
    if r.returncode not in (0, 1):
        return None, "smtp-harness run exited %d: %s" % (r.returncode, r.stderr.strip()[-300:])
    return d, None


def cmd_run(args):
    harness = os.path.join(ROOT, "build", "default", "app", "smtp-harness")
    out = os.path.join(ROOT, "out", "interop")
    update = None
    names = []
    i = 0
    while i < len(args):
        if args[i] in ("--harness", "--out", "--update") and i + 1 < len(args):
            if args[i] == "--harness":
                harness = args[i + 1]
            elif args[i] == "--out":
                out = args[i + 1]
            else:
                update = args[i + 1]
            i += 2
            continue
        if args[i] not in ZOO:
            print("interop.py: unknown server %r (%s)" % (args[i], " ".join(ZOO)), file=sys.stderr)
            return 2
        names.append(args[i])
        i += 1
    names = names or ZOO
    os.makedirs(out, exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
        done = list(pool.map(lambda n: (n,) + run_one(harness, out, n), names))
    dirs = [d for _, d, _ in done if d]
    absent = [(n, why) for n, _, why in done if why]
    for n, why in absent:
        print("interop.py: %s left out: %s" % (n, why), file=sys.stderr)
    if not dirs:
        print("interop.py: no server answered", file=sys.stderr)
        return 1
    smtp = []
    for d in dirs:
        with open(os.path.join(d, "results.json"), encoding="utf-8") as f:
            if not any("lmtp" in s.get("tags", []) for s in json.load(f)["scenarios"]):
                smtp.append(os.path.join(d, "results.json"))
    page = os.path.join(out, "interop.html")
    if len(smtp) >= 2:
        r = subprocess.run([harness, "compare"] + smtp + ["--html", page], capture_output=True,
                           text=True, timeout=COMPARE_TIMEOUT_S)
        if r.returncode not in (0, 1) or not os.path.isfile(page):
            print("interop.py: compare failed (%d): %s" % (r.returncode, r.stderr[-500:]),
                  file=sys.stderr)
            return 1
        print("interop.py: wrote %s" % page, file=sys.stderr)
    triage = os.path.join(ROOT, "tests", "realserver", "triage.json")
    return finish(triage, dirs, absent, update)


def finish(triage_path, dirs, absent, update):
    with open(triage_path, encoding="utf-8") as f:
        triage = json.load(f)
    notes = real_servers_notes(os.path.join(ROOT, "docs", "real-servers.md"))
    notes.update(triage)  # triage.json wins
    text, untriaged = render(notes, dirs, absent)
    if update:
        with open(update, encoding="utf-8") as f:
            doc = f.read()
        if BEGIN not in doc or END not in doc:
            print("interop.py: %s has no %s ... %s markers" % (update, BEGIN, END), file=sys.stderr)
            return 2
        head, rest = doc.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        with open(update, "w", encoding="utf-8") as f:
            f.write(head + BEGIN + "\n" + text + END + tail)
    else:
        sys.stdout.write(text)
    if untriaged:
        print("interop.py: %d failing verdict(s) without a triage note" % untriaged, file=sys.stderr)
        return 1
    return 0


def all_notes():
    with open(os.path.join(ROOT, "tests", "realserver", "triage.json"), encoding="utf-8") as f:
        triage = json.load(f)
    notes = real_servers_notes(os.path.join(ROOT, "docs", "real-servers.md"))
    notes.update(triage)
    return notes


def cmd_check():
    notes = all_notes()
    d = os.path.join(ROOT, "tests", "realserver", "expected")
    missing = checked = 0
    for f in sorted(os.listdir(d)):
        with open(os.path.join(d, f), encoding="utf-8") as fh:
            e = json.load(fh)
        for sid in e.get("fail", []):
            checked += 1
            if (e["server"] + ":" + sid) not in notes and sid not in notes:
                missing += 1
                print("UNTRIAGED %s: %s" % (e["server"], sid))
    print("%d failing verdicts of %d servers checked, %d without a triage note"
          % (checked, len(os.listdir(d)), missing))
    return 1 if missing or not checked else 0


def main(argv):
    if len(argv) > 1 and argv[1] == "run":
        return cmd_run(argv[2:])
    if len(argv) == 2 and argv[1] == "check":
        return cmd_check()
    update = None
    if len(argv) > 2 and argv[1] == "--update":
        update = argv[2]
        argv = argv[:1] + argv[3:]
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    return finish(argv[1], argv[2:], [], update)


if __name__ == "__main__":
    sys.exit(main(sys.argv))

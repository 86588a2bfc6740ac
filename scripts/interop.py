#!/usr/bin/env python3
"""Writes the generated part of docs/interop.md from real runs of the suite.

  scripts/interop.py TRIAGE.json RESULTS_DIR...  > part.md
  scripts/interop.py --update docs/interop.md TRIAGE.json RESULTS_DIR...

Each RESULTS_DIR holds a results.json of `smtp-harness run` against one
server of the zoo (target_name = the server). Prints a totals table (one row
per server: banner, pass/fail/skip/error) and, per server, every failing
verdict with its level, RFC clause, the server's answer and the triage note
from TRIAGE.json (key "SERVER:id" first, then "id"). A failing verdict with
no note is printed as "UNTRIAGED" and makes the exit status 1, so a new
failure cannot slip into the document unexplained. --update replaces the text
between <!-- interop:begin --> and <!-- interop:end --> in the given file.
"""
import json
import os
import sys

BEGIN, END = "<!-- interop:begin -->", "<!-- interop:end -->"


def cell(text, limit=160):
    text = text.replace("\r", "\\r").replace("\n", "\\n").replace("|", "\\|")
    return text if len(text) <= limit else text[:limit] + "..."


def render(triage, dirs):
    runs = []
    for d in dirs:
        with open(os.path.join(d, "results.json"), encoding="utf-8") as f:
            runs.append(json.load(f))
    out = ["| server | banner | pass | fail | skip | error |", "|---|---|---:|---:|---:|---:|"]
    for r in runs:
        c = {"pass": 0, "fail": 0, "skip": 0, "error": 0}
        for s in r["scenarios"]:
            c[s["verdict"]] = c.get(s["verdict"], 0) + 1
        out.append("| %s | `%s` | %d | %d | %d | %d |" % (
            r["target"]["name"], cell(r["target"].get("banner", ""), 70),
            c["pass"], c["fail"], c["skip"], c["error"]))
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
            if note is None:
                untriaged += 1
                note = "UNTRIAGED"
            actual = (s.get("failure") or {}).get("actual") or s.get("reason", "")
            out.append("| `%s` | %s | %s §%s | `%s` | %s |" % (
                s["id"], s["level"], s.get("rfc_document", ""), s.get("rfc_section", ""),
                cell(actual), cell(note, 1000)))
    return "\n".join(out) + "\n", untriaged


def main(argv):
    update = None
    if len(argv) > 2 and argv[1] == "--update":
        update = argv[2]
        argv = argv[:1] + argv[3:]
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        triage = json.load(f)
    text, untriaged = render(triage, argv[2:])
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


if __name__ == "__main__":
    sys.exit(main(sys.argv))

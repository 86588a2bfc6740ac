#!/usr/bin/env python3
"""Runs a walk-through in docs/ as written: every ```sh block, in order, in
one bash process in a fresh directory (so `&`, `%1` and `wait` work as for a
reader), against the Postfix and aiosmtpd that scripts/real-servers.sh
starts. A command must exit 0, or the status its comment names ("# exit 1").
Then checks what the walk-through promises (EXPECT below):
- replay.md: session files recorded and imported, replay reports written,
  converted scenarios and seeds;
- netfuzz.md: the planted bug found and written as a finding, both replays'
  reports, the fuzz report, a run against Postfix, the AFL++-built tiny
  server's two planted bugs found through --spawn and one replayed.

- client-ci.md: the client suite's reports against a small smtplib program.

  doc_walkthrough_test.py SOURCE_DIR HARNESS DOC   (DOC: replay.md, netfuzz.md, client-ci.md)
"""
import os
import re
import subprocess
import sys
import tempfile


EXPECT = {
    "replay.md": {
        "rec": lambda names: len([n for n in names if n.startswith("session-")]) == 2,
        "rec-pcap": lambda names: len(names) == 1,
        "out/replay-same": lambda names: {"results.json", "junit.xml", "index.html"} <= set(names),
        "out/replay-other": lambda names: "index.html" in names,
        "converted": lambda names: len(names) == 2,
        "seeds": lambda names: {"fuzz_command", "fuzz_reply", "session"} <= set(names),
    },
    "client-ci.md": {
        "out/first": lambda names: {"results.json", "junit.xml", "index.html"} <= set(names),
        "out/full": lambda names: {"results.json", "junit.xml", "index.html"} <= set(names),
        "out/must": lambda names: "results.json" in names,
        "out/timeouts": lambda names: "results.json" in names,
        "out": lambda names: {"full-junit.xml", "full-index.html"} <= set(names),
    },
    "netfuzz.md": {
        "out/planted": lambda names: {"fuzz.json", "index.html", "findings", "corpus"} <= set(names),
        "out/planted/findings/dropped-HELP-220":
            lambda names: {"input.bin", "session.json", "finding.json"} <= set(names),
        "out/replay-planted": lambda names: "index.html" in names,
        "out/replay-strict": lambda names: "index.html" in names,
        "out/postfix": lambda names: {"fuzz.json", "index.html"} <= set(names),
        "out/tiny": lambda names: {"fuzz.json", "index.html", "spawned-server.log"} <= set(names),
        "out/tiny/findings": lambda names: {"crashed-SIGABRT",
                                            "sanitizer-heap-buffer-overflow-in-rcpt_to"} <= set(names),
        "out/replay-tiny": lambda names: "index.html" in names,
        "out/all": lambda names: {"fuzz.json", "index.html", "workers"} <= set(names),
        "out/jobs": lambda names: {"fuzz.json", "index.html", "workers"} <= set(names),
    },
}


def main():
    src, harness, name = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    with open(os.path.join(src, "docs", name)) as f:
        doc = f.read()
    script = ["B=%s" % harness, "S=%s" % os.path.abspath(src), "fail() { echo \"FAILED (exit $1, wanted $2): $3\"; exit 1; }"]
    for block in re.findall(r"```sh\n(.*?)```", doc, re.S):
        for line in block.splitlines():
            if not line.strip():
                continue
            want = re.search(r"#\s*exit (\d+)", line)
            command = re.sub(r"\s+#\s.*$", "", line).rstrip()
            if command.endswith("&") or command.startswith(("kill", "sleep")):
                script.append(command)
                continue
            script.append("%s; rc=$?; [ $rc -eq %s ] || fail $rc %s %s" % (
                command, want.group(1) if want else "0", want.group(1) if want else "0",
                "'" + command.replace("'", "'\\''") + "'"))
    with tempfile.TemporaryDirectory(prefix="smtp-harness-doc-") as tmp:
        p = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp, capture_output=True,
                           text=True, timeout=600)
        print(p.stdout[-4000:], p.stderr[-2000:])
        problems = [] if p.returncode == 0 else ["the walk-through failed (exit %d)" % p.returncode]
        for d, ok in EXPECT[name].items():
            path = os.path.join(tmp, d)
            names = sorted(os.listdir(path)) if os.path.isdir(path) else []
            if not ok(names):
                problems.append("%s: unexpected contents %s" % (d, names))
    for problem in problems:
        print("FAIL:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""run --no_deliver against Postfix queues and delivers no message (issue 23,
item 5).

A whole-suite run with --no_deliver goes to a recipient of its own
(nodeliver-<random>@example.test: Postfix's test configuration delivers any
local part at example.test to its Maildir, adding X-Original-To), so other
tests sharing the server do not blur the count. Compared before and after:
Postfix's queue (postqueue -p with its config directory: the number of
entries, and those for our recipient) and the messages in its Maildir for our
recipient. The control: one scenario without --no_deliver to another
recipient of our own does arrive, so the measure can see a delivery; and the
warning before that run says how many messages it may deliver and to whom.

  no_deliver_test.py HARNESS PROFILE SUITE OUTDIR
Exit 0 on success, 1 otherwise.
"""
import glob
import json
import os
import random
import subprocess
import sys
import time

STATE = os.environ.get("SMTP_SERVERS_DIR", "/tmp/smtp-harness-servers")
CONFIG = os.path.join(STATE, "postfix", "etc")
MAILDIR = os.path.join(STATE, "postfix", "Maildir")
SETTLE_S = 20  # local delivery of an accepted message takes well under a second


def queue():
    """postqueue -p's entries (queue id lines) and its whole text."""
    p = subprocess.run(["postqueue", "-c", CONFIG, "-p"], capture_output=True, text=True,
                       timeout=60)
    if p.returncode != 0:
        raise SystemExit("postqueue -p failed: " + p.stderr)
    entries = [line for line in p.stdout.splitlines()
               if line and line[0].isalnum() and not line.startswith("Mail queue is empty")
               and not line.startswith("-Queue ID-")]
    return entries, p.stdout


def delivered_to(address):
    n = 0
    for path in glob.glob(os.path.join(MAILDIR, "new", "*")) + \
            glob.glob(os.path.join(MAILDIR, "cur", "*")):
        try:
            with open(path, "rb") as f:
                if address.encode() in f.read(65536):
                    n += 1
        except FileNotFoundError:
            pass
    return n


def settle(address, want):
    """Waits (bounded) until `want` messages for `address` are in the Maildir
    and none in the queue; returns what is there then."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        got = delivered_to(address)
        _, text = queue()
        if (got >= want and address not in text) or time.monotonic() > deadline:
            return got, text.count(address)
        time.sleep(0.5)


def run(harness, args, out):
    p = subprocess.run([harness, "run", *args, "--out", out], capture_output=True, text=True,
                       timeout=600)
    sys.stdout.write(p.stdout[-2000:])
    sys.stderr.write(p.stderr[-2000:])
    return p


def main():
    harness, profile, suite, out = sys.argv[1:5]
    problems = []
    tag = "%08x" % random.getrandbits(32)
    quiet = "nodeliver-%s@example.test" % tag
    control = "nodeliver-control-%s@example.test" % tag

    before, _ = queue()
    p = run(harness, ["--target", "127.0.0.1:2525", "--profile", profile, "--suite", suite,
                      "--tag", "!lmtp", "--to", quiet, "--no_deliver"], os.path.join(out, "quiet"))
    with open(os.path.join(out, "quiet", "results.json")) as f:
        r = json.load(f)
    if r["stopped"]:
        problems.append("the run stopped: " + r["stopped"])
    if len(r["scenarios"]) < 200:
        problems.append("not a full run: %d scenarios" % len(r["scenarios"]))
    if "--no_deliver: no transaction reaches an end of data" not in p.stderr:
        problems.append("no --no_deliver line before the run")
    skipped = [s for s in r["scenarios"] if s["verdict"] == "skip"
               and s["reason"].startswith("needs a delivery (--no_deliver)")]
    smuggling = [s for s in skipped if "smuggling" in s["tags"]]
    if not smuggling or not all("smuggling probe" in s["reason"] for s in smuggling):
        problems.append("the smuggling probes are not skipped saying why")
    rset = {s["id"]: s["verdict"] for s in r["scenarios"]
            if s["id"] in ("ext.dsn.mail-ret-envid", "rfc5321.transaction.after-rset")}
    if rset != {"ext.dsn.mail-ret-envid": "pass", "rfc5321.transaction.after-rset": "pass"}:
        problems.append("the RSET-ended scenarios did not pass: %s" % rset)
    got, queued = settle(quiet, 0)
    after, _ = queue()
    print("--no_deliver: %d skipped as needing a delivery (%d smuggling); queue %d -> %d "
          "entries; %d messages delivered and %d queued for %s"
          % (len(skipped), len(smuggling), len(before), len(after), got, queued, quiet))
    if got or queued:
        problems.append("--no_deliver: %d delivered, %d queued for %s" % (got, queued, quiet))

    # Control: the same measure sees a delivery when there is one.
    p = run(harness, ["--target", "127.0.0.1:2525", "--profile", profile, "--suite", suite,
                      "--filter", "R5321-3.3-e,smuggling.second-message.lf-dot-lf",
                      "--to", control], os.path.join(out, "control"))
    warning = "warning: this run may deliver up to 3 messages (from 2 scenarios) to " + control
    if warning not in p.stderr:
        problems.append("no delivery warning %r in: %s" % (warning, p.stderr))
    got, _ = settle(control, 2)
    print("control: %d messages delivered for %s" % (got, control))
    if got < 2:
        problems.append("control: %d delivered (want 2: the measure is blind)" % got)

    for line in problems:
        print("FAIL:", line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

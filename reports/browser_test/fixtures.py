"""Synthetic results.json documents for the browser and CLI tests."""

import copy
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
from transcript_bytes import escape_bytes  # noqa: E402

VERDICTS = ["pass"] * 14 + ["fail"] * 3 + ["skip", "error"]
LEVELS = ["MUST", "MUST", "SHOULD", "MAY", "policy", "security"]
TAGS = ["ehlo", "mail", "rcpt", "data", "bdat", "starttls", "auth", "pipelining", "smuggling", "utf8"]


def escaped(text):
    """results/transcript.h byte encoding of a str (ASCII plus escapes)."""
    return escape_bytes(text.encode("utf-8", "surrogateescape"))


def transcript(rng, i, entries):
    t, out, c2s, s2c = 0, [{"t_us": 0, "kind": "connect", "text": "127.0.0.1:2525"}], 0, 0

    def data(kind, text):
        nonlocal t, c2s, s2c
        t += rng.randint(50, 900)
        out.append({"t_us": t, "kind": kind, "data": escaped(text)})
        if kind == "c2s":
            c2s += len(text)
        else:
            s2c += len(text)

    data("s2c", "220 mx.example.org ESMTP ready\r\n")
    data("c2s", "EHLO client%d.example\r\n" % i)
    data("s2c", "".join("250-%s\r\n" % x for x in ["mx.example.org", "PIPELINING", "SIZE 10240000",
                                                   "STARTTLS", "8BITMIME", "SMTPUTF8"]) + "250 CHUNKING\r\n")
    n = 0
    while len(out) < entries:
        n += 1
        data("c2s", "MAIL FROM:<sender%d-%d@example.org> SIZE=%d\r\n" % (i, n, rng.randint(1, 99999)))
        data("s2c", "250 2.1.0 Ok\r\n")
        data("c2s", "RCPT TO:<rcpt%d@example.net>\r\n" % n)
        data("s2c", "250 2.1.5 Ok\r\n")
        data("c2s", "DATA\r\n")
        data("s2c", "354 End data with <CR><LF>.<CR><LF>\r\n")
        data("c2s", "Subject: test %d\r\n\r\nline one\r\nbinary \x00\xff here\r\n.\r\n" % n)
        data("s2c", "250 2.0.0 Ok: queued as %X\r\n" % rng.randint(0, 1 << 40))
    data("c2s", "QUIT\r\n")
    data("s2c", "221 2.0.0 Bye\r\n")
    out.append({"t_us": t + 10, "kind": "peer_close", "text": ""})
    return {"version": 1, "truncated": False, "bytes": {"c2s": c2s, "s2c": s2c},
            "omitted_bytes": 0, "omitted_events": 0, "entries": out}


def large_run(n=1000, entries=40, seed=5321):
    rng = random.Random(seed)
    scenarios = []
    for i in range(n):
        section = "4.1.%d" % (i % 20 + 1)
        verdict = rng.choice(VERDICTS)
        s = {
            "id": "rfc5321.scenario-%04d" % i,
            "title": "Scenario %d: the server handles case %d of §%s" % (i, i, section),
            "description": "Generated scenario %d for the 1,000-scenario browser test." % i,
            "file": "generated/s%04d.json" % i,
            "rfc": {"document": "RFC 5321", "section": section, "url": ""},
            "level": rng.choice(LEVELS),
            "tags": sorted(set(rng.sample(TAGS, 2))),
            "group": "RFC 5321 §" + section,
            "verdict": verdict,
            "reason": "" if verdict == "pass" else "reason for %s %d" % (verdict, i),
            "start_us": i * 2000,
            "duration_us": rng.randint(500, 3_000_000),
            "transcript": transcript(rng, i, entries),
        }
        if verdict == "fail":
            s["failure"] = {"step": 3, "step_label": "step 4 (expect)", "expected": "code 250",
                            "actual": "550 5.7.1 rejected %d" % i, "message": "expected 250, got 550"}
        scenarios.append(s)
    return {
        "schema_version": 1, "tool_version": "0.1.0", "started_at": "2024-05-01T12:00:00Z",
        "duration_us": 123_456_789, "command_line": "smtp-harness run --target 127.0.0.1:2525",
        "complete": True,
        "target": {"target": "127.0.0.1:2525", "name": "large", "banner": "220 mx.example.org ESMTP ready",
                   "ehlo_lines": ["PIPELINING", "SIZE 10240000", "STARTTLS", "8BITMIME"]},
        "scenarios": scenarios,
    }


def variant(run, name, flips):
    """A copy of `run` labelled `name` with the verdicts of scenarios `flips` changed."""
    r = copy.deepcopy(run)
    r["target"]["name"] = name
    for s in r["scenarios"]:
        if s["id"] in flips:
            s["verdict"] = flips[s["id"]]
            if s["verdict"] == "pass":
                s.pop("failure", None)
                s["reason"] = ""
    return r


def write(path, doc):
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, path)


def load(path):
    with open(path) as f:
        return json.load(f)

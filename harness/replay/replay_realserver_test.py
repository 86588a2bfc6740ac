#!/usr/bin/python3
"""Replay against the real server the sessions came from gives no difference:
sessions recorded through `smtp-harness record` from a real client
(smtplib, and a raw pipelining one) and a suite run's results.json, each
replayed against the same server (tests/realserver fixtures start it). For
smtp-sink this covers its bare "250 " EHLO line, which replay reads as `run`
does (and says so once).

Usage: replay_realserver_test.py SMTP_HARNESS NAME HOST:PORT PROFILE OUT_DIR
"""
import json
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
import recording  # noqa: E402

BIN, NAME, TARGET, PROFILE, OUT = sys.argv[1:6]
HOST, PORT = TARGET.rsplit(":", 1)


def check(cond, what, detail=""):
    """Prints "ok: WHAT" or "FAIL: WHAT" with the detail; returns `cond`."""
    print(("ok: " if cond else "FAIL: ") + what)
    if not cond:
        print("   ", str(detail)[-3000:])
    return cond


def raw_pipelined(port, rcpt):
    """One write of MAIL, RCPT, DATA (RFC 2920), then the body and QUIT."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    buf = b""

    def until(count):
        nonlocal buf
        end = time.monotonic() + 10
        while buf.count(b"\r\n") < count and time.monotonic() < end:
            data = s.recv(65536)
            if not data:
                break
            buf += data

    until(1)
    s.sendall(b"EHLO client.example.org\r\n")
    time.sleep(0.3)
    s.sendall(b"MAIL FROM:<probe@client.example.org>\r\nRCPT TO:<" + rcpt.encode() +
              b">\r\nDATA\r\n")
    time.sleep(0.3)
    s.sendall(b"Subject: pipelined\r\n\r\nhi\r\n.\r\nQUIT\r\n")
    time.sleep(0.5)
    s.close()


def replay(what, *args):
    out = os.path.join(OUT, what)
    p = subprocess.run([BIN, "replay", *args, "--target", TARGET, "--out", out],
                       capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr, out


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    with open(PROFILE) as f:
        profile = json.load(f)
    rcpt = profile["rcpt"]
    creds = []
    if profile.get("user"):
        creds = ["--auth_user", profile["user"], "--auth_password", profile["password"]]

    # 1. Recordings of real clients.
    rec = os.path.join(OUT, "rec")
    proc, port = recording.start_record(BIN, TARGET, rec)
    try:
        for i in range(2):
            c = smtplib.SMTP("127.0.0.1", port, timeout=10)
            c.ehlo("client.example.org")
            c.sendmail(profile["sender"], [rcpt], "Subject: t%d\r\n\r\nhello\r\n" % i)
            c.quit()
        c = smtplib.SMTP("127.0.0.1", port, timeout=10)
        c.ehlo("client.example.org")
        c.noop()
        c.rset()
        c.docmd("XYZZY")
        c.quit()
        raw_pipelined(port, rcpt)
    finally:
        rc, _, err = recording.stop_record(proc)
    ok = check(rc == 0, "record stopped cleanly", err)
    n = len(recording.sessions(rec))
    ok &= check(n == 4, "4 sessions recorded", n)
    rc, out, err, _ = replay("replay-rec", rec, *creds)
    ok &= check(rc == 0, "recordings replay against %s with exit 0" % NAME, out + err)
    ok &= check("4 the same, 0 differ" in out, "all 4 the same", out)
    if NAME == "smtp-sink":
        ok &= check(out.count("needed leniency (trailing_whitespace)") == 1,
                    "the bare 250 is read as run reads it, said once", out)

    # 2. A suite run's results.json, replayed against the server it ran on.
    run = os.path.join(OUT, "run")
    p = subprocess.run([BIN, "run", "--profile", PROFILE, "--out", run], capture_output=True,
                       text=True, timeout=600)
    ok &= check(p.returncode in (0, 1), "the run ran", p.stdout[-2000:] + p.stderr[-2000:])
    rc, out, err, d = replay("replay-run", os.path.join(run, "results.json"), *creds)
    ok &= check(rc == 0, "the run's results replay with exit 0", out[-3000:] + err)
    ok &= check(" 0 differ " in out, "0 differences", out[-3000:])
    with open(os.path.join(d, "results.json")) as f:
        results = json.load(f)
    ok &= check(all(s["verdict"] in ("pass", "skip") for s in results["scenarios"]),
                "every session the same or not replayable (with its reason)",
                [(s["id"], s["reason"]) for s in results["scenarios"]
                 if s["verdict"] not in ("pass", "skip")])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

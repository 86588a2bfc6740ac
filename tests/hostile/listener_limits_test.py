#!/usr/bin/python3
"""Slowloris against `record` and `report --serve` (issue 25, item 7): 300
connections from one address (127.0.0.1) that dribble a request and never
finish it do not make a client from another address (127.0.0.2, also
loopback on Linux) wait: it gets through within a generous bound. The
attacker's connections beyond the per-address limit are refused at once
(record: "421 4.7.0 Too many connections"), and its connections that close
without a byte leave no session file.

Usage: listener_limits_test.py PATH/TO/smtp-harness SOURCE_DIR {record|report}
"""
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from loopback import Serve, free_port, stop, wait_for_port  # noqa: E402

BIN, SRC, WHAT = sys.argv[1], sys.argv[2], sys.argv[3]
ATTACKERS = 300
PER_ADDRESS = 50  # the default of --max_connections_per_ip
BOUND_S = 5.0     # generous: the normal client takes milliseconds when it does not wait
OTHER = "127.0.0.2"


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def other_address_usable():
    try:
        with socket.socket() as s:
            s.bind((OTHER, 0))
        return True
    except OSError:
        return False


def slowloris(port, first_bytes):
    """ATTACKERS connections from 127.0.0.1, each sending `first_bytes` and
    then nothing; returns the sockets (the caller closes them)."""
    socks = []
    for _ in range(ATTACKERS):
        s = socket.socket()
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        try:
            s.sendall(first_bytes)
        except OSError:
            pass  # already refused
        socks.append(s)
    return socks


def refused_count(socks, marker):
    """How many of `socks` were closed by the listener (with `marker` first,
    when given) within a short wait each."""
    refused = 0
    deadline = time.monotonic() + 5
    for s in socks:
        s.settimeout(max(0.01, min(0.2, deadline - time.monotonic())))
        try:
            data = s.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            refused += 1  # reset
            continue
        if marker is None and data == b"":
            refused += 1
        elif marker is not None and data.startswith(marker):
            refused += 1
    return refused


def test_record(tmp):
    out = os.path.join(tmp, "rec")
    port = free_port()
    # The upstream sees every proxied session from 127.0.0.1: no limit there.
    with Serve(BIN, "--max_connections_per_ip", "0", "--local_domains", "y.test") as upstream:
        proc = subprocess.Popen(
            [BIN, "record", "--listen", "127.0.0.1:%d" % port, "--upstream",
             "127.0.0.1:%d" % upstream.port, "--out", out],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, proc, 15, "record")
            socks = slowloris(port, b"EH")
            try:
                start = time.monotonic()
                with smtplib.SMTP("127.0.0.1", port, timeout=BOUND_S,
                                  source_address=(OTHER, 0)) as c:
                    c.ehlo("normal.test")
                    c.sendmail("a@x.test", ["b@y.test"], "Subject: t\r\n\r\nhello\r\n")
                took = time.monotonic() - start
                print("record: the client from %s got through in %.3f s" % (OTHER, took))
                check(took < BOUND_S, "the normal client waited %.1f s" % took)
                refused = refused_count(socks, b"421 4.7.0 Too many connections")
                print("record: %d of %d attacker connections refused with 421"
                      % (refused, ATTACKERS))
                check(refused >= ATTACKERS - PER_ADDRESS - 5,
                      "only %d attacker connections were refused" % refused)
            finally:
                for s in socks:
                    s.close()
            # The attack is gone: a client from 127.0.0.1 gets through soon
            # (the closed connections free their slots; it took 15 s when
            # each held its slot for 2 s in turn).
            start = time.monotonic()
            while True:
                try:
                    with smtplib.SMTP("127.0.0.1", port, timeout=BOUND_S) as c:
                        c.noop()
                    break
                except smtplib.SMTPConnectError as e:  # 421: slots not freed yet
                    if time.monotonic() - start > BOUND_S:
                        raise AssertionError("still refused after the attack: %s" % e)
                    time.sleep(0.05)
            took = time.monotonic() - start
            print("record: after the attack, a client from 127.0.0.1 in %.3f s" % took)
            check(took < BOUND_S, "after the attack a client waited %.1f s" % took)
        finally:
            stop(proc, 10)
    files = [f for f in os.listdir(out) if f.startswith("session-")]
    print("record: %d session files" % len(files))
    # The normal session and the one after the attack, plus the accepted
    # attackers (they sent 2 bytes); never one per refused connection.
    check(2 <= len(files) <= PER_ADDRESS + 2, "%d session files" % len(files))


def test_report(tmp):
    runs = os.path.join(tmp, "runs")
    os.makedirs(os.path.join(runs, "run1"))
    shutil.copy(os.path.join(SRC, "reports", "testdata", "small_results.json"),
                os.path.join(runs, "run1", "results.json"))
    port = free_port()
    proc = subprocess.Popen([BIN, "report", "--serve", runs, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc, 15, "report --serve")
        socks = slowloris(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        try:
            start = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=BOUND_S,
                                          source_address=(OTHER, 0)) as s:
                s.sendall(b"GET /run/run1/ HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                          b"Connection: close\r\n\r\n" % port)
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            took = time.monotonic() - start
            print("report: the client from %s got %r in %.3f s"
                  % (OTHER, data.split(b"\r\n", 1)[0], took))
            check(data.startswith(b"HTTP/1.1 200"), "no 200: %r" % data[:100])
            check(took < BOUND_S, "the normal client waited %.1f s" % took)
            refused = refused_count(socks, None)
            print("report: %d of %d attacker connections closed at once" % (refused, ATTACKERS))
            check(refused >= ATTACKERS - PER_ADDRESS - 5,
                  "only %d attacker connections were refused" % refused)
        finally:
            for s in socks:
                s.close()
        with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=BOUND_S) as r:
            check(r.status == 200, "after the attack: %d" % r.status)
    finally:
        stop(proc, 10)


def main():
    if not other_address_usable():
        print("SKIP: %s is not a usable loopback address here" % OTHER)
        return 77
    with tempfile.TemporaryDirectory(prefix="listener-limits-") as tmp:
        {"record": test_record, "report": test_report}[WHAT](tmp)
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())

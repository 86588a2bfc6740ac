#!/usr/bin/env python3
"""smtp-harness fuzz in several processes (-fork, -jobs/-workers):

1. -fork=2 against embedded:planted: the children (this binary, rebuilt
   from SMTP_HARNESS_FUZZ_CHILD) run the sessions; the parent runs none but
   writes a complete fuzz.json that sums them (sessions = the processes'
   sum), finds the shallow planted bug (HELP %x, in a seed) minimized,
   prints it once, and findings/ has exactly one directory per bucket;
   index.html exists.
2. -jobs=2 -workers=2: two processes, each with sessions, fuzz-N.log in the
   working directory, the planted bug found (from an extra corpus).
   Two identical jobs see identical counters (coverage merges by index).
3. -jobs=2 -workers=2 against an exec: server whose seeds crash it: both
   processes hit the same buckets at once; one directory per bucket, the
   counts of both processes summed.
4. -fork against a TCP server: children connect on their own.
5. Refused: -merge, -minimize_crash, -fork with -jobs: exit 2, one line.
   -workers alone (libFuzzer ignores it) is an ordinary run.

usage: fuzz_procs_cli_test.py SMTP_HARNESS"""
import json
import os
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
# check() and its failures, `serve --behavior` on an ephemeral port.
from fuzz_cli_test import check, failures, serve, small_files, write_seeds  # noqa: E402

BIN = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))


def fuzz(args, cwd, timeout=90):
    return subprocess.run([BIN, "fuzz"] + args, capture_output=True, text=True, timeout=timeout,
                          cwd=cwd)


def load(out):
    with open(os.path.join(out, "fuzz.json")) as f:
        return json.load(f)


def check_run(name, p, out, mode, min_processes):
    """What every multi-process run must leave: a complete fuzz.json that
    adds up, one findings/ directory per bucket, the report. Returns it."""
    check(p.returncode == 0, "%s: exit 0 (rc %d): %s" % (name, p.returncode, p.stderr[-2000:]))
    r = load(out)
    procs = r.get("processes", {})
    check(r["complete"] is True, "%s: fuzz.json is complete" % name)
    check(procs.get("mode") == mode, "%s: processes.mode is %s: %s" % (name, mode, procs.get("mode")))
    per = procs.get("per_process", [])
    check(procs.get("count", 0) >= min_processes and len(per) == procs["count"],
          "%s: at least %d processes reported: %s" % (name, min_processes, procs.get("count")))
    check(procs.get("complete") == procs.get("count"), "%s: every process finished" % name)
    check(r["stats"]["sessions"] > 0, "%s: sessions ran in the children: %d" %
          (name, r["stats"]["sessions"]))
    check(r["stats"]["sessions"] == sum(x["sessions"] for x in per),
          "%s: sessions are the sum over the processes" % name)
    workers = [f for f in os.listdir(os.path.join(out, "workers")) if f.endswith(".json")]
    check(len(workers) == procs.get("count"), "%s: one stats file per process: %d" %
          (name, len(workers)))
    buckets = sorted(f["bucket"] for f in r["findings"])
    dirs = sorted(os.listdir(os.path.join(out, "findings"))) if os.path.isdir(
        os.path.join(out, "findings")) else []
    check(dirs == buckets, "%s: exactly one findings/ dir per bucket: %s vs %s" %
          (name, dirs, buckets))
    for f in r["findings"]:
        check(f.get("dir") == "findings/" + f["bucket"] and
              os.path.isfile(os.path.join(out, f["dir"], "finding.json")) and
              os.path.isfile(os.path.join(out, f["dir"], "session.json")),
              "%s: %s is saved with its details" % (name, f["bucket"]))
    check(r["stats"]["buckets"] == len(r["findings"]), "%s: stats.buckets matches" % name)
    check(len(r["timeline"]) >= 2, "%s: the parent's stats over time" % name)
    check(os.path.isfile(os.path.join(out, "index.html")), "%s: index.html is written" % name)
    return r


def planted(name, r, out):
    shallow = [f for f in r["findings"] if f["bucket"] == "dropped-HELP-220"]
    check(len(shallow) == 1, "%s: the shallow planted bug is found: %s" %
          (name, [f["bucket"] for f in r["findings"]]))
    if shallow:
        f = shallow[0]
        check(f["steps"].lower() == "command help %x\n",
              "%s: minimized to the one command: %r" % (name, f["steps"]))
        check(0 <= f["first_at_s"] < r["stats"]["elapsed_s"] + 1,
              "%s: first_at_s counts from the run's start: %.1f" % (name, f["first_at_s"]))
        with open(os.path.join(out, "index.html")) as h:
            check("dropped-HELP-220" in h.read(), "%s: the report names the finding" % name)


def main():
    tmp = tempfile.mkdtemp(prefix="fuzz-procs-")

    # 1. -fork=2, embedded. The shallow bug takes ~10,000 sessions to find
    # from the shipped seeds (more than a short test affords on a loaded
    # machine in fork mode, whose short jobs restart often), so an extra
    # corpus directory holds it inside a longer session: the children run it,
    # minimize it to the one command and save it once.
    corpus = os.path.join(tmp, "fork-corpus")
    os.makedirs(corpus)
    with open(os.path.join(corpus, "help"), "wb") as f:
        f.write(b"\x01\x06EHLO x\x01\x04NOOP\x01\x07HELP %x\x01\x04QUIT")
    out = os.path.join(tmp, "fork")
    p = fuzz(["--target", "embedded:planted", "--out", out, "-fork=2", "-max_total_time=10",
              corpus], cwd=tmp)
    r = check_run("fork", p, out, "fork", 3)  # the seed merge, then jobs
    check(r["stats"]["server_coverage"] > 100, "fork: server coverage is the children's: %d" %
          r["stats"]["server_coverage"])
    check(r["processes"]["parallel"] == 2, "fork: two at a time")
    planted("fork", r, out)
    check(p.stderr.count("FINDING dropped-HELP-220") == 1,
          "fork: the parent prints the finding once")

    # 2. -jobs=2 -workers=2, embedded, with the same extra corpus (finding
    # the bug from the shipped seeds alone depends on the exact search path,
    # which any change to the feedback moves; netfuzz_cli checks that in one
    # process); logs in the working directory. With -reload=0 both jobs run
    # the corpus and meet the bug: both count it, one saves it.
    jobs_cwd = os.path.join(tmp, "jobs-cwd")
    os.makedirs(jobs_cwd)
    out = os.path.join(tmp, "jobs")
    p = fuzz(["--target", "embedded:planted", "--out", out, "-jobs=2", "-workers=2", "-seed=7",
              "-reload=0", "-runs=3000", corpus], cwd=jobs_cwd)
    r = check_run("jobs", p, out, "jobs", 2)
    check(r["processes"]["count"] == 2 and
          all(x["sessions"] > 0 for x in r["processes"]["per_process"]),
          "jobs: two processes, each ran sessions: %s" % r["processes"]["per_process"])
    check(all(os.path.isfile(os.path.join(jobs_cwd, "fuzz-%d.log" % i)) for i in (0, 1)),
          "jobs: libFuzzer's fuzz-N.log per job: %s" % os.listdir(jobs_cwd))
    planted("jobs", r, out)
    help_bucket = [f for f in r["findings"] if f["bucket"] == "dropped-HELP-220"]
    check(help_bucket and help_bucket[0]["count"] >= 2,
          "jobs: both processes count the bug: %s" % [f["count"] for f in help_bucket])

    # 2b. Coverage is merged by counter index, which holds only if a block
    # has the same counter in every process (ASLR moves the code): two jobs
    # that run the same inputs see identical counters. -runs=0: each runs the
    # shipped seeds and nothing else (with mutations, a job that starts late
    # also reads what the other already saved in the shared corpus, and then
    # goes elsewhere: 3 runs in 11 under load).
    out = os.path.join(tmp, "same")
    p = fuzz(["--target", "embedded", "--out", out, "-jobs=2", "-workers=2", "-seed=1",
              "-reload=0", "-runs=0"], cwd=jobs_cwd)
    r = check_run("same", p, out, "jobs", 2)
    stats = []
    for name in os.listdir(os.path.join(out, "workers")):
        if name.endswith(".json"):
            with open(os.path.join(out, "workers", name)) as f:
                stats.append(json.load(f))
    check(len(stats) == 2 and stats[0]["pc_seen"] == stats[1]["pc_seen"] and
          stats[0]["states_seen"] == stats[1]["states_seen"],
          "same: two identical jobs report the same counters")
    if stats:
        seen = sum(bin(int(c, 16)).count("1") for c in stats[0]["pc_seen"])
        check(seen > 100 and r["stats"]["server_coverage"] == seen,
              "same: the union is each one's coverage: %d vs %d" %
              (r["stats"]["server_coverage"], seen))

    # 3. exec: both processes run the crashing seeds at once.
    seeds = write_seeds(os.path.join(tmp, "exec-seeds"), {
        "crash": b"\x01\x06EHLO x\x01\x05CRASH",
        "ubsan": b"\x01\x06EHLO x\x01\x05UBSAN",
    })
    out = os.path.join(tmp, "exec")
    stdio = os.path.join(HERE, "testdata", "stdio_smtp.py")
    p = fuzz(["--target", "exec:python3 " + stdio, "--out", out, "--seeds", seeds, "-jobs=2",
              "-workers=2", "-runs=10", "--minimize_time_ms", "2000"], cwd=tmp)
    r = check_run("exec", p, out, "jobs", 2)
    crash = [f for f in r["findings"] if f["oracle"] == "crashed"]
    one_line = [f for f in crash if f["steps"] == "command CRASH\n"]
    check(len(one_line) == 1 and one_line[0]["count"] >= 2,
          "exec: the crash is one bucket counted by both processes: %s" %
          [(f["bucket"], f["count"], f["steps"]) for f in r["findings"]])
    # Another route to the same abort that one process found before it knew
    # the killing line stays apart across processes (docs/netfuzz.md): it
    # must still be a session that sends CRASH, never a second bucket of the
    # one-line route.
    check(all("crash" in f["steps"].lower() for f in crash),
          "exec: every crash bucket is a route to CRASH: %s" % [f["steps"] for f in crash])
    check(any(f["oracle"] == "sanitizer" for f in r["findings"]), "exec: the sanitizer finding")

    # 4. -fork against a TCP server.
    server, port = serve(tmp, "planted", "planted")
    try:
        out = os.path.join(tmp, "tcp")
        p = fuzz(["--target", "127.0.0.1:%d" % port, "--out", out, "-fork=2",
                  "-max_total_time=6"], cwd=tmp)
        r = check_run("tcp", p, out, "fork", 2)
        check(r["target"] == "127.0.0.1:%d" % port, "tcp: the target is named")
        check(r["stats"]["response_states"] > 20, "tcp: response states from the children: %d" %
              r["stats"]["response_states"])
    finally:
        server.terminate()
        server.wait(timeout=10)

    # 5. Refused.
    for args, want in [
        (["-merge=1"], "-merge is not supported"),
        (["-minimize_crash=1"], "-minimize_crash is not supported"),
        (["-fork=2", "-jobs=2"], "choose one"),
    ]:
        p = fuzz(["--target", "embedded", "--out", os.path.join(tmp, "bad"), "-runs=1"] + args,
                 cwd=tmp, timeout=60)
        check(p.returncode == 2 and want in p.stderr,
              "%s: exit 2 naming the problem (rc %d): %s" % (args, p.returncode, p.stderr.strip()))
    out = os.path.join(tmp, "workers-alone")
    p = fuzz(["--target", "embedded", "--out", out, "-runs=50", "-workers=2"], cwd=tmp)
    r = load(out)
    check(p.returncode == 0 and "processes" not in r and r["stats"]["sessions"] >= 50,
          "-workers alone: one process, as libFuzzer does (rc %d)" % p.returncode)

    # A full disk (files over a size limit, SIGXFSZ ignored: EFBIG as ENOSPC
    # would be): the parent's results cannot be written, so it says so and
    # exits 1, as a single process does.
    full = os.path.join(tmp, "full")
    p = subprocess.run([BIN, "fuzz", "--target", "embedded:planted", "--out", full, "-jobs=2",
                        "-workers=2", "-max_total_time=5", "-seed=7", "-handle_xfsz=0"],
                       capture_output=True, text=True, timeout=120, preexec_fn=small_files)
    check(p.returncode == 1 and "are incomplete" in p.stderr,
          "-jobs: results that cannot be written: exit 1 and said (rc %d): %s" %
          (p.returncode, p.stderr[-1500:]))

    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()

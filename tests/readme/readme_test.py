#!/usr/bin/env python3
"""Runs the README's examples as written: the code block of "Against your own
server" (against the Postfix and aiosmtpd that scripts/real-servers.sh starts
on 127.0.0.1:2525 and :2526) and the block of "The `parse` subcommand".

  readme_test.py SOURCE_DIR HARNESS

Lines ending in "&" start in the background (a server: the next line waits for
its port) and are stopped at the end. `run` and `compare` may exit 0 or 1 (1
means findings); everything else must exit 0. Exit 0 on success, 1 otherwise.
"""
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.request

TIMEOUT_S = 300


def code_block(readme, heading):
    start = readme.index(heading)
    block = re.search(r"```sh\n(.*?)```", readme[start:], re.S)
    return [line for line in block.group(1).splitlines() if line.strip()]


def wait_port(port, proc, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("exited with %s before listening on %d" % (proc.returncode, port))
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nothing listens on %d after %d s" % (port, timeout))


def strip_comment(line):
    return re.sub(r"\s+#\s.*$", "", line).rstrip()


def main():
    src, harness = sys.argv[1], os.path.abspath(sys.argv[2])
    with open(os.path.join(src, "README.md")) as f:
        readme = f.read()
    problems, background = [], []
    try:
        for raw in code_block(readme, "## Against your own server"):
            line = strip_comment(raw)
            if line.startswith("B="):
                continue  # the binary is the one under test
            bg = line.endswith("&")
            argv = shlex.split(line.rstrip("&").replace("$B", harness))
            print("+ " + " ".join(argv), flush=True)
            if bg:
                proc = subprocess.Popen(argv, cwd=src, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
                background.append(proc)
                listen = re.search(r"--listen 127\.0\.0\.1:(\d+)", line)
                port = int(listen.group(1)) if listen else 8080  # report --serve
                wait_port(port, proc)
                continue
            p = subprocess.run(argv, cwd=src, capture_output=True, text=True, timeout=TIMEOUT_S)
            allowed = (0, 1) if argv[1] in ("run", "compare") else (0,)
            if p.returncode not in allowed:
                problems.append("%s: exit %d\n%s" % (raw, p.returncode, p.stderr[-2000:]))
            out = re.search(r"--out (\S+)", line)
            if argv[1] == "run" and out and not os.path.exists(
                    os.path.join(src, out.group(1), "index.html")):
                problems.append("%s: no index.html in %s" % (raw, out.group(1)))
        # report --serve answers and lists the runs just made.
        page = urllib.request.urlopen("http://127.0.0.1:8080/", timeout=10).read().decode()
        if "postfix" not in page:
            problems.append("report --serve does not list out/postfix")
        for raw in code_block(readme, "## The `parse` subcommand"):
            print("+ " + raw, flush=True)
            p = subprocess.run(["bash", "-o", "pipefail", "-c",
                                raw.replace("build/default/app/smtp-harness",
                                            shlex.quote(harness))],
                               cwd=src, capture_output=True, text=True, timeout=60)
            if p.returncode != 0 or not p.stdout.startswith("{"):
                problems.append("%s: exit %d, output %r" % (raw, p.returncode, p.stdout[:200]))
    finally:
        for proc in background:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    for problem in problems:
        print("FAIL: " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

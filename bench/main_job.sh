#!/usr/bin/env bash
# Wall time of the main job (the quick start's `smtp-harness run` against the
# embedded server, whole suite) of a binary, beside a baseline measured in the
# same run, and whether both give the same verdict for every scenario.
#
#   bench/main_job.sh BIN [BASELINE_BIN] [RUNS]
#   defaults:             (none)         3
#
# Without BASELINE_BIN the baseline is BIN itself with `--jobs 4` (the
# concurrency used against other people's servers). hyperfine --runs RUNS
# (one warmup); the verdicts of one run of each are compared scenario by
# scenario and any difference is printed (exit 1).
# Needs hyperfine and python3.
set -euo pipefail

BIN=${1:?usage: bench/main_job.sh BIN [BASELINE_BIN] [RUNS]}
BASE=${2:-}
RUNS=${3:-3}
SRC=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

new_cmd="$BIN run --suite $SRC/scenarios --out $work/new"
if [[ -n $BASE ]]; then
  base_cmd="$BASE run --suite $SRC/scenarios --out $work/base"
else
  base_cmd="$BIN run --suite $SRC/scenarios --jobs 4 --out $work/base"
fi
hyperfine --warmup 1 --runs "$RUNS" --export-json "$work/h.json" \
  -n baseline "$base_cmd >/dev/null 2>&1" -n new "$new_cmd >/dev/null 2>&1"

python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
h = {r["command"]: r for r in json.load(open(work + "/h.json"))["results"]}
b, n = h["baseline"]["median"], h["new"]["median"]
print("main job: baseline %.2f s, new %.2f s (median of %d): %.1fx faster"
      % (b, n, len(h["new"]["times"]), b / n))
def verdicts(d):
    r = json.load(open(work + "/" + d + "/results.json"))
    return {s["id"]: s["verdict"] for s in r["scenarios"]}
old, new = verdicts("base"), verdicts("new")
diff = {k: (old.get(k), new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}
print("scenarios: %d, verdicts that differ: %d %s" % (len(new), len(diff), diff or ""))
sys.exit(1 if diff else 0)
EOF

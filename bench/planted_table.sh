#!/usr/bin/env bash
# How soon the in-process fuzzer finds the embedded server's deep planted bug
# ("planted bug 2: BDAT 0 LAST", five commands), per seed and per set of
# libFuzzer flags: the table docs/PERFORMANCE.md decides the fuzz defaults by.
#
#   bench/planted_table.sh BUILD_DIR SECONDS "SEEDS" "CONFIG" ["CONFIG" ...]
#   e.g. bench/planted_table.sh build/default 300 "11 12 13" "-entropic=1" "-entropic=0"
#
# A CONFIG is a string of libFuzzer flags ("" or "default": none). Runs go
# one at a time (never two fuzzers at once: the machine is shared), seed by
# seed, the configurations of a seed back to back so that they see about the
# same load; each `nice -n ${PLANTED_NICE:-10}`. A run stops at SECONDS
# (-max_total_time) or, with PLANTED_STOP_AT_DEEP=1 (the default), a few
# seconds after the deep bug was found and minimized (what happens later
# does not change the table; it saves the CPU). Prints one line per run:
#   config seed deep_found_s deep_found_session shallow_found_s sessions wall_s cpu_s
# ("-" when not found). PLANTED_OUT (default /tmp) holds the runs' --out
# directories (removed after each run).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=$1
SECONDS_PER_RUN=$2
read -r -a seeds <<<"$3"
shift 3
BIN=$BUILD_DIR/app/smtp-harness
[[ -x $BIN ]] || { echo "planted_table.sh: build $BIN first" >&2; exit 2; }
stop_at_deep=${PLANTED_STOP_AT_DEEP:-1}

deep_found() {  # deep_found OUT: exit 0 once fuzz.json has the deep bug
  python3 - "$1/fuzz.json" <<'PY' 2>/dev/null
import json, sys
j = json.load(open(sys.argv[1]))
sys.exit(0 if any("planted bug 2" in f.get("cause", "") for f in j["findings"]) else 1)
PY
}

cpu_of() {  # cpu_of PID: user+sys seconds so far
  awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"
}

echo "config seed deep_found_s deep_found_session shallow_found_s sessions wall_s cpu_s"
for seed in "${seeds[@]}"; do
  for config in "$@"; do
    flags=()
    [[ $config == default ]] || read -r -a flags <<<"$config"
    out=$(mktemp -d -p "${PLANTED_OUT:-/tmp}" planted.XXXXXX)
    start=$(date +%s.%N)
    nice -n "${PLANTED_NICE:-10}" "$BIN" fuzz --target embedded:planted --out "$out" \
      -max_total_time="$SECONDS_PER_RUN" -seed="$seed" "${flags[@]}" >"$out.log" 2>&1 &
    pid=$!
    cpu=0
    deadline=$((SECONDS + SECONDS_PER_RUN + 120))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 2
      cpu=$(cpu_of "$pid" 2>/dev/null || echo "$cpu")
      if ((stop_at_deep)) && deep_found "$out"; then
        sleep 3
        cpu=$(cpu_of "$pid" 2>/dev/null || echo "$cpu")
        kill -INT "$pid" 2>/dev/null || true
        break
      fi
    done
    # SIGINT ends the run as the budget does (fuzz.json complete); a run
    # past its deadline is killed.
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    wall=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.1f", a - b }')
    python3 - "$out/fuzz.json" "${config:-default}" "$seed" "$wall" "$cpu" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
def first(tag):
    for f in j["findings"]:
        if tag in f.get("cause", ""):
            return f
    return None
deep, shallow = first("planted bug 2"), first("planted bug 1")
print("%s %s %s %s %s %d %s %s" % (
    sys.argv[2].replace(" ", ","), sys.argv[3],
    "%.1f" % deep["first_at_s"] if deep else "-",
    deep["first_at_session"] if deep else "-",
    "%.1f" % shallow["first_at_s"] if shallow else "-",
    j["stats"]["sessions"], sys.argv[4], sys.argv[5]))
PY
    rm -rf "$out" "$out.log"
  done
done

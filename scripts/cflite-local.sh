#!/usr/bin/env bash
# Runs .clusterfuzzlite/build.sh the way ClusterFuzzLite does, with local
# values (clang-14, ASan + UBSan, libFuzzer) into a temporary $OUT, checks
# that every target arrived with its seed corpus, .options and dictionary,
# and runs each target for a few seconds on its unzipped seeds with the flags
# of its .options file. For CI: exit status non-zero on any failure.
#
# Usage: scripts/cflite-local.sh [SECONDS]   (default 5 per target)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}

tmp=$(mktemp -d)
keep=0
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
  if ((keep)); then
    echo "cflite-local: kept $tmp" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
mkdir -p "$tmp/out" "$tmp/work"

export CC=clang-14 CXX=clang++-14
export CFLAGS="-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined \
-fsanitize-address-use-after-scope -fno-sanitize-recover=undefined -fsanitize=fuzzer-no-link"
export CXXFLAGS=$CFLAGS
export LIB_FUZZING_ENGINE=-fsanitize=fuzzer
export OUT=$tmp/out WORK=$tmp/work SRC=$PWD/..

echo "== build.sh -> $OUT" >&2
bash .clusterfuzzlite/build.sh >"$tmp/build.log" 2>&1 || {
  keep=1
  tail -30 "$tmp/build.log" >&2
  echo "cflite-local: build.sh failed (log: $tmp/build.log)" >&2
  exit 1
}

failed=0
count=0
for src in fuzz/fuzz_*.cc; do
  t=$(basename "$src" .cc)
  # fuzz_scenario_loader is top-level only (it needs the scenario loader).
  # fuzz_server_session is in the CFLite build whenever Abseil, nlohmann/json
  # and OpenSSL are there (the Dockerfile installs them; here: install-deps).
  [[ $t == fuzz_scenario_loader ]] && continue
  count=$((count + 1))
  for f in "$OUT/$t" "$OUT/$t.options" "$OUT/${t}_seed_corpus.zip" "$OUT/smtp.dict"; do
    [[ -e $f ]] || { echo "!! $t: missing $f" >&2; failed=1; continue 2; }
  done
  seeds=$tmp/seeds/$t
  mkdir -p "$seeds"
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' \
    "$OUT/${t}_seed_corpus.zip" "$seeds"
  nseeds=$(find "$seeds" -type f | wc -l)
  flags=()
  while IFS='=' read -r key value; do
    key=${key//[[:space:]]/}
    value=$(echo "$value" | xargs)
    [[ -z $key || $key == \[* || $key == \#* ]] && continue
    flags+=("-$key=$value")
  done <"$OUT/$t.options"
  rc=0
  (cd "$OUT" && timeout $((secs * 3 + 60)) "./$t" "${flags[@]}" -max_total_time="$secs" \
    -print_final_stats=1 -artifact_prefix="$tmp/" "$seeds") >"$tmp/$t.log" 2>&1 || rc=$?
  last=$(grep -E 'cov: [0-9]+' "$tmp/$t.log" | tail -1 || true)
  if ((rc)); then
    keep=1
    failed=1
    echo "!! $t: exit $rc (log: $tmp/$t.log)" >&2
    grep -E 'FUZZ ORACLE|check:|ERROR|SUMMARY|Test unit written' "$tmp/$t.log" | head -8 >&2 || true
  else
    echo "ok $t: $nseeds seeds; ${last#*DONE }" >&2
  fi
done
((count)) || { echo "cflite-local: no targets" >&2; exit 1; }
exit "$failed"

#!/usr/bin/env bash
# A long parser-fuzzing campaign, measured in CPU time rather than wall time,
# so a campaign run beside other work (at low priority) still gets its full
# budget. Per target:
#   1. a run from an EMPTY corpus with a fresh random -seed (-e seconds wall);
#   2. runs over corpus/<target>/ plus everything found so far, in chunks of
#      at most 15 min wall, until the target's total CPU time (user + sys, both
#      runs) reaches -c seconds.
# A finding ends that target's campaign (the reproducer is kept and printed).
# With --merge, inputs that add coverage are merged into corpus/<target>/.
# One line per target goes to <build>/campaign/summary.tsv and to stderr:
# CPU s, wall s, execs, execs per CPU s, final cov and ft, corpus size before and
# after, findings, seed. docs/fuzzing.md records the figures of a campaign.
#
# Usage: scripts/fuzz-campaign.sh [-c CPU_SECONDS] [-e SECONDS] [-s SEED]
#                                 [-j JOBS] [--merge] TARGET...
#   -c CPU_SECONDS  per target (default 3600)
#   -e SECONDS      wall time of the empty-corpus run (default 600)
#   -s SEED         its -seed (default random, printed)
#   -j JOBS         libFuzzer -fork=JOBS: JOBS processes, JOBS CPU s per second
# Needs the fuzz preset built (scripts/fuzz.sh builds it); FUZZ_BUILD_DIR as
# for scripts/fuzz.sh. Run it niced beside other work: `nice -n 19 ...`.
set -euo pipefail
cd "$(dirname "$0")/.."

cpu_budget=3600
fresh=600
seed=
jobs=1
merge=0
targets=()
while (($#)); do
  case $1 in
    -c) cpu_budget=$2; shift 2 ;;
    -e) fresh=$2; shift 2 ;;
    -s) seed=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    --merge) merge=1; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz-campaign.sh: unknown option $1" >&2; exit 2 ;;
    *) t=$1; [[ $t == fuzz_* ]] || t=fuzz_$t
       [[ -f fuzz/$t.cc ]] || { echo "fuzz-campaign.sh: no target $t" >&2; exit 2; }
       targets+=("$t"); shift ;;
  esac
done
((${#targets[@]})) || { echo "fuzz-campaign.sh: name at least one target" >&2; exit 2; }
for v in "$cpu_budget" "$fresh" "${seed:-1}" "$jobs"; do
  [[ $v =~ ^[0-9]{1,10}$ ]] || { echo "fuzz-campaign.sh: -c, -e, -s and -j take numbers" >&2; exit 2; }
done
((jobs >= 1)) || jobs=1
[[ -n $seed && $seed != 0 ]] || seed=$((((RANDOM << 15) | RANDOM) + 1))

build_dir=${FUZZ_BUILD_DIR:-build/fuzz}
out=$build_dir/campaign
mkdir -p "$out"
[[ -f $out/summary.tsv ]] ||
  printf 'target\tcpu_s\twall_s\texecs\texecs_per_cpu_s\tcov\tft\tcorpus_before\tcorpus_after\tfindings\tseed\tdate\n' \
    >"$out/summary.tsv"

# options_flags TARGET: the libFuzzer flags of fuzz/TARGET.options.
source scripts/fuzz-options.sh

# chunk LOG SECONDS FLAGS... -- DIRS...: one libFuzzer run; adds its CPU
# seconds to $cpu, its executions to $execs; sets $rc.
chunk() {
  local log=$1 secs=$2 t0 t1 usage
  shift 2
  local flags=(-max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$run/artifacts/" "${opts[@]}")
  ((jobs > 1)) && flags+=(-fork="$jobs")
  while [[ $1 != -- ]]; do flags+=("$1"); shift; done
  shift
  t0=$(date +%s)
  rc=0
  /usr/bin/time -f '%U %S' -o "$log.time" \
    timeout --kill-after=30 $((secs * 2 + 120)) "$bin" "${flags[@]}" "$@" >"$log" 2>&1 || rc=$?
  t1=$(date +%s)
  wall=$((wall + t1 - t0))
  usage=$(tail -1 "$log.time")
  cpu=$(awk -v c="$cpu" -v u="${usage% *}" -v s="${usage#* }" 'BEGIN { printf "%d", c + u + s }')
  local n
  n=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
  local last
  last=$(grep -E 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  [[ -n $n ]] || n=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")  # -fork: no final stats
  execs=$((execs + ${n:-0}))
  [[ -z $last ]] || {
    cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
    ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
  }
  echo "   $t $(basename "$log"): rc $rc, ${n:-?} execs, cpu total ${cpu}s, $last" >&2
}

status=0
for t in "${targets[@]}"; do
  bin=$build_dir/fuzz/$t
  [[ -x $bin ]] || bin=$build_dir/$t
  [[ -x $bin ]] || { echo "fuzz-campaign.sh: $bin not built (run scripts/fuzz.sh $t -t 1 first)" >&2; exit 2; }
  run=$out/$t
  rm -rf "$run"
  mkdir -p "$run/found" "$run/fresh" "$run/artifacts"
  mapfile -t opts < <(options_flags "$t")
  before=$(find "corpus/$t" -type f | wc -l)
  cpu=0 wall=0 execs=0 cov=? ft=? i=0
  echo "== $t: $cpu_budget CPU s; first $fresh s from an empty corpus, -seed=$seed" >&2
  chunk "$run/fresh.log" "$fresh" -seed="$seed" -- "$run/fresh"
  while ((rc == 0 && cpu < cpu_budget)); do
    i=$((i + 1))
    left=$((cpu_budget - cpu))
    secs=$((left / jobs))
    chunk "$run/chunk$i.log" $((secs < 900 ? (secs < 30 ? 30 : secs) : 900)) \
      -- "$run/found" "corpus/$t" "$run/fresh"
  done
  findings=$(find "$run/artifacts" -type f | wc -l)
  if ((rc != 0 || findings > 0)); then
    status=1
    echo "!! $t: finding (exit $rc); logs in $run" >&2
    grep -hE 'FUZZ ORACLE|check:|ERROR: |runtime error|SUMMARY' "$run"/*.log | head -8 >&2 || true
    find "$run/artifacts" -type f -printf '   reproducer: %p\n' >&2
  elif ((merge)); then
    "$bin" -merge=1 "${opts[@]}" "corpus/$t" "$run/found" "$run/fresh" >"$run/merge.log" 2>&1
  fi
  after=$(find "corpus/$t" -type f | wc -l)
  eps=$((cpu > 0 ? execs / cpu : 0))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$cpu" "$wall" "$execs" "$eps" \
    "$cov" "$ft" "$before" "$after" "$findings" "$seed" "$(date -u +%FT%TZ)" | tee -a "$out/summary.tsv" >&2
done
exit "$status"

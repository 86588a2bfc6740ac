#!/usr/bin/env bash
# Runs the in-process libFuzzer targets (fuzz/fuzz_*.cc) for a time budget
# each, in two runs per target: one from the shipped corpus/<target>/ and one
# from an EMPTY corpus with a fresh random -seed (a run that only ever starts
# from the shipped corpus keeps retracing the same paths and can miss what a
# fresh start finds quickly). Merges inputs that add coverage into
# corpus/<target>/ and exits non-zero on a finding in either run, printing
# the reproducer's path and how to replay it. Builds the `fuzz` preset first
# (after scripts/install-deps.sh).
#
# Usage: scripts/fuzz.sh [-t SECONDS] [-e SECONDS] [-s SEED] [-j JOBS]
#                        [--no-merge] [--no-build] [TARGET...]
#   -t SECONDS   budget per target, both runs (default 30, or $FUZZ_TIME)
#   -e SECONDS   of which the empty-corpus run gets (default half of -t, at
#                least 5; 0 skips that run)
#   -s SEED      libFuzzer -seed of the empty-corpus runs (default: random;
#                printed, so a run can be repeated)
#   -j JOBS      libFuzzer -fork=JOBS: JOBS processes per run (default 1)
#   --no-merge   leave corpus/ untouched
#   --no-build   use the binaries already in the build directory
#   TARGET       fuzz_command or just command; default: every fuzz/fuzz_*.cc
# Environment: FUZZ_BUILD_DIR (default build/fuzz), FUZZ_ARGS (extra
# libFuzzer flags, e.g. "-only_ascii=1").
#
# Per target it writes <build>/fuzz-runs/<target>/{corpus.log,fresh.log,
# merge.log,new/,fresh/,artifacts/} and prints one summary line per run:
# execs, exec/s, cov, ft, corpus, peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."

# The targets are the files fuzz/fuzz_<x>.cc, as for fuzz/CMakeLists.txt and
# .clusterfuzzlite/build.sh: no list to keep in step.
all_targets=()
for src in fuzz/fuzz_*.cc; do all_targets+=("$(basename "$src" .cc)"); done
budget=${FUZZ_TIME:-30}
fresh=
seed=
jobs=1
merge=1
build=1
targets=()
while (($#)); do
  case $1 in
    -t) budget=$2; shift 2 ;;
    -e) fresh=$2; shift 2 ;;
    -s) seed=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    --no-merge) merge=0; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) t=$1; [[ $t == fuzz_* ]] || t=fuzz_$t
       [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: no target $t" >&2; exit 2; }
       targets+=("$t"); shift ;;
  esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")
for v in "$budget" "$jobs" "${fresh:-0}" "${seed:-1}"; do
  [[ $v =~ ^[0-9]{1,10}$ ]] || { echo "fuzz.sh: -t, -e, -s and -j take numbers" >&2; exit 2; }
done
budget=$((10#$budget)) jobs=$((10#$jobs))  # "08" is not octal here
[[ -z $fresh ]] || fresh=$((10#$fresh))
[[ -z $seed ]] || seed=$((10#$seed))
# The split: the empty-corpus run takes half (at least 5 s), the shipped
# corpus the rest (at least 1 s), so `-t 20` stays about 20 s per target.
[[ -n $fresh ]] || fresh=$((budget / 2 > 5 ? budget / 2 : 5))
shipped=$((budget - fresh > 1 ? budget - fresh : 1))
# libFuzzer's -seed=0 means "from the clock" and is not printed back, so pick
# a non-zero one here.
[[ -n $seed && $seed != 0 ]] || seed=$((((RANDOM << 15) | RANDOM) + 1))
((seed <= 4294967295)) || { echo "fuzz.sh: -s takes a 32-bit seed" >&2; exit 2; }
if ((fresh > 0)); then
  plan="$shipped s from corpus/<target>/ + $fresh s from an empty corpus with -seed=$seed"
else
  plan="$shipped s from corpus/<target>/, no empty-corpus run"
fi

build_dir=${FUZZ_BUILD_DIR:-build/fuzz}
if ((build)); then
  bash scripts/install-deps.sh >&2
  source scripts/ccache-env.sh
  cmake --preset fuzz -B "$build_dir" >/dev/null
  cmake --build "$build_dir" -j"$(nproc)" --target "${targets[@]}" "${targets[@]/%/_replay}" >&2
fi

# options_flags TARGET: the libFuzzer flags of fuzz/TARGET.options.
source scripts/fuzz-options.sh

# run_fuzzer LABEL SECONDS LOG ARTIFACT_PREFIX FLAGS... -- CORPUS_DIRS...
# Runs $bin; sets rc. The first corpus directory receives the new inputs.
run_fuzzer() {
  local label=$1 secs=$2 log=$3 prefix=$4
  shift 4
  local flags=(-max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$prefix" "${opts[@]}")
  ((jobs > 1)) && flags+=(-fork="$jobs")
  while [[ $1 != -- ]]; do flags+=("$1"); shift; done
  shift
  # shellcheck disable=SC2206  # FUZZ_ARGS is a list of flags
  local extra=(${FUZZ_ARGS:-})
  echo "== $t ($label): $secs s, $jobs job(s)" >&2
  rc=0
  timeout --kill-after=30 $((secs * 2 + 120)) \
    "$bin" "${flags[@]}" "${extra[@]}" "$@" >"$log" 2>&1 || rc=$?
}

# stats LOG: "execs N exec/s N cov N ft N corp N rss NMB" from a run's log.
stats() {
  local log=$1 last cov ft corp execs eps rss
  # Final stats: the last "cov: N ft: M" line, and -print_final_stats.
  last=$(grep -E 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.*corp: ([0-9]+).*/\1/p' <<<"$last")
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
  [[ -n $execs ]] || execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")  # -fork: no final stats
  eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -1)
  [[ -n $eps ]] || eps=$(sed -nE 's/.*exec\/s:? ([0-9]+).*/\1/p' <<<"$last")
  rss=$(sed -nE 's/^stat::peak_rss_mb: *([0-9]+).*/\1/p' "$log" | tail -1)
  printf 'execs %-10s exec/s %-7s cov %-5s ft %-6s corp %-5s rss %sMB' \
    "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}"
}

# report LABEL RC LOG ARTIFACT_PREFIX: prints a finding of one run (non-zero
# exit or an artifact); returns 1 if there was one.
report() {
  local label=$1 code=$2 log=$3 prefix=$4 found f
  mapfile -t found < <(find "$(dirname "$prefix")" -type f -name "$(basename "$prefix")*" | sort)
  ((code != 0 || ${#found[@]})) || return 0
  echo "!! $t ($label): finding (exit $code). Log: $log" >&2
  grep -E 'FUZZ ORACLE|check:|ERROR: (AddressSanitizer|libFuzzer|UndefinedBehavior)|runtime error|SUMMARY' \
    "$log" | head -8 >&2 || true
  ((code == 124 || code == 137)) && echo "   the fuzzer outlived its time budget (killed)" >&2
  for f in "${found[@]}"; do
    echo "   reproducer: $f" >&2
    echo "   replay:     $bin_dir/${t}_replay $f" >&2
  done
  return 1
}

echo "== per target: $plan" >&2
findings=0
summary=()
for t in "${targets[@]}"; do
  bin_dir=$build_dir/fuzz  # top-level build; a standalone `cmake -S fuzz` build has no subdir
  [[ -x $bin_dir/$t ]] || bin_dir=$build_dir
  bin=$bin_dir/$t
  [[ -x $bin ]] || { echo "fuzz.sh: $bin not built (configure the fuzz preset)" >&2; exit 2; }
  run=$build_dir/fuzz-runs/$t
  rm -rf "$run"
  mkdir -p "$run/new" "$run/fresh" "$run/artifacts" "corpus/$t"
  mapfile -t opts < <(options_flags "$t")
  result=ok

  # 1. From the shipped corpus; new inputs go to $run/new.
  run_fuzzer corpus "$shipped" "$run/corpus.log" "$run/artifacts/corpus-" -- "$run/new" "corpus/$t"
  report corpus "$rc" "$run/corpus.log" "$run/artifacts/corpus-" || result=FINDING
  summary+=("$(printf '%-20s %-6s %s  %s' "$t" corpus "$(stats "$run/corpus.log")" "$result")")
  echo "${summary[-1]}" >&2

  # 2. From nothing, with the fresh seed; its inputs go to $run/fresh.
  if ((fresh > 0)); then
    fresh_result=ok
    run_fuzzer "empty corpus, -seed=$seed" "$fresh" "$run/fresh.log" "$run/artifacts/fresh-" \
      -seed="$seed" -- "$run/fresh"
    report "empty corpus, -seed=$seed" "$rc" "$run/fresh.log" "$run/artifacts/fresh-" ||
      { fresh_result=FINDING; result=FINDING; }
    summary+=("$(printf '%-20s %-6s %s  %s' "" fresh "$(stats "$run/fresh.log")" "$fresh_result")")
    echo "${summary[-1]}" >&2
  fi

  if [[ $result == FINDING ]]; then
    findings=$((findings + 1))
  elif ((merge)); then
    before=$(find "corpus/$t" -type f | wc -l)
    if timeout --kill-after=30 $((budget + 300)) \
      "$bin" -merge=1 "${opts[@]}" "corpus/$t" "$run/new" "$run/fresh" >"$run/merge.log" 2>&1; then
      after=$(find "corpus/$t" -type f | wc -l)
      echo "   $t: merged +$((after - before)) corpus files" >&2
      summary+=("$(printf '%-20s merged +%s corpus files' "" "$((after - before))")")
    else
      echo "!! $t: merge failed, see $run/merge.log" >&2
      summary+=("$(printf '%-20s MERGE-FAILED' "")")
      findings=$((findings + 1))
    fi
  fi
done

echo >&2
echo "== summary (per target: $plan; $jobs job(s))" >&2
printf '%s\n' "${summary[@]}" >&2
if ((findings)); then
  echo "fuzz.sh: $findings target(s) with findings; add fixed reproducers to corpus/<target>/ (docs/fuzzing.md)" >&2
  exit 1
fi

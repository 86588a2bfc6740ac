#!/usr/bin/env bash
# Runs the in-process libFuzzer targets (fuzz/fuzz_*.cc) for a time budget
# each, merges inputs that add coverage into corpus/<target>/, and exits
# non-zero on any finding, printing the reproducer's path and how to replay
# it. Builds the `fuzz` preset first (after scripts/install-deps.sh).
#
# Usage: scripts/fuzz.sh [-t SECONDS] [-j JOBS] [--no-merge] [--no-build] [TARGET...]
#   -t SECONDS   budget per target (-max_total_time; default 30, or $FUZZ_TIME)
#   -j JOBS      libFuzzer -fork=JOBS: JOBS processes per target (default 1)
#   --no-merge   leave corpus/ untouched
#   --no-build   use the binaries already in the build directory
#   TARGET       fuzz_command or just command; default: every target
# Environment: FUZZ_BUILD_DIR (default build/fuzz), FUZZ_ARGS (extra
# libFuzzer flags, e.g. "-only_ascii=1").
#
# Per target it writes <build>/fuzz-runs/<target>/{fuzz.log,merge.log,new/,
# artifacts/} and prints one summary line: execs, exec/s, cov, ft, corpus.
set -euo pipefail
cd "$(dirname "$0")/.."

all_targets=(fuzz_line_reader fuzz_command fuzz_path fuzz_esmtp_params fuzz_reply fuzz_data
             fuzz_scenario_loader)
budget=${FUZZ_TIME:-30}
jobs=1
merge=1
build=1
targets=()
while (($#)); do
  case $1 in
    -t) budget=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    --no-merge) merge=0; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1" >&2; exit 2 ;;
    *) t=$1; [[ $t == fuzz_* ]] || t=fuzz_$t
       [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: no target $t" >&2; exit 2; }
       targets+=("$t"); shift ;;
  esac
done
((${#targets[@]})) || targets=("${all_targets[@]}")
[[ $budget =~ ^[0-9]+$ && $jobs =~ ^[0-9]+$ ]] || { echo "fuzz.sh: -t and -j take numbers" >&2; exit 2; }

build_dir=${FUZZ_BUILD_DIR:-build/fuzz}
if ((build)); then
  bash scripts/install-deps.sh >&2
  cmake --preset fuzz -B "$build_dir" >/dev/null
  cmake --build "$build_dir" -j"$(nproc)" --target "${targets[@]}" "${targets[@]/%/_replay}" >&2
fi

# libFuzzer flags from fuzz/<target>.options ([libfuzzer] key = value).
options_flags() {
  local file=fuzz/$1.options key value
  [[ -f $file ]] || return 0
  while IFS='=' read -r key value; do
    key=${key//[[:space:]]/}
    value=$(echo "$value" | xargs)
    [[ -z $key || $key == \[* || $key == \#* ]] && continue
    [[ $key == dict ]] && value=fuzz/$value
    echo "-$key=$value"
  done <"$file"
}

findings=0
summary=()
for t in "${targets[@]}"; do
  bin_dir=$build_dir/fuzz  # top-level build; a standalone `cmake -S fuzz` build has no subdir
  [[ -x $bin_dir/$t ]] || bin_dir=$build_dir
  bin=$bin_dir/$t
  [[ -x $bin ]] || { echo "fuzz.sh: $bin not built (configure the fuzz preset)" >&2; exit 2; }
  run=$build_dir/fuzz-runs/$t
  rm -rf "$run"
  mkdir -p "$run/new" "$run/artifacts" "corpus/$t"
  mapfile -t opts < <(options_flags "$t")
  flags=(-max_total_time="$budget" -print_final_stats=1 -artifact_prefix="$run/artifacts/" "${opts[@]}")
  ((jobs > 1)) && flags+=(-fork="$jobs")
  # shellcheck disable=SC2206  # FUZZ_ARGS is a list of flags
  extra=(${FUZZ_ARGS:-})
  echo "== $t: $budget s, $jobs job(s)" >&2
  rc=0
  timeout --kill-after=30 $((budget * 2 + 120)) \
    "$bin" "${flags[@]}" "${extra[@]}" "$run/new" "corpus/$t" >"$run/fuzz.log" 2>&1 || rc=$?

  # Final stats: the last "cov: N ft: M" line, and -print_final_stats.
  last=$(grep -E 'cov: [0-9]+ ft: [0-9]+' "$run/fuzz.log" | tail -1 || true)
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$last")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$last")
  corp=$(sed -nE 's/.*corp: ([0-9]+).*/\1/p' <<<"$last")
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$run/fuzz.log" | tail -1)
  [[ -n $execs ]] || execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")  # -fork: no final stats
  eps=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$run/fuzz.log" | tail -1)
  [[ -n $eps ]] || eps=$(sed -nE 's/.*exec\/s:? ([0-9]+).*/\1/p' <<<"$last")
  rss=$(sed -nE 's/^stat::peak_rss_mb: *([0-9]+).*/\1/p' "$run/fuzz.log" | tail -1)

  mapfile -t found < <(find "$run/artifacts" -type f | sort)
  if ((rc != 0 || ${#found[@]})); then
    findings=$((findings + 1))
    result=FINDING
    echo "!! $t: finding (exit $rc). Log: $run/fuzz.log" >&2
    grep -E 'FUZZ ORACLE|check:|ERROR: (AddressSanitizer|libFuzzer|UndefinedBehavior)|runtime error|SUMMARY' \
      "$run/fuzz.log" | head -8 >&2 || true
    ((rc == 124 || rc == 137)) && echo "   the fuzzer outlived its time budget (killed)" >&2
    for f in "${found[@]}"; do
      echo "   reproducer: $f" >&2
      echo "   replay:     $bin_dir/${t}_replay $f" >&2
    done
  else
    result=ok
    if ((merge)); then
      before=$(find "corpus/$t" -type f | wc -l)
      timeout --kill-after=30 $((budget + 300)) \
        "$bin" -merge=1 "${opts[@]}" "corpus/$t" "$run/new" >"$run/merge.log" 2>&1 ||
        { echo "!! $t: merge failed, see $run/merge.log" >&2; findings=$((findings + 1)); result=MERGE-FAILED; }
      after=$(find "corpus/$t" -type f | wc -l)
      result="$result, +$((after - before)) corpus files"
    fi
  fi
  line=$(printf '%-18s execs %-10s exec/s %-7s cov %-5s ft %-6s corp %-5s rss %sMB  %s' \
    "$t" "${execs:-?}" "${eps:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}" "$result")
  echo "$line" >&2
  summary+=("$line")
done

echo >&2
echo "== summary ($budget s per target, $jobs job(s))" >&2
printf '%s\n' "${summary[@]}" >&2
if ((findings)); then
  echo "fuzz.sh: $findings target(s) with findings; add fixed reproducers to corpus/<target>/ (docs/fuzzing.md)" >&2
  exit 1
fi

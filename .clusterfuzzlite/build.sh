#!/bin/bash -eu
# Builds the libFuzzer targets of fuzz/ for ClusterFuzzLite / OSS-Fuzz and
# installs them into $OUT with their seed corpora, .options and dictionary:
#   $OUT/fuzz_<x>, $OUT/fuzz_<x>_seed_corpus.zip, $OUT/fuzz_<x>.options,
#   $OUT/smtp.dict
# Uses the standard variables: CXX, CXXFLAGS (sanitizers and
# -fsanitize=fuzzer-no-link), LIB_FUZZING_ENGINE (e.g. -fsanitize=fuzzer),
# OUT, SRC, and WORK when set. CC/CFLAGS are unused (no C sources). Runs from
# the repository root, or finds the checkout at $SRC/smtp-harness.
# Locally: scripts/cflite-local.sh.

repo=$PWD
[[ -f $repo/fuzz/CMakeLists.txt ]] || repo=$SRC/smtp-harness
build=${WORK:-$(mktemp -d)}/smtp-harness-fuzz-build
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

# The parser and the fuzz targets only; the flags come from the environment
# alone (no CMAKE_BUILD_TYPE), as OSS-Fuzz expects.
cmake -S "$repo/fuzz" -B "$build" "${generator[@]}" \
  -DCMAKE_BUILD_TYPE= \
  -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
  -DSMTP_FUZZ=ON \
  -DSMTP_FUZZ_REPLAY=OFF \
  -DSMTP_FUZZ_ENGINE="$LIB_FUZZING_ENGINE"
cmake --build "$build" -j"$(nproc)"

zip_dir() {  # zip_dir DIR ZIP: the files of DIR, flat
  if command -v zip >/dev/null; then
    (cd "$1" && zip -q -r -j "$2" .)
  else
    python3 - "$1" "$2" <<'PY'
import os, sys, zipfile
src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for root, _, files in os.walk(src):
        for f in sorted(files):
            z.write(os.path.join(root, f), f)
PY
  fi
}

for src in "$repo"/fuzz/fuzz_*.cc; do
  target=$(basename "$src" .cc)
  # fuzz_scenario_loader exists only in top-level builds; fuzz_server_session
  # only where Abseil, nlohmann/json and OpenSSL were found (the Dockerfile
  # installs them).
  [[ -x $build/$target ]] || continue
  cp "$build/$target" "$OUT/"
  [[ -f $repo/fuzz/$target.options ]] && cp "$repo/fuzz/$target.options" "$OUT/"
  if [[ -d $repo/corpus/$target ]]; then
    rm -f "$OUT/${target}_seed_corpus.zip"
    zip_dir "$repo/corpus/$target" "$OUT/${target}_seed_corpus.zip"
  fi
done
cp "$repo/fuzz/smtp.dict" "$OUT/"

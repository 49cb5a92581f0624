#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang-14 (AddressSanitizer + UndefinedBehaviorSanitizer) into
# build-fuzz/, replays every regression input of fuzz/regressions/, then fuzzes each target for SECONDS.
#   bash scripts/fuzz.sh [SECONDS]     default 60 per target; 0 = build and replay only
#   bash scripts/fuzz.sh --runs N      N inputs per target from seed 1 (CI: the same inputs on every machine,
#                                      so a failure there reproduces here with the same command)
# Seeds: fuzz/corpus/<target>/ (in the repository); what a run finds: build-fuzz/corpus/<target>/.
# A crash stops the script with the input in build-fuzz/crashes/: add it to fuzz/regressions/<target>/ and
# a Catch2 test for its cause.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
budget=()
if [ "${1:-}" = "--runs" ]; then
  [ -n "${2:-}" ] || { echo "fuzz: --runs needs a number" >&2; exit 2; }
  seconds=1
  budget=(-seed=1 -runs="$2")
fi
root=$PWD
build=${LB_FUZZ_BUILD:-$root/build-fuzz}
targets=(nifti records manifest scores_json)
start=$(date +%s)

san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 "${launcher[@]}" \
  -DCMAKE_C_FLAGS="$san -fsanitize=fuzzer-no-link" -DCMAKE_CXX_FLAGS="$san -fsanitize=fuzzer-no-link" \
  -DLESIONBENCH_FUZZ=ON -DLESIONBENCH_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j"${JOBS:-$(nproc)}" --target "${targets[@]/#/fuzz_}"
echo "fuzz: built in $(( $(date +%s) - start )) s"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$build/crashes" "$build/tmp"
export TMPDIR="$build/tmp"
# -malloc_limit_mb: no single allocation beyond what an input of -max_len bytes can justify.
opts=(-rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=20 -max_len=65536)
for t in "${targets[@]}"; do
  exe="$build/fuzz/fuzz_$t"
  if compgen -G "fuzz/regressions/$t/*" >/dev/null; then
    "$exe" "${opts[@]}" fuzz/regressions/"$t"/* >"$build/crashes/replay-$t.log" 2>&1 ||
      { cat "$build/crashes/replay-$t.log"; echo "fuzz: a regression input of $t fails" >&2; exit 1; }
  fi
  [ "$seconds" -gt 0 ] || continue
  mkdir -p "$build/corpus/$t"
  t0=$(date +%s)
  ((${#budget[@]})) || budget=(-max_total_time="$seconds")
  "$exe" "${opts[@]}" "${budget[@]}" -print_final_stats=1 -artifact_prefix="$build/crashes/$t-" \
    "$build/corpus/$t" "fuzz/corpus/$t" >"$build/crashes/run-$t.log" 2>&1 ||
    { tail -60 "$build/crashes/run-$t.log"; echo "fuzz: $t crashed; input in $build/crashes/" >&2; exit 1; }
  echo "fuzz: $t $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$build/crashes/run-$t.log" | grep -o '[0-9]*$') runs in $(( $(date +%s) - t0 )) s, no crash"
done
echo "fuzz: finished in $(( $(date +%s) - start )) s"

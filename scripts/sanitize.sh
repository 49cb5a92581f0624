#!/usr/bin/env bash
# Builds the metrics and runner tests with AddressSanitizer + UndefinedBehaviorSanitizer (gcc) into
# build-asan/ and runs them: out-of-bounds reads, use-after-free, leaks, overflow and misaligned access
# abort the test.
#   bash scripts/sanitize.sh [ctest -R regex]     default: the metrics and runner tests
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LB_ASAN_BUILD:-$PWD/build-asan}
start=$(date +%s)
# -O1, as the sanitizers' authors advise: fast enough to run, readable stacks, and a cold build of the tests in
# 12 minutes on 2 cores (Release's -O3 takes longer to compile and inlines away frames).
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g1 -O1"
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=None "${launcher[@]}" \
  -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DLESIONBENCH_SANITIZE=ON >/dev/null
# lesionbench and lesionbench-gen-masks: test_score_cli and the lesion-wise references run them.
cmake --build "$build" -j"${JOBS:-$(nproc)}" --target test_metrics test_runner lesionbench lesionbench-gen-masks
echo "sanitize: built in $(( $(date +%s) - start )) s"
# strict_memcmp=0: Boost.Process 1.74's environment lookup (basic_environment_impl::find, used by
# runner/spawn.cpp) compares "KEY=" with std::equal over every variable, which becomes a memcmp of the key's
# length over shorter strings; the comparison stops at the first difference, so only the bytes up to it are
# read. With the default strict check ASan reports that library code as an overflow and stops every runner test.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_memcmp=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" -R "${1:-^(test_metrics|test_runner):}"
echo "sanitize: finished in $(( $(date +%s) - start )) s"

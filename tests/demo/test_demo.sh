#!/usr/bin/env bash
# The README's main job end to end on this build: examples/demo.sh with 2 phantoms must exit 0, print the
# leaderboard table with the baseline ahead of the HU threshold, and write the page; where podman works,
# the container team must score exactly as the binary (same masks).
#   tests/demo/test_demo.sh BUILD_DIR
set -euo pipefail
build=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d /tmp/lb-demo-test.XXXXXX)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; echo "--- demo output:"; cat "$out/log"; exit 1; }

LESIONBENCH_BUILD=$build bash "$root/examples/demo.sh" --no-setup --cases 2 --out "$out/demo" >"$out/log" 2>&1 ||
  fail "demo exited with $?"
page=$(sed -n 's/^leaderboard page: //p' "$out/log")
[ -n "$page" ] && [ -s "$page" ] || fail "no leaderboard page printed or written"
grep -q '<html' "$page" || fail "$page is not an HTML page"
# Table rows: place team score mean DSC NSD ...
row() { awk -v t="$1" '$2 == t { print $5; exit }' "$out/log"; }
b=$(row baseline)
h=$(row hu-threshold)
[ -n "$b" ] && [ -n "$h" ] || fail "the table lacks the baseline or the HU threshold"
awk -v b="$b" -v h="$h" 'BEGIN { exit !(b > h) }' || fail "baseline DSC $b is not above the HU threshold's $h"
if grep -q '^demo: no container' "$out/log" || grep -q 'could not start on this machine' "$out/log"; then
  echo "container path unavailable here; the demo said why:"
  grep '^demo:' "$out/log"
else
  c=$(row baseline-container)
  [ "$c" = "$b" ] || fail "container DSC '$c' differs from the binary's $b"
fi
echo "demo ok: baseline DSC $b, HU threshold $h, page $page"

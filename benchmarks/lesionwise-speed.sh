#!/usr/bin/env bash
# Lesion-wise scoring on its worst case (issue 12 item 5): about 500 small lesions inside one large predicted
# blob on a 512x512x300 grid. Prints the wall time of case-wise and of --lesion-wise scoring (reading
# included), medians of --repeat runs, and their ratio (target: lesion-wise within 2x case-wise).
#
#   bash benchmarks/lesionwise-speed.sh [--lesions 500] [--slices 300] [--repeat 3] [--lb build/cli/lesionbench]
set -euo pipefail
cd "$(dirname "$0")/.."
lesions=500 slices=300 repeat=3 lb=build/cli/lesionbench gen=build/benchmarks/lesionbench-gen-masks
while (($#)); do
  case "$1" in
    --lesions) lesions=$2; shift 2 ;;
    --slices) slices=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --lb) lb=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$lb" ] && [ -x "$gen" ] || { echo "build first: bash scripts/setup.sh" >&2; exit 2; }
set_dir=benchmarks/out/metastases-$lesions-z$slices
[ -d "$set_dir/gt" ] || "$gen" --out "$set_dir" --metastases "$lesions" --slices "$slices"

wall() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
median() { sort -n | awk '{a[NR]=$1} END {printf "%.2f\n", a[int((NR+1)/2)]}'; }
flags=(score --gt "$set_dir/gt" --pred "$set_dir/pred" --threads 2 --quiet)
cw=$(for r in $(seq "$repeat"); do wall "$lb" "${flags[@]}"; done | median)
lw=$(for r in $(seq "$repeat"); do wall "$lb" "${flags[@]}" --lesion-wise; done | median)
echo "case-wise $cw s, --lesion-wise $lw s ($(echo "$lw / $cw" | bc -l | xargs printf '%.1f')x), $lesions lesions in one blob, 512x512x$slices"

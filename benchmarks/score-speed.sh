#!/usr/bin/env bash
# Times `lesionbench score` against the I/O floor (zcat of the same files) and, when its folder is given,
# the official FLARE24 Python scorer, all in one run on one generated set; prints ratios and peak memory.
#
#   bash benchmarks/score-speed.sh [--cases 24] [--seed 1] [--official DIR] [--set DIR] [--repeat 3] [--lesion-wise]
#
# --official DIR: folder holding T1_FLARE24_DSC_NSD_Eval.py and SurfaceDice.py (JunMa11/FLARE, FLARE24/);
#                 also compares its CSV with lesionbench's, value by value.
# Needs a built tree (bash scripts/setup.sh) and GNU time (/usr/bin/time, package "time").
set -euo pipefail
cd "$(dirname "$0")/.."
cases=24 seed=1 official="" set_dir="" repeat=3 lesion=0
while (($#)); do
  case "$1" in
    --cases) cases=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --official) official=$2; shift 2 ;;
    --set) set_dir=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --lesion-wise) lesion=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
lb=build/cli/lesionbench gen=build/benchmarks/lesionbench-gen-masks
[ -x "$lb" ] && [ -x "$gen" ] || { echo "build first: bash scripts/setup.sh" >&2; exit 2; }
out=benchmarks/out; mkdir -p "$out"
[ -n "$set_dir" ] || set_dir="$out/set-$cases-$seed"
[ -d "$set_dir/gt" ] || "$gen" --out "$set_dir" --cases "$cases" --seed "$seed" >/dev/null

# Wall seconds and peak RSS (MiB) of a command, from GNU time.
measure() {
  local log; log=$(mktemp)
  /usr/bin/time -f "%e %M" -o "$log" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; cat "$log" >&2; exit 1; }
  awk '{printf "%s %.0f\n", $1, $2/1024}' "$log"; rm -f "$log"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

files=$(ls "$set_dir"/gt/*.nii.gz "$set_dir"/pred/*.nii.gz)
raw_mb=$(for f in $files; do zcat "$f"; done | wc -c | awk '{printf "%.0f", $1/1e6}')
zcat_s=$(for r in $(seq "$repeat"); do measure sh -c "for f in $(echo $files); do zcat \$f >/dev/null; done" | cut -d' ' -f1; done | median)

flags=(--gt "$set_dir/gt" --pred "$set_dir/pred" --threads 2 --csv "$out/lesionbench.csv")
((lesion)) && flags+=(--lesion-wise)
lb_runs=$(for r in $(seq "$repeat"); do measure "$lb" score "${flags[@]}"; done)
lb_s=$(echo "$lb_runs" | cut -d' ' -f1 | median)
lb_mib=$(echo "$lb_runs" | cut -d' ' -f2 | sort -n | tail -1)

echo "set: $set_dir ($cases cases, $raw_mb MB of voxels, $(du -sh "$set_dir" | cut -f1) on disk)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u +%Y-%m-%d)"
printf "%-28s %10s %10s\n" "" "wall_s" "peak_MiB"
printf "%-28s %10s %10s\n" "zcat (I/O floor, 1 core)" "$zcat_s" "-"
printf "%-28s %10s %10s\n" "lesionbench score" "$lb_s" "$lb_mib"
echo "lesionbench / zcat: $(awk -v a="$lb_s" -v b="$zcat_s" 'BEGIN {printf "%.2f", a/b}')x (target <= 3)"

if [ -n "$official" ]; then
  py=/usr/bin/python3
  read -r off_s off_mib < <(measure "$py" benchmarks/run_official_scorer.py "$official" "$set_dir/gt" "$set_dir/pred" "$out/official.csv")
  printf "%-28s %10s %10s\n" "official scorer (Python)" "$off_s" "$off_mib"
  echo "official / lesionbench: $(awk -v a="$off_s" -v b="$lb_s" 'BEGIN {printf "%.0f", a/b}')x faster (target >= 100)"
  if diff -q "$out/official.csv" "$out/lesionbench.csv" >/dev/null; then
    echo "CSV: identical to the official scorer's ($(($(wc -l <"$out/official.csv") - 1)) rows)"
  else
    echo "CSV: DIFFERS from the official scorer's:"; diff "$out/official.csv" "$out/lesionbench.csv" | head -20
    exit 1
  fi
fi

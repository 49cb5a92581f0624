#!/usr/bin/env bash
# Times `lesionbench score` against the I/O floor (zcat of the same files) and, when its folder is given,
# the official FLARE24 Python scorer, all in one run on one generated set; prints ratios and peak memory.
#
#   bash benchmarks/score-speed.sh [--cases 24] [--seed 1] [--slices N] [--official DIR] [--set DIR] [--repeat 3]
#
# --official DIR: folder holding T1_FLARE24_DSC_NSD_Eval.py and SurfaceDice.py (JunMa11/FLARE, FLARE24/);
#                 also compares its CSV with lesionbench's, value by value.
# Needs a built tree (bash scripts/setup.sh) and GNU time (/usr/bin/time, package "time").
set -euo pipefail
cd "$(dirname "$0")/.."
cases=24 seed=1 official="" set_dir="" repeat=3 slices=""

while (($#)); do
  case "$1" in
    --cases) cases=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --official) official=$2; shift 2 ;;
    --set) set_dir=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --slices) slices=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
lb=build/cli/lesionbench gen=build/benchmarks/lesionbench-gen-masks
[ -x "$lb" ] && [ -x "$gen" ] || { echo "build first: bash scripts/setup.sh" >&2; exit 2; }
out=benchmarks/out; mkdir -p "$out"
[ -n "$set_dir" ] || set_dir="$out/set-$cases-$seed${slices:+-z$slices}"
[ -d "$set_dir/gt" ] || "$gen" --out "$set_dir" --cases "$cases" --seed "$seed" ${slices:+--slices "$slices"} >/dev/null

# Wall seconds, peak RSS (MiB) and CPU seconds (user + system) of a command, from GNU time.
measure() {
  local log; log=$(mktemp)
  /usr/bin/time -f "%e %M %U %S" -o "$log" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; cat "$log" >&2; exit 1; }
  awk '{printf "%s %.0f %.2f\n", $1, $2/1024, $3+$4}' "$log"; rm -f "$log"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

files=$(ls "$set_dir"/gt/*.nii.gz "$set_dir"/pred/*.nii.gz)
raw_mb=$(for f in $files; do zcat "$f"; done | wc -c | awk '{printf "%.0f", $1/1e6}')
zcat_s=$(for r in $(seq "$repeat"); do measure sh -c "for f in $(echo $files); do zcat \$f >/dev/null; done" | cut -d' ' -f1; done | median)

flags=(--gt "$set_dir/gt" --pred "$set_dir/pred" --threads 2 --csv "$out/lesionbench.csv")
cw_runs=$(for r in $(seq "$repeat"); do measure "$lb" score "${flags[@]}"; done)
lw_runs=$(for r in $(seq "$repeat"); do measure "$lb" score "${flags[@]}" --lesion-wise; done)
# Every extra metric (issue 16): surface distances need a distance transform over the crop.
all_metrics=(--metrics dsc,nsd,iou,hd,hd95,masd,assd --nsd-at-mm 1,5)
am_runs=$(for r in $(seq "$repeat"); do measure "$lb" score "${flags[@]}" "${all_metrics[@]}"; done)
lb_s=$(echo "$cw_runs" | cut -d' ' -f1 | median)
lb_mib=$(echo "$cw_runs" | cut -d' ' -f2 | sort -n | tail -1)
lb_cpu=$(echo "$cw_runs" | cut -d' ' -f3 | median)
lw_s=$(echo "$lw_runs" | cut -d' ' -f1 | median)
lw_mib=$(echo "$lw_runs" | cut -d' ' -f2 | sort -n | tail -1)
lw_cpu=$(echo "$lw_runs" | cut -d' ' -f3 | median)
am_s=$(echo "$am_runs" | cut -d' ' -f1 | median)
am_mib=$(echo "$am_runs" | cut -d' ' -f2 | sort -n | tail -1)
am_cpu=$(echo "$am_runs" | cut -d' ' -f3 | median)

echo "set: $set_dir ($cases cases, $raw_mb MB of voxels, $(du -sh "$set_dir" | cut -f1) on disk)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(date -u +%Y-%m-%d); medians of $repeat runs"
printf "%-34s %8s %8s %9s\n" "" "wall_s" "cpu_s" "peak_MiB"
printf "%-34s %8s %8s %9s\n" "zcat (I/O floor, 1 core)" "$zcat_s" "-" "-"
printf "%-34s %8s %8s %9s\n" "lesionbench score (2 threads)" "$lb_s" "$lb_cpu" "$lb_mib"
printf "%-34s %8s %8s %9s\n" "lesionbench score --lesion-wise" "$lw_s" "$lw_cpu" "$lw_mib"
printf "%-34s %8s %8s %9s\n" "lesionbench score, all metrics" "$am_s" "$am_cpu" "$am_mib"
echo "lesionbench / zcat: $(awk -v a="$lb_s" -v b="$zcat_s" 'BEGIN {printf "%.2f", a/b}')x (target <= 3)"
echo "all metrics (${all_metrics[*]}) / default: $(awk -v a="$am_cpu" -v b="$lb_cpu" 'BEGIN {printf "%.2f", a/b}')x CPU time, $(awk -v a="$am_s" -v b="$lb_s" 'BEGIN {printf "%.2f", a/b}')x wall time (target <= 3x)"
echo "--lesion-wise adds: $(awk -v a="$lw_cpu" -v b="$lb_cpu" 'BEGIN {printf "%+.0f%%", 100*(a/b-1)}') CPU time, $(awk -v a="$lw_s" -v b="$lb_s" 'BEGIN {printf "%+.0f%%", 100*(a/b-1)}') wall time (target <= +50%)"

if [ -n "$official" ]; then
  py=/usr/bin/python3
  read -r off_s off_mib off_cpu < <(measure "$py" benchmarks/run_official_scorer.py "$official" "$set_dir/gt" "$set_dir/pred" "$out/official.csv")
  printf "%-34s %8s %8s %9s\n" "official scorer (Python, 1 core)" "$off_s" "$off_cpu" "$off_mib"
  echo "official / lesionbench: $(awk -v a="$off_s" -v b="$lb_s" 'BEGIN {printf "%.0f", a/b}')x faster (target >= 100)"
  if diff -q "$out/official.csv" "$out/lesionbench.csv" >/dev/null; then
    echo "CSV: identical to the official scorer's ($(($(wc -l <"$out/official.csv") - 1)) rows)"
  else
    echo "CSV: DIFFERS from the official scorer's:"; diff "$out/official.csv" "$out/lesionbench.csv" | head -20
    exit 1
  fi
fi

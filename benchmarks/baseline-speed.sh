#!/usr/bin/env bash
# Speed and peak memory of `lesionbench-baseline predict` on a 512x512x200 CT-sized volume (0.8 x 0.8 x 3 mm,
# int16, a synth phantom) on 2 cores: wall time and maximum resident set size from /usr/bin/time, per run.
#   benchmarks/baseline-speed.sh [--model FILE] [--runs N] [--out DIR]
# Target (issue 6): under 20 s and under 4 GB on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
model=baseline/models/default.json
runs=3
out=build/baseline-speed
while (($#)); do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin=build/baseline/lesionbench-baseline
[ -x "$bin" ] || { echo "build first (bash scripts/setup.sh)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
mkdir -p "$out"
if [ ! -f "$out/cases/imagesTs/Phantom_001_0000.nii.gz" ]; then
  build/cli/lesionbench synth --out "$out/cases" --cases 1 --seed 5 --matrix 512 --slices 200 --slice-mm 3 >/dev/null
fi
img=$out/cases/imagesTs/Phantom_001_0000.nii.gz
echo "volume: 512x512x200 int16, 0.8x0.8x3 mm, $(du -h "$img" | cut -f1) gzip; model: $model"
cores=$(nproc)
pin=()
((cores > 2)) && pin=(taskset -c 0,1)
start=$(date +%s.%N)
zcat "$img" >/dev/null
echo "zcat of the input alone: $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}') s"
for ((r = 1; r <= runs; r++)); do
  rm -rf "$out/pred"
  "${pin[@]}" /usr/bin/time -f "%e %M" -o "$out/time.txt" "$bin" predict --input "$out/cases/imagesTs" \
    --output "$out/pred" --model "$model" --threads 2 2>"$out/predict.log"
  read -r wall_s rss_kib <"$out/time.txt"
  printf 'run %d: wall %.2f s, peak RSS %.0f MiB  (%s)\n' "$r" "$wall_s" "$(awk -v k="$rss_kib" 'BEGIN {print k / 1024}')" \
    "$(grep Phantom_001 "$out/predict.log")"
done
echo "machine: $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(date -u +%Y-%m-%d)"

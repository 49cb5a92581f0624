#!/usr/bin/env bash
# Speed of the baseline's CNN (issue 17) on this machine: seconds per training step (batch 2, the default
# 64x64x32 patch and 12-24-48-96 network) from the progress line of a short run on phantoms, then
# `predict` with that (barely trained) model on the 512x512x200 volume of benchmarks/baseline-speed.sh
# (wall time and peak memory; the weights do not change the time).
#   benchmarks/cnn-speed.sh [--iterations N] [--threads N] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
iterations=10
threads=2
out=build/cnn-speed
while (($#)); do
  case "$1" in
    --iterations) iterations=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin=build/baseline/lesionbench-baseline
[ -x "$bin" ] || { echo "build first (bash scripts/setup.sh)" >&2; exit 2; }
mkdir -p "$out"
[ -f "$out/phantoms/imagesTs/Phantom_001_0000.nii.gz" ] ||
  build/cli/lesionbench synth --out "$out/phantoms" --cases 2 --seed 7 --matrix 160 >/dev/null
flags=$(grep -o 'LESIONBENCH_AVX2:BOOL=[A-Z]*' build/CMakeCache.txt 2>/dev/null || echo "LESIONBENCH_AVX2:BOOL=OFF")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $flags; threads $threads"
"$bin" train --method cnn --images "$out/phantoms/imagesTs" --labels "$out/phantoms/labelsTs" --holdout 0 \
  --iterations "$iterations" --progress-every "$iterations" --threads "$threads" --model "$out/cnn.json" \
  2>"$out/train.log"
grep -E "network:|iteration $iterations/" "$out/train.log"
bash benchmarks/baseline-speed.sh --model "$out/cnn.json" --runs 1 --out "$out/predict"

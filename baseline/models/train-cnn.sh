#!/usr/bin/env bash
# Trains the baseline's 3-D U-Net with the fixed recipe of docs/baseline.md ("The CNN") on the 24 real CT
# cases of <data>/sts-ct (<data>: $LESIONBENCH_DATA, else ../shared/data; scripts/data-dir.sh), all of them
# (--holdout 0), seed 1. About 65 minutes on 2 cores (2026-11-30: 0.95 s per step, 4000 steps).
# Interruptible: it checkpoints every 200 steps into build/cnn-model/, and running it again continues from
# the checkpoint, with the same result as an uninterrupted run. Writes the model to $1 (default
# build/cnn-model/cnn.json); extra arguments go to `train` (e.g. --iterations 200 for a quick look).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-build/cnn-model/cnn.json}
shift || true
source scripts/data-dir.sh
sts=$(lb_data_dir)/sts-ct
[ -d "$sts/images" ] || { echo "train-cnn.sh: $sts is missing" >&2; exit 2; }
bin=build/baseline/lesionbench-baseline
[ -x "$bin" ] || { echo "train-cnn.sh: build first (bash scripts/setup.sh)" >&2; exit 2; }
work=build/cnn-model
mkdir -p "$work"
resume=()
[ -f "$work/checkpoint.json" ] && resume=(--resume-from "$work/checkpoint.json")
nice "$bin" train --method cnn --images "$sts/images" --labels "$sts/labels" --holdout 0 --seed 1 \
  --checkpoint "$work/checkpoint.json" "${resume[@]}" --model "$out" "$@" 2>&1 | tee -a "$work/train.log"

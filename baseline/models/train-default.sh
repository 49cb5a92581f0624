#!/usr/bin/env bash
# Trains the shipped model, baseline/models/default.json, exactly as it was trained:
#   - the 24 real CT cases of <data>/sts-ct (<data>: $LESIONBENCH_DATA, else ../shared/data; scripts/data-dir.sh) (soft-tissue sarcoma, TCIA via IBSI; CC BY 3.0),
#   - 40 synth phantoms (seed 1000; the demo and the tests use other seeds).
# About 15 minutes on 2 cores. Run from anywhere; writes the model in place (or to $1).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-baseline/models/default.json}
source scripts/data-dir.sh
sts=$(lb_data_dir)/sts-ct
[ -d "$sts/images" ] || { echo "train-default.sh: $sts is missing" >&2; exit 2; }
work=build/default-model
mkdir -p "$work"
build/cli/lesionbench synth --out "$work/phantoms" --cases 40 --seed 1000 --matrix 160 >/dev/null
nice build/baseline/lesionbench-baseline train \
  --images "$sts/images" --labels "$sts/labels" \
  --images "$work/phantoms/imagesTs" --labels "$work/phantoms/labelsTs" \
  --holdout 0 --seed 1 --model "$out" 2>&1 | tee "$work/train.log"

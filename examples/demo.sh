#!/usr/bin/env bash
# Main job until the full demo lands: installs and builds, generates a small example set with the project's
# own generator (examples/data/, not committed), and scores it case-wise and lesion-wise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
data=examples/data/masks
[ -d "$data/gt" ] || ./build/benchmarks/lesionbench-gen-masks --out "$data" --cases 12 --seed 1 --size small
./build/cli/lesionbench score --gt "$data/gt" --pred "$data/pred" --lesion-wise \
  --json examples/data/scores.json --csv examples/data/DSC_NSD_example.csv

#!/usr/bin/env bash
# Accuracy of a baseline model on unseen synth phantoms (seed 2000, 160 x 160 in-plane; the shipped model
# was trained on seed 1000, the demo uses seed 7): case DSC/NSD and lesion-wise detection by volume.
#   benchmarks/baseline-phantoms.sh [--model FILE] [--cases N] [--out DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
model=baseline/models/default.json
cases=16
out=build/baseline-phantoms
while (($#)); do
  case "$1" in
    --model) model=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
bin=build/baseline/lesionbench-baseline
lb=build/cli/lesionbench
[ -x "$bin" ] && [ -x "$lb" ] || { echo "build first (bash scripts/setup.sh)" >&2; exit 2; }
rm -rf "$out"
"$lb" synth --out "$out/data" --cases "$cases" --seed 2000 --matrix 160 >/dev/null
"$bin" predict --input "$out/data/imagesTs" --output "$out/pred" --model "$model" 2>"$out/predict.log"
"$lb" score --gt "$out/data/labelsTs" --pred "$out/pred" --lesion-wise --json "$out/scores.json" --quiet >/dev/null
/usr/bin/env python3 - "$out/scores.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
cases = s["cases"]
dsc = [c["dsc"] for c in cases]
print("phantoms %d  mean DSC %.4f  mean NSD %.4f" % (len(cases), sum(dsc) / len(dsc), sum(c["nsd"] for c in cases) / len(cases)))
healthy = [c for c in cases if c["lesion_wise"] and c["lesion_wise"]["n_gt"] == 0]
print("healthy phantoms with a false positive: %d of %d" % (sum(c["lesion_wise"]["fp"] > 0 for c in healthy), len(healthy)))
edges = [0.5, 5, 50]
found = [[0, 0] for _ in range(len(edges) + 1)]
for c in cases:
    for l in (c["lesion_wise"] or {}).get("lesions", []):
        b = sum(l["volume_ml"] >= e for e in edges)
        found[b][0] += l["detected"]
        found[b][1] += 1
names = ["< 0.5 ml", "0.5-5 ml", "5-50 ml", ">= 50 ml"]
print("lesions found: " + ", ".join("%s %d/%d" % (n, f, t) for n, (f, t) in zip(names, found)))
PY

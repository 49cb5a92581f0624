#!/usr/bin/env bash
# The CNN's hyper-parameter split (docs/baseline.md, "The CNN"): trains on 18 of the 24 real CT cases of
# <data>/sts-ct (`train --holdout 0.25 --seed 1`: the same 6 held out as the GBDT's split with that seed), then
# predicts the 6 held-out cases under each prediction-time variant (threshold, mirror, components, overlap)
# and scores them with `lesionbench score` on the native grid. With --gbdt it also trains the GBDT on the
# same 18 cases, like for like. With --phantoms N the CNN also trains on N phantoms (`lesionbench synth
# --cases N --seed 1000 --matrix 160`, as the shipped GBDT), the held-out real cases unchanged: does adding
# phantoms help real CT? Training takes about 65 minutes on 2 cores and is interruptible: run the same
# command again and it continues from the checkpoint; finished steps are kept.
#   benchmarks/cnn-split.sh [--out DIR] [--data DIR] [--gbdt] [--phantoms N] [-- TRAIN_OPTIONS...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/cnn-split
data=""
gbdt=0
phantoms=0
# What `train --holdout 0.25 --seed 1` holds out of the 24 sts-ct cases (checked below when it runs); fixed
# here so that a run with phantoms, whose hold-out draw would cover the phantoms too, holds out the same six.
heldout_cases="STS_002 STS_005 STS_008 STS_019 STS_025 STS_043"
while (($#)); do
  case "$1" in
    --phantoms) phantoms=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --gbdt) gbdt=1; shift ;;
    --) shift; break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$data" ]; then
  source scripts/data-dir.sh
  data=$(lb_data_dir)/sts-ct
fi
[ -d "$data/images" ] || { echo "no data at $data" >&2; exit 2; }
data=$(realpath "$data")
mkdir -p "$out/bin"
# A copy of the programs, so a rebuild during the run cannot mix versions (nor a resumed run).
for p in build/baseline/lesionbench-baseline build/cli/lesionbench; do
  [ -x "$out/bin/$(basename "$p")" ] || cp "$p" "$out/bin/" 2>/dev/null || { echo "build first (bash scripts/setup.sh)" >&2; exit 2; }
done
bin=$out/bin/lesionbench-baseline
lb=$out/bin/lesionbench
# The split: held-out cases in heldout/, the others in train/.
rm -rf "$out/heldout" "$out/train"
mkdir -p "$out/heldout/images" "$out/heldout/labels" "$out/train/images" "$out/train/labels"
for f in "$data"/labels/*.nii.gz; do
  case=$(basename "$f" .nii.gz)
  side=train
  [[ " $heldout_cases " == *" $case "* ]] && side=heldout
  ln -s "$data/images/${case}_0000.nii.gz" "$out/$side/images/"
  ln -s "$f" "$out/$side/labels/"
done
if [ ! -f "$out/cnn.json" ]; then
  resume=()
  [ -f "$out/checkpoint.json" ] && resume=(--resume-from "$out/checkpoint.json")
  if ((phantoms > 0)); then
    [ -f "$out/phantoms/imagesTs/Phantom_001_0000.nii.gz" ] ||
      "$lb" synth --out "$out/phantoms" --cases "$phantoms" --seed 1000 --matrix 160 >/dev/null
    sources=(--images "$out/train/images" --labels "$out/train/labels" --images "$out/phantoms/imagesTs"
      --labels "$out/phantoms/labelsTs" --holdout 0)
  else
    sources=(--images "$data/images" --labels "$data/labels" --holdout 0.25 --validate-every 500)
  fi
  nice "$bin" train --method cnn "${sources[@]}" --seed 1 --progress-every 50 \
    --checkpoint "$out/checkpoint.json" "${resume[@]}" --model "$out/cnn.json" "$@" >>"$out/train.log" 2>&1 ||
    { tail "$out/train.log"; exit 1; }
fi
# The model's provenance names its training cases: none of the held-out ones may be among them.
/usr/bin/env python3 - "$out/cnn.json" "$heldout_cases" <<'PY' || exit 1
import json, sys
used = set(json.load(open(sys.argv[1]))["provenance"]["training_cases"])
held = sys.argv[2].split()
if used & set(held) or not any(c.startswith("STS_") for c in used):
    sys.exit("the model's training cases do not match the split: %s" % sorted(used & set(held)))
PY
score() {  # name model [predict options...]
  local name=$1 model=$2
  shift 2
  rm -rf "$out/pred-$name"
  nice "$bin" predict --input "$out/heldout/images" --output "$out/pred-$name" --model "$model" "$@" \
    2>"$out/pred-$name.log" || { cat "$out/pred-$name.log"; exit 1; }
  "$lb" score --gt "$out/heldout/labels" --pred "$out/pred-$name" --json "$out/scores-$name.json" --quiet >/dev/null
  /usr/bin/env python3 - "$name" "$out/scores-$name.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[2]))["cases"]
d = [x["dsc"] for x in c]
n = [x["nsd"] for x in c]
print("%-34s DSC %.3f  NSD %.3f  (%s)" % (sys.argv[1], sum(d) / len(d), sum(n) / len(n), " ".join("%.2f" % v for v in d)))
PY
}
echo "held out: $(ls "$out/heldout/labels" | sed 's/.nii.gz//' | tr '\n' ' ')"
for v in "0.5 false 0 0.5" "0.7 false 0 0.5" "0.7 true 0 0.5" "0.6 true 1 0.5" "0.7 true 1 0.5" "0.8 true 1 0.5" \
  "0.7 true 1 0.25" "0.7 false 1 0.25"; do
  read -r t m k o <<<"$v"
  score "thr$t-mirror_$m-largest_$k-overlap$o" "$out/cnn.json" \
    --postprocess "{\"threshold\":$t,\"seed_threshold\":$t,\"keep_relative_mass\":$k}" \
    --inference "{\"mirror_x\":$m,\"overlap\":$o}"
done
if ((gbdt)); then
  [ -f "$out/gbdt.json" ] || nice "$bin" train --images "$data/images" --labels "$data/labels" --holdout 0.25 --seed 1 \
    --model "$out/gbdt.json" >"$out/gbdt-train.log" 2>&1 || { tail "$out/gbdt-train.log"; exit 1; }
  score "gbdt (its own tuned rules)" "$out/gbdt.json"
fi

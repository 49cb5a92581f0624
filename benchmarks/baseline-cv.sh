#!/usr/bin/env bash
# Cross-validated accuracy of the baseline segmenter on real CT (<data>/sts-ct, 24 cases; <data> is
# $LESIONBENCH_DATA, else the build's cache variable, else ../shared/data: scripts/data-dir.sh).
# Cases (sorted by name) go round-robin into K folds; for each fold a model is trained on the other folds
# (plus any --extra training source, e.g. phantoms), the fold's cases are predicted, and finally all held-out
# predictions are scored at once with `lesionbench score`. With --method threshold no training happens:
# the fixed HU-window model is run the same way.
#
#   benchmarks/baseline-cv.sh [--out DIR] [--folds K] [--data DIR] [--extra IMAGES LABELS]
#                             [--method trained|threshold] [--predict-post JSON] [--resume] [--parallel N]
#                             [-- TRAIN_OR_THRESHOLD_OPTIONS...]
# Prints the mean case DSC and NSD; the scores are in DIR/scores.json. Runs under nice.
# --resume keeps DIR: folds already predicted are skipped, the programs copied at the start are reused, and a
# CNN fold (train options with --method cnn, which checkpoint every 200 steps) continues from its checkpoint,
# so a run of hours survives interruptions. Run it again with the same options until it finishes.
# --parallel N runs N folds at once, each on nproc/N threads (do not pass --threads then). Results do not
# depend on the thread count, so this changes only the wall time: two single-thread CNN folds side by side
# gave 29% more steps per second on 2 cores than one fold on both (2026-11-30; small layers keep few cores busy).
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/baseline-cv
folds=4
data=""
method=trained
extra=()
post=()
resume=0
parallel=1
while (($#)); do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --folds) folds=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --extra) extra+=(--images "$(realpath "$2")" --labels "$(realpath "$3")"); shift 3 ;;
    --method) method=$2; shift 2 ;;
    --predict-post) post=(--postprocess "$2"); shift 2 ;;
    --resume) resume=1; shift ;;
    --parallel) parallel=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if [ -z "$data" ]; then
  source scripts/data-dir.sh
  data=$(lb_data_dir)/sts-ct
fi
bin=build/baseline/lesionbench-baseline
lb=build/cli/lesionbench
[ -x "$bin" ] && [ -x "$lb" ] || { echo "build first (bash scripts/setup.sh)" >&2; exit 2; }
[ -d "$data/images" ] || { echo "no data at $data" >&2; exit 2; }
data=$(realpath "$data")
[[ "$parallel" =~ ^[1-9][0-9]*$ ]] || { echo "--parallel needs a whole number of at least 1" >&2; exit 2; }
threads=()
if ((parallel > 1)); then
  for a in "$@"; do [ "$a" = --threads ] && { echo "--parallel sets each fold's --threads; do not pass it" >&2; exit 2; }; done
  per=$(($(nproc) / parallel))
  threads=(--threads $((per > 0 ? per : 1)))
fi

((resume)) || rm -rf "$out"
mkdir -p "$out/pred" "$out/bin"
# A copy of the programs, so a rebuild during the run cannot mix versions (nor a resumed run).
[ -x "$out/bin/lesionbench-baseline" ] && [ -x "$out/bin/lesionbench" ] || cp "$bin" "$lb" "$out/bin/"
bin=$out/bin/lesionbench-baseline
lb=$out/bin/lesionbench
mapfile -t cases < <(cd "$data/images" && ls *_0000.nii.gz | sed 's/_0000.nii.gz$//' | sort)
start=$(date +%s)
opts=("$@")  # the training (or threshold) options, for run_fold
cnn=0
for a in "$@"; do [ "$a" = cnn ] && cnn=1; done
run_fold() {  # f
  local f=$1 d=$out/fold$1 c side i
  rm -rf "$d/train" "$d/test"
  mkdir -p "$d/train/images" "$d/train/labels" "$d/test/images" "$d/test/labels"
  for i in "${!cases[@]}"; do
    c=${cases[$i]}
    side=train
    ((i % folds == f)) && side=test
    ln -s "$data/images/${c}_0000.nii.gz" "$d/$side/images/"
    ln -s "$data/labels/$c.nii.gz" "$d/$side/labels/"
  done
  if [ "$method" = threshold ]; then
    nice "$bin" threshold-model --model "$d/model.json" "${opts[@]}" 2>"$d/train.log"
  else
    ckpt=()
    if ((cnn)); then
      ckpt=(--checkpoint "$d/checkpoint.json")
      [ -f "$d/checkpoint.json" ] && ckpt+=(--resume-from "$d/checkpoint.json")
    fi
    nice "$bin" train --images "$d/train/images" --labels "$d/train/labels" "${extra[@]}" --holdout 0 \
      --model "$d/model.json" "${ckpt[@]}" "${threads[@]}" "${opts[@]}" >>"$d/train.log" 2>&1 || { tail "$d/train.log"; return 1; }
  fi
  nice "$bin" predict --input "$d/test/images" --output "$out/pred" --model "$d/model.json" "${post[@]}" \
    "${threads[@]}" 2>"$d/predict.log" || { cat "$d/predict.log"; return 1; }
  touch "$d/done"
  echo "fold $((f + 1))/$folds done ($(($(date +%s) - start)) s)" >&2
}
failed=0
for ((f = 0; f < folds; f++)); do
  if [ -f "$out/fold$f/done" ]; then
    echo "fold $((f + 1))/$folds already done" >&2
    continue
  fi
  if ((parallel == 1)); then
    run_fold "$f" || exit 1
  else
    while (($(jobs -rp | wc -l) >= parallel)); do wait -n || failed=1; done
    run_fold "$f" &
  fi
done
while (($(jobs -rp | wc -l) > 0)); do wait -n || failed=1; done
((failed == 0)) || { echo "a fold failed (its log is above)" >&2; exit 1; }
"$lb" score --gt "$data/labels" --pred "$out/pred" --json "$out/scores.json" --quiet >"$out/score.txt"
/usr/bin/env python3 - "$out/scores.json" <<'PY' 2>/dev/null || cat "$out/score.txt"
import json, sys
s = json.load(open(sys.argv[1]))
cases = s["cases"]
d = [c["dsc"] for c in cases]
n = [c["nsd"] for c in cases]
print("cases %d  mean DSC %.4f  mean NSD %.4f  min DSC %.4f" % (len(d), sum(d) / len(d), sum(n) / len(n), min(d)))
print(" ".join("%s:%.2f" % (c["case"].replace(".nii.gz", ""), c["dsc"]) for c in cases))
PY
echo "total $(($(date +%s) - start)) s" >&2

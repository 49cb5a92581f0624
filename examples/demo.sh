#!/usr/bin/env bash
# lesionbench from nothing to a leaderboard, in one command (the README's main job):
#   1. installs what is missing and builds (scripts/setup.sh; not counted in the demo's time),
#   2. generates CT-like phantoms with lesion masks (lesionbench synth),
#   3. runs contestants through the runner as FLARE does, one launch per case, measured:
#        baseline            the reference CPU segmenter as a plain command
#        hu-threshold        a fixed HU-window segmenter, the floor any method must beat
#        baseline-container  the same baseline as a FLARE container image (podman or docker), where an
#                            engine works on this machine; where it does not, the demo says why and goes on,
#   4. scores every team and writes the leaderboard (JSON, HTML, the official CSVs) with lesionbench report.
# Options: --cases N (default 6), --matrix N (default 160), --out DIR (default build/demo), --no-setup,
#          --no-container.
set -euo pipefail
[ -n "${LESIONBENCH_BUILD:-}" ] && LESIONBENCH_BUILD=$(realpath -m "$LESIONBENCH_BUILD")
cd "$(dirname "$0")/.."
root=$(pwd)

cases=6
matrix=160
out=build/demo
setup=1
container=1
while (($#)); do
  case "$1" in
    --cases) cases=$2; shift 2 ;;
    --matrix) matrix=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-setup) setup=0; shift ;;
    --no-container) container=0; shift ;;
    -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "demo: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if ((setup)); then
  say "set-up: packages and build (scripts/setup.sh)"
  bash scripts/setup.sh
fi
build=${LESIONBENCH_BUILD:-$root/build}  # where scripts/setup.sh builds (the tests point it at theirs)
lb=$build/cli/lesionbench
bl=$build/baseline/lesionbench-baseline
for b in "$lb" "$bl"; do
  [ -x "$b" ] || { echo "demo: $b is missing; run bash scripts/setup.sh" >&2; exit 2; }
done

start=$(date +%s)
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
data=$out/data
runs=$out/runs

say "1. $cases CT-like phantoms with lesion masks (lesionbench synth)"
"$lb" synth --out "$data" --cases "$cases" --seed 7 --matrix "$matrix"

say "2. the baseline as a command, one launch per case (lesionbench run)"
"$lb" run --cases "$data/imagesTs" --out "$runs/baseline" --name baseline --gpu none --timeout-s 300 \
  --command "$bl predict --input {inputs} --output {outputs} --threads 2"

say "3. the fixed HU-threshold reference"
"$bl" threshold-model --model "$out/hu-threshold.json" 2>/dev/null
"$lb" run --cases "$data/imagesTs" --out "$runs/hu-threshold" --name hu-threshold --gpu none --timeout-s 300 \
  --command "$bl predict --input {inputs} --output {outputs} --model $out/hu-threshold.json --threads 2"

if ((container)); then
  say "4. the baseline as a FLARE container image (FROM scratch; podman or docker)"
  if bash baseline/build-image.sh --tag lesionbench-baseline:demo --build "$build" >"$out/image-build.log" 2>&1; then
    cat "$out/image-build.log"
    engine=$(sed -n 's/.* with \([a-z]*\) .*/\1/p' "$out/image-build.log")
    if ! "$lb" run --cases "$data/imagesTs" --out "$runs/baseline-container" --name baseline-container \
        --image lesionbench-baseline:demo --engine "${engine:-auto}" --memory 4g --shm-size 256m --gpu none \
        --timeout-s 300; then
      echo "demo: the container run could not start on this machine (see above); going on without it"
      rm -rf "$runs/baseline-container"
    elif ! grep -q '"status":"ok"' "$runs/baseline-container/records.jsonl" 2>/dev/null; then
      # The engine is there but cannot run containers here (cgroups, storage, runtime): not the contestant's fault.
      why=$(sed -n 's/.*"message":"\([^"]*\)".*/\1/p' "$runs/baseline-container/records.jsonl" | head -n 1)
      echo "demo: no case ran in a container on this machine: ${why:-see $runs/baseline-container/logs}"
      echo "      (the container path needs a working podman or docker; the demo goes on without it)"
      mv "$runs/baseline-container" "$out/baseline-container-failed"
    fi
  else
    echo "demo: no container image on this machine: $(tail -n 1 "$out/image-build.log")"
    echo "      (the container path needs a working podman or docker; the demo goes on without it)"
  fi
else
  say "4. container: skipped (--no-container)"
fi

say "5. scores and leaderboard (lesionbench report)"
# Ranked on accuracy here; FLARE also ranks time and GPU memory (drop --weights for its ranking).
"$lb" report "$runs"/* --out "$out/report" --gt "$data/labelsTs" --cases "$data/imagesTs" --weights dsc=1,nsd=1,time=0,gpu=0 |
  grep -v "^wrote "

echo
echo "leaderboard page: $out/report/leaderboard.html"
echo "team folders:     $runs/ (records.jsonl, efficiency.csv, predictions/, logs/)"
echo "demo time:        $(($(date +%s) - start)) s (set-up excluded)"

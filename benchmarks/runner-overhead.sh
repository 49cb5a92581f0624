#!/usr/bin/env bash
# What `lesionbench run` costs on top of the contestant, measured with contestants that do (almost) nothing:
#  1. per-case overhead of the runner: a contestant that copies its input to its output (a few ms), over
#     N cases; overhead = (elapsed of the whole run − Σ wall_s of the launches) / N, i.e. preparing the
#     folders, starting the sampler, checking and moving the prediction, writing samples, record and CSVs;
#  2. the sampler's own cost: a contestant that sleeps, sampled every 100 ms and every 10 ms, on a quiet
#     machine and with 1000 extra processes on it (the sampler walks /proc); CPU time of the sampling thread
#     per second of wall time, and the mean and maximum length of one sample;
#  3. with a working podman: the same copying contestant as a FROM-scratch container, per-case wall time and
#     the runner's overhead on top.
#
#   bash benchmarks/runner-overhead.sh [--cases 30] [--no-container]
# Needs a built tree (bash scripts/setup.sh) and /usr/bin/python3 with numpy and nibabel (to write cases).
set -euo pipefail
cd "$(dirname "$0")/.."
cases=30 container=1
while (($#)); do
  case "$1" in
    --cases) cases=$2; shift 2 ;;
    --no-container) container=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
lb=$PWD/build/cli/lesionbench
[ -x "$lb" ] || { echo "build first: bash scripts/setup.sh" >&2; exit 2; }
out=$PWD/benchmarks/out/runner-overhead
rm -rf "$out"; mkdir -p "$out/cases"

# Small CT-like cases (the runner's cost does not depend on the image size except for one copy of it).
/usr/bin/python3 - "$out/cases" "$cases" <<'PY'
import sys, numpy as np, nibabel as nib
out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(1)
for i in range(n):
    a = (rng.normal(-300, 300, (128, 128, 64))).astype(np.int16)
    nib.save(nib.Nifti1Image(a, np.diag([0.8, 0.8, 2.5, 1])), f"{out}/Case{i:03d}_0000.nii.gz")
PY
copy='for f in {inputs}/*_0000.nii.gz; do b=$(basename "$f" _0000.nii.gz); cp "$f" {outputs}/$b.nii.gz; done'

# Prints: cases, mean wall_s of the launches, runner overhead per case (ms), sampler ticks.
summarize() {  # team_dir elapsed_s
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1] + "/records.jsonl")]
elapsed = float(sys.argv[2])
walls = [r["wall_s"] for r in recs]
bad = [r["status"] for r in recs if r["status"] != "ok"]
ticks = [r["sampler"]["mean_tick_us"] for r in recs]
print(f"{len(recs)} cases, statuses not ok: {len(bad)}; launch wall mean {1000*sum(walls)/len(walls):.1f} ms; "
      f"runner overhead per case {1000*(elapsed-sum(walls))/len(recs):.1f} ms; "
      f"sampler tick mean {sum(ticks)/len(ticks):.0f} us")
PY
}

timed() {  # runs the arguments, prints elapsed seconds
  local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

echo "# lesionbench run overhead — $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), $(grep -c '^[0-9]' <(ls /proc)) processes"
echo
echo "## 1. Per-case overhead (command contestant copying its input, $cases cases, sampling every 100 ms)"
e=$(timed "$lb" run --cases "$out/cases" --out "$out/cmd" --command "$copy" --quiet)
echo "elapsed $(printf %.2f "$e") s: $(summarize "$out/cmd" "$e")"

echo
echo "## 2. Sampler cost (a contestant sleeping 5 s)"
one=$out/one; mkdir -p "$one"; cp "$out/cases/Case000_0000.nii.gz" "$one/"
sampler_row() {  # label interval_ms
  rm -rf "$out/s"
  "$lb" run --cases "$one" --out "$out/s" --command 'sleep 5' --sample-ms "$2" --quiet >/dev/null
  /usr/bin/python3 - "$out/s" "$1" "$2" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1] + "/records.jsonl").readline())
s = r["sampler"]
print(f"| {sys.argv[2]} | {sys.argv[3]} ms | {s['samples']} | {s['mean_tick_us']:.0f} us | {s['max_tick_us']:.0f} us | "
      f"{100*s['cpu_s']/r['wall_s']:.2f} % of one core |")
PY
}
echo "| machine | interval | samples | mean tick | max tick | sampler CPU |"
echo "|---|---|---|---|---|---|"
sampler_row "quiet ($(ls /proc | grep -c '^[0-9]') processes)" 100
sampler_row "quiet" 10
pids=()
for _ in $(seq 1000); do sleep 120 & pids+=($!); done
sampler_row "+1000 sleeping processes" 100
sampler_row "+1000 sleeping processes" 10
kill "${pids[@]}" 2>/dev/null || true
wait 2>/dev/null || true

if ((container)) && command -v podman >/dev/null && [ -x /bin/busybox ]; then
  echo
  echo "## 3. Container contestant (podman, FROM scratch, copies its input), $cases cases"
  ctx=$out/image; mkdir -p "$ctx"
  cp /bin/busybox "$ctx/busybox"
  printf '#!/bin/sh\nexec /bin/sh "$@"\n' >"$ctx/bash"; chmod +x "$ctx/bash"
  cat >"$ctx/predict.sh" <<'SH'
for f in /workspace/inputs/*_0000.nii.gz; do b=${f##*/}; cp "$f" "/workspace/outputs/${b%_0000.nii.gz}.nii.gz"; done
SH
  cat >"$ctx/Containerfile" <<'CF'
FROM scratch
COPY busybox /bin/sh
COPY busybox /bin/cp
COPY bash /bin/bash
COPY predict.sh /workspace/predict.sh
WORKDIR /workspace
CF
  tag=localhost/lesionbench-overhead:latest
  if podman build -q -t "$tag" "$ctx" >/dev/null 2>"$out/build.err"; then
    e=$(timed "$lb" run --cases "$out/cases" --out "$out/ctr" --image "$tag" --engine podman --memory 1g --shm-size 64m --quiet)
    echo "elapsed $(printf %.2f "$e") s: $(summarize "$out/ctr" "$e")"
    # The engine alone, for comparison: the same container started by hand.
    mkdir -p "$out/bare-in" "$out/bare-out"; cp "$out/cases/Case000_0000.nii.gz" "$out/bare-in/"
    e=$(timed bash -c "for i in \$(seq 10); do podman run --rm --network none -m 1g --shm-size 64m -v $out/bare-in:/workspace/inputs:ro -v $out/bare-out:/workspace/outputs $tag /bin/bash -c 'sh predict.sh'; done")
    echo "plain 'podman run --rm' of the same container: $(echo "1000 * $e / 10" | bc -l | xargs printf %.0f) ms each (mean of 10)"
    podman rmi -f "$tag" >/dev/null
  else
    echo "skipped: podman could not build the image: $(tail -1 "$out/build.err")"
  fi
fi

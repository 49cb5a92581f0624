#!/usr/bin/env bash
# Throughput of `lesionbench run` over slots (docs/runner.md, "Several launches at once"): a contestant that
# sleeps 2 s per case, N cases, run one launch at a time and then with --parallel 4. The ratio of the two
# elapsed times shows what scheduling over slots costs (4.0 would be free; the goal is at least 3.6). The
# contestant only sleeps, so a machine with fewer cores than slots (our 2-core CI machines) measures the
# scheduling, not the cores.
#
#   bash benchmarks/slots-throughput.sh [--cases 16] [--slots 4] [--sleep-s 2]
# Needs a built tree (bash scripts/setup.sh) and /usr/bin/python3 with numpy and nibabel (to write cases).
set -euo pipefail
cd "$(dirname "$0")/.."
cases=16 slots=4 sleep_s=2
while (($#)); do
  case "$1" in
    --cases) cases=$2; shift 2 ;;
    --slots) slots=$2; shift 2 ;;
    --sleep-s) sleep_s=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
lb=$PWD/build/cli/lesionbench
[ -x "$lb" ] || { echo "build first: bash scripts/setup.sh" >&2; exit 2; }
out=$PWD/benchmarks/out/slots-throughput
rm -rf "$out"; mkdir -p "$out/cases"

# Small cases whose image is already a valid 0/1 mask, so that copying it is a valid prediction.
/usr/bin/python3 - "$out/cases" "$cases" <<'PY'
import sys, numpy as np, nibabel as nib
out, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    a = np.zeros((64, 64, 32), np.uint8); a[20:30, 20:30, 10:14] = 1
    nib.save(nib.Nifti1Image(a, np.diag([0.8, 0.8, 2.5, 1])), f"{out}/Case{i:03d}_0000.nii.gz")
PY
contestant="sleep $sleep_s; "'for f in {inputs}/*_0000.nii.gz; do b=$(basename "$f" _0000.nii.gz); cp "$f" {outputs}/$b.nii.gz; done'

elapsed() {  # runs the arguments quietly, prints elapsed seconds
  local t0 t1; t0=$(date +%s.%N); "$@" >"$out/last.log" 2>&1 || { cat "$out/last.log" >&2; exit 1; }; t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}
check() {  # team_dir: every case ok, each once
  /usr/bin/python3 - "$1" "$cases" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1] + "/records.jsonl")]
assert len(recs) == int(sys.argv[2]) == len({r["case"] for r in recs}), "each case once"
bad = [r["case"] for r in recs if r["status"] != "ok"]
assert not bad, f"not ok: {bad}"
print(max(r.get("placement", {}).get("concurrent_max", 1) for r in recs))
PY
}

echo "# lesionbench run over slots — $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r)"
echo "# $cases cases, a contestant sleeping $sleep_s s per case, sandbox bwrap"
t1=$(elapsed "$lb" run --cases "$out/cases" --out "$out/serial" --command "$contestant" --gpu none)
m1=$(check "$out/serial")
tn=$(elapsed "$lb" run --cases "$out/cases" --out "$out/slots" --command "$contestant" --parallel "$slots")
mn=$(check "$out/slots")
ideal=$(echo "$cases * $sleep_s" | bc -l)
printf 'one launch at a time: %.1f s (%.2f s per case; most at once %s)\n' "$t1" "$(echo "$t1 / $cases" | bc -l)" "$m1"
printf -- '--parallel %s:        %.1f s (most at once %s)\n' "$slots" "$tn" "$mn"
printf 'throughput ratio:     %.2f× (ideal %s×; the sleeps alone: %.0f s serial)\n' "$(echo "$t1 / $tn" | bc -l)" "$slots" "$ideal"

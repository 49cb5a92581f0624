#!/usr/bin/env bash
# What the Slurm backend costs per case against a local run of the same cases, on the one-node test cluster
# (scripts/slurm-test-cluster.sh: Slurm's own scheduling, the job script, one lesionbench per task, the
# shard journals and the merge):
#   local              lesionbench run of N cases (the contestant writes a threshold mask: a few ms)
#   slurm K=1          --backend slurm, one task per case (the most scheduling)
#   slurm K=N/2        two tasks of N/2 cases (what an organiser with many cases per node would choose);
#                      they run at once on the 2 CPUs of the test node, so also with --max-running 1
# For each: elapsed time of the whole command, per-case overhead = (elapsed − Σ wall_s) / N, and the mean
# wall_s of the launches (the contestant's own time must not change under Slurm).
#
#   bash benchmarks/slurm-overhead.sh [--cases 20]
# Needs root, the Slurm packages (scripts/setup.sh) and a built tree (build/cli/lesionbench and
# build/tests/runner/lb_test_contestant); exits 77 when the cluster cannot start here.
set -euo pipefail
cd "$(dirname "$0")/.."
cases=20
while (($#)); do
  case "$1" in
    --cases) cases=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
lb=$PWD/build/cli/lesionbench
contestant=$PWD/build/tests/runner/lb_test_contestant
[ -x "$lb" ] && [ -x "$contestant" ] || { echo "build first: cmake --build build --target lesionbench lb_test_contestant" >&2; exit 2; }
out=$PWD/benchmarks/out/slurm-overhead
rm -rf "$out"; mkdir -p "$out"
cluster=$out/cluster
trap 'bash scripts/slurm-test-cluster.sh stop "$cluster" >/dev/null 2>&1 || true' EXIT
set +e
bash scripts/slurm-test-cluster.sh start "$cluster"
rc=$?
set -e
[ $rc -eq 0 ] || exit $rc
export SLURM_CONF=$cluster/slurm.conf

"$lb" synth --out "$out/ph" --cases "$cases" --matrix 64 --slices 32 >/dev/null
cmd="$contestant predict {inputs} {outputs}"

summarize() {  # label team_dir elapsed_s
  /usr/bin/python3 - "$@" <<'PY'
import json, sys
label, team, elapsed = sys.argv[1], sys.argv[2], float(sys.argv[3])
recs = [json.loads(l) for l in open(team + "/records.jsonl")]
walls = [r["wall_s"] for r in recs]
bad = sum(r["status"] != "ok" for r in recs)
n = len(recs)
print(f"| {label} | {n} | {bad} | {elapsed:.2f} | {1000*elapsed/n:.0f} | {1000*(elapsed-sum(walls))/n:.0f} | {1000*sum(walls)/n:.0f} |")
PY
}
timed() {  # team_dir label args...
  local team=$1 label=$2; shift 2
  local t0 t1
  t0=$(date +%s.%N)
  "$lb" run --cases "$out/ph/imagesTs" --out "$team" --name bench --command "$cmd" "$@" >"$team.log" 2>&1
  t1=$(date +%s.%N)
  summarize "$label" "$team" "$(echo "$t1 - $t0" | bc -l)"
}

half=$(( (cases + 1) / 2 ))
echo "# Slurm backend overhead — $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), Slurm $(sinfo -V | cut -d' ' -f2), one-node test cluster"
echo "| run | cases | not ok | elapsed s | elapsed per case ms | overhead per case ms | launch wall_s mean ms |"
echo "|---|---|---|---|---|---|---|"
timed "$out/local" "local"
timed "$out/slurm-k1" "slurm, 1 case per task" --backend slurm --cases-per-task 1
timed "$out/slurm-khalf" "slurm, $half cases per task" --backend slurm --cases-per-task "$half"
timed "$out/slurm-khalf-m1" "slurm, $half cases per task, --max-running 1" --backend slurm --cases-per-task "$half" --max-running 1

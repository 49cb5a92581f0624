#!/usr/bin/env bash
# Times `lesionbench report` on synthetic leaderboards (T teams x N cases, with run records and sample series,
# 1000 bootstrap resamples) and on real CT with pictures (<data>/sts-ct; <data>: $LESIONBENCH_DATA, else ../shared/data, scripts/data-dir.sh).
#   bash benchmarks/report-timing.sh [BUILD_DIR]
# Prints one line per configuration: teams, cases, seconds (wall), peak RSS (MiB), page and JSON sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
LB=${1:-build}/cli/lesionbench
OUT=benchmarks/out/report
rm -rf "$OUT" && mkdir -p "$OUT"

# Team folders: scores.json (made with `lesionbench score` on the parity set, then its cases replicated with
# jittered scores), records.jsonl and a 10 Hz sample series per case.
make_teams() {  # teams cases dir
  python3 - "$1" "$2" "$3" "$OUT/base.json" <<'PY'
import json, os, random, sys
teams, cases, root, base = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], json.load(open(sys.argv[4]))
random.seed(1)
template = base["cases"]
for t in range(teams):
    d = os.path.join(root, f"team-{t:03d}")
    os.makedirs(os.path.join(d, "samples"), exist_ok=True)
    skill = random.uniform(0.5, 0.95)
    doc = dict(base)
    doc["cases"] = []
    rec = open(os.path.join(d, "records.jsonl"), "w")
    for c in range(cases):
        case = dict(template[c % len(template)])
        name = f"CASE_{c:04d}"
        case["case"] = name + ".nii.gz"
        case["dsc"] = min(1.0, max(0.0, random.gauss(skill, 0.1)))
        case["nsd"] = min(1.0, max(0.0, random.gauss(skill, 0.1)))
        case["status"] = "ok"
        doc["cases"].append(case)
        wall = random.uniform(10, 60)
        samples = f"samples/{name}.csv"
        with open(os.path.join(d, samples), "w") as s:
            s.write("t_s,gpu_device_mib,gpu_own_mib,cpu_pct,rss_mib,procs,sys_cpu_pct,sys_ram_mib\n")
            for i in range(int(wall * 10)):
                own = min(1.0, i / 50) * 6000
                s.write(f"{i / 10:.1f},{480 + own:.1f},{own:.1f},95,900,3,47,12000\n")
        rec.write(json.dumps({"schema_version": "1.0", "case": name, "status": "ok", "wall_s": wall, "timeout_s": 600,
                              "mode": "per_case", "gpu": {"available": True, "device_max_mib": 6480,
                              "device_auc_mib_s": 6480 * wall, "own_available": True, "own_max_mib": 6000,
                              "own_auc_mib_s": 6000 * wall}, "files": {"samples": samples}}) + "\n")
    json.dump(doc, open(os.path.join(d, "scores.json"), "w"))
PY
}

source scripts/data-dir.sh
DATA=$(lb_data_dir)
P=$DATA/flare24-parity
if [ ! -d "$P" ]; then echo "needs $P" >&2; exit 2; fi
"$LB" score --gt "$P/gt" --pred "$P/pred" --json "$OUT/base.json" --quiet >/dev/null

measure() {  # label, then the report command's arguments
  local label=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$OUT/rss" "$LB" report "$@" --quiet >/dev/null
  t1=$(date +%s.%N)
  local out=${*: -1}
  printf "%-34s %7.2f s  %6d MiB  html %6.1f MiB  json %6.1f MiB\n" "$label" "$(echo "$t1 - $t0" | bc)" \
    $(( $(cat "$OUT/rss") / 1024 )) "$(echo "$(stat -c %s "$out/leaderboard.html") / 1048576" | bc -l)" \
    "$(echo "$(stat -c %s "$out/leaderboard.json") / 1048576" | bc -l)"
}

for tc in "3 24" "10 100" "50 100" "50 500"; do
  set -- $tc
  dir="$OUT/synthetic-$1x$2"
  make_teams "$1" "$2" "$dir"
  measure "$1 teams x $2 cases (no pictures)" "$dir"/team-* --pictures 0 --out "$dir/report"
  # test-then-rank bootstraps whole: T(T-1) x metrics Wilcoxon tests on each of the 1000 draws.
  [ "$1x$2" = "50x500" ] || measure "  the same, --ranking test-then-rank" "$dir"/team-* --pictures 0 --ranking test-then-rank \
    --out "$dir/report-ttr"
done

S=$DATA/sts-ct
if [ -d "$S" ]; then
  # Three teams on the 24 real CT cases: all predictions right, every third missing, every second missing;
  # the pictures are those of the failed cases (the ground truth over the CT).
  dir="$OUT/sts"
  for t in a b c; do mkdir -p "$dir/team-$t/predictions"; done
  i=0
  for f in "$S"/labels/*.nii.gz; do
    cp "$f" "$dir/team-a/predictions/"
    (( i % 3 )) && cp "$f" "$dir/team-b/predictions/"
    (( i % 2 )) && cp "$f" "$dir/team-c/predictions/"
    i=$((i + 1))
  done
  measure "3 teams x 24 real CT, 6 pictures" "$dir"/team-* --gt "$S/labels" --cases "$S/images" --out "$dir/report"
fi

#!/usr/bin/env bash
# The container image of lesionbench (Containerfile, scripts/build-image.sh): it builds with podman FROM
# scratch, and `podman run --rm -v DATA:/data lesionbench:latest score ...` prints the same table and writes
# the same CSV and case scores as this build's binary on the host; lesionbench-baseline runs inside it too.
# Skipped (exit 0, "skipped: why") when podman is absent or cannot run a trivial container here.
#   tests/dist/test_image.sh BUILD_DIR
set -euo pipefail
build=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
lb=$build/cli/lesionbench
command -v podman >/dev/null 2>&1 || { echo "skipped: podman is not installed"; exit 0; }
busybox=$(command -v busybox || echo /bin/busybox)
[ -x "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1 || { echo "skipped: busybox-static is not installed"; exit 0; }
mkdir -p "$build/test-tmp"
tmp=$(mktemp -d "$build/test-tmp/image.XXXXXX")
trap '[ "${LB_KEEP_TEMP:-}" = 1 ] || rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# Limits podman may set here without any machine setting: open files at this
# machine's hard limit, processes well below it (the runtime may not set RLIMIT_NPROC to the hard limit itself).
nofile=$(ulimit -Hn)
[ "$nofile" != unlimited ] || nofile=1048576
limits=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=4096:4096")

# Can this engine run anything at all? A busybox image FROM scratch, `true`.
mkdir -p "$tmp/trivial/bin"
cp "$busybox" "$tmp/trivial/bin/busybox"
ln -s busybox "$tmp/trivial/bin/true"
printf 'FROM scratch\nCOPY bin/ /bin/\n' >"$tmp/trivial/Containerfile"
if ! podman build -q -t lesionbench-trivial-test:latest "$tmp/trivial" >"$tmp/trivial.log" 2>&1 ||
   ! podman run --rm --network none "${limits[@]}" lesionbench-trivial-test:latest /bin/true >>"$tmp/trivial.log" 2>&1; then
  echo "skipped: podman cannot run a trivial container here: $(tail -1 "$tmp/trivial.log")"
  exit 0
fi
podman rmi -f lesionbench-trivial-test:latest >/dev/null 2>&1 || true

bash "$root/scripts/build-image.sh" --build "$build" --engine podman >"$tmp/build.log" 2>&1 ||
  { rc=$?; cat "$tmp/build.log"; fail "build-image.sh exited $rc"; }
cat "$tmp/build.log"
grep -q "^built lesionbench:latest with podman FROM scratch" "$tmp/build.log" || fail "no 'built' line"
[ "$(podman image inspect lesionbench:latest --format '{{.Config.Entrypoint}}')" = "[lesionbench]" ] ||
  fail "ENTRYPOINT is not lesionbench"

# Data: the parity set where present, else generated phantoms scored against a second seed's masks.
LESIONBENCH_BUILD=$build source "$root/scripts/data-dir.sh"
data=$(LESIONBENCH_BUILD=$build lb_data_dir)
if [ -d "$data/flare24-parity/gt" ]; then
  set_dir=$data/flare24-parity
else
  echo "note: $data/flare24-parity is absent; using generated phantoms"
  set_dir=$tmp/set
  "$lb" synth --out "$set_dir" --cases 3 --seed 5 --matrix 64 >/dev/null
  mv "$set_dir/labelsTs" "$set_dir/gt"
  cp -r "$set_dir/gt" "$set_dir/pred"
fi
set_dir=$(realpath "$set_dir")
mkdir -p "$tmp/out"
# The same file names on both sides, /out in the container being $tmp/out here.
"$lb" score --gt "$set_dir/gt" --pred "$set_dir/pred" --lesion-wise --csv "$tmp/out/c.csv" --json "$tmp/out/c.json" \
  >"$tmp/host.txt" 2>"$tmp/host.err" || fail "host score exited $?"
mv "$tmp/out/c.csv" "$tmp/host.csv"
mv "$tmp/out/c.json" "$tmp/host.json"
podman run --rm --network none "${limits[@]}" -v "$set_dir:/data:ro" -v "$tmp/out:/out" lesionbench:latest \
  score --gt /data/gt --pred /data/pred --lesion-wise --csv /out/c.csv --json /out/c.json >"$tmp/c.txt" 2>"$tmp/c.err" ||
  { rc=$?; cat "$tmp/c.txt" "$tmp/c.err"; fail "score in the container exited $rc"; }
# Only the paths and the elapsed time may differ.
same_text() { sed -e "s|$set_dir|/data|g" -e "s|$tmp/out|/out|g" -e 's/ in [0-9.]* s:/ in T s:/' "$1"; }
diff <(same_text "$tmp/host.txt") <(same_text "$tmp/c.txt") || fail "the container's output differs from the host binary's"
diff <(same_text "$tmp/host.err") <(same_text "$tmp/c.err") || fail "the container's messages differ from the host binary's"
grep -q "mean DSC" "$tmp/c.txt" || fail "no summary line in the container's output"
cmp "$tmp/host.csv" "$tmp/out/c.csv" || fail "the container's CSV differs"
/usr/bin/python3 - "$tmp/host.json" "$tmp/out/c.json" "$set_dir" <<'PY' || fail "the container's scores.json cases differ"
import json, sys
def cases(path):  # every key but the time each case took
    return [{k: v for k, v in c.items() if k != "seconds"} for c in json.load(open(path))["cases"]]
host = json.dumps(cases(sys.argv[1])).replace(sys.argv[3], "/data")
cont = json.dumps(cases(sys.argv[2]))
sys.exit(0 if host == cont and len(cases(sys.argv[2])) > 0 else 1)
PY
podman run --rm --network none "${limits[@]}" --entrypoint lesionbench-baseline lesionbench:latest --help >/dev/null ||
  fail "lesionbench-baseline does not run in the image"
echo "ok: the image scores $(ls "$set_dir/gt" | wc -l) cases exactly as the host binary"

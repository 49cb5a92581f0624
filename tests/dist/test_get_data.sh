#!/usr/bin/env bash
# scripts/get-data.sh without the network: the layout step on local originals (rebuilt from the real-data
# folder at their repository paths, since our copies are those originals) gives folders that decode the same
# as the real-data folder; a changed byte or a missing file fails its check and lays out nothing; and with no
# network the download says so and exits 3.
#   tests/dist/test_get_data.sh BUILD_DIR       (data: $LESIONBENCH_DATA, else the build's cache variable)
set -euo pipefail
build=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
LESIONBENCH_BUILD=$build source "$root/scripts/data-dir.sh"
data=$(LESIONBENCH_BUILD=$build lb_data_dir)
if [ ! -d "$data/sts-ct" ] || [ ! -d "$data/totalseg-example" ]; then
  echo "skipped: $data/sts-ct or $data/totalseg-example is absent (scripts/get-data.sh can fetch them)"
  exit 0
fi
mkdir -p "$build/test-tmp"
tmp=$(mktemp -d "$build/test-tmp/get-data.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

orig=$tmp/originals
for f in "$data"/sts-ct/images/STS_*_0000.nii.gz; do
  c=$(basename "$f" _0000.nii.gz)
  mkdir -p "$orig/ibsi_validation/nifti/$c"
  ln -s "$f" "$orig/ibsi_validation/nifti/$c/CT_image.nii.gz"
  ln -s "$data/sts-ct/labels/$c.nii.gz" "$orig/ibsi_validation/nifti/$c/CT_mask.nii.gz"
done
mkdir -p "$orig/tests/reference_files"
for f in "$data"/totalseg-example/*.nii.gz; do ln -s "$f" "$orig/tests/reference_files/"; done

bash "$root/scripts/get-data.sh" "$tmp/dest" --from "$orig" >"$tmp/log" 2>&1 || { rc=$?; cat "$tmp/log"; fail "get-data.sh --from exited $rc"; }
grep -q "every SHA-256 checked" "$tmp/log" || fail "no summary line"
grep -q "flare24-parity is not public" "$tmp/log" || fail "does not say that the parity set is not public"
for set in sts-ct totalseg-example; do
  "$build/tests/dist/lb_nifti_same" "$data/$set" "$tmp/dest/$set" || fail "$set laid out differently from $data/$set"
  grep -q "Licence" "$tmp/dest/$set/README.md" || fail "$set/README.md has no licence"
done
[ "$(ls "$tmp/dest/sts-ct/images" | wc -l)" -eq 24 ] || fail "not 24 images"
# The real-data folder the tests would use is accepted by the tests' own lookup.
LESIONBENCH_DATA=$tmp/dest bash -c "source '$root/scripts/data-dir.sh'; lb_data_dir" 2>"$tmp/which" >/dev/null
grep -q "from the environment variable LESIONBENCH_DATA" "$tmp/which" || fail "LESIONBENCH_DATA does not win"

# One changed byte in one original: checksum failure naming the file, exit 1, the earlier layout untouched.
bad=$tmp/bad
cp -r "$orig" "$bad"
f=$bad/ibsi_validation/nifti/STS_002/CT_mask.nii.gz
cp --remove-destination "$(readlink -f "$f")" "$f"
printf 'x' | dd of="$f" bs=1 seek=100 conv=notrunc status=none
touch "$tmp/dest/sts-ct/marker"
set +e
bash "$root/scripts/get-data.sh" "$tmp/dest" --from "$bad" >"$tmp/log" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat "$tmp/log"; fail "a changed original gave exit $rc, not 1"; }
grep -q "STS_002/CT_mask.nii.gz: SHA-256" "$tmp/log" || { cat "$tmp/log"; fail "the message does not name the file"; }
[ -f "$tmp/dest/sts-ct/marker" ] || fail "a failed check replaced the earlier layout"

# A missing original: exit 1.
rm "$bad/tests/reference_files/example_seg.nii.gz"
set +e
bash "$root/scripts/get-data.sh" "$tmp/dest2" --from "$bad" >"$tmp/log" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] && grep -q "example_seg.nii.gz is missing" "$tmp/log" || { cat "$tmp/log"; fail "missing file: exit $rc"; }

# No network (an address nothing listens on stands for it): says so, exit 3.
set +e
LESIONBENCH_DATA_URL=http://127.0.0.1:9 bash "$root/scripts/get-data.sh" "$tmp/dest3" >"$tmp/log" 2>&1
rc=$?
set -e
[ "$rc" -eq 3 ] && grep -q "no network" "$tmp/log" || { cat "$tmp/log"; fail "without network: exit $rc"; }
echo "ok: get-data.sh lays out $data's public sets identically (decoded), refuses changed or missing originals, and says when offline"

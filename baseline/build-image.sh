#!/usr/bin/env bash
# Builds the baseline's contestant image (baseline/Containerfile) from this build's binary.
#   bash baseline/build-image.sh [--tag NAME:TAG] [--build DIR] [--engine podman|docker] [--save FILE.tar]
# Defaults: lesionbench-baseline:latest, build/, the first engine that answers (podman, then docker).
# --save also writes the image as a docker-archive tar (what `docker save` gives organisers).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
LB_SCRIPT=build-image.sh
source "$root/scripts/lib/image.sh"
tag=lesionbench-baseline:latest
build=$root/build
engine=""
save=""
model=$here/models/default.json
while (($#)); do
  case "$1" in
    --tag) tag=$2; shift 2 ;;
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --engine) engine=$2; shift 2 ;;
    --save) save=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    *) echo "build-image.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
bin=$build/baseline/lesionbench-baseline
[ -x "$bin" ] || { echo "build-image.sh: $bin not found; build first (bash scripts/setup.sh)" >&2; exit 2; }
[ -f "$model" ] || { echo "build-image.sh: model $model not found" >&2; exit 2; }
busybox=$(lb_image_busybox)
engine=$(lb_image_engine "$engine")

ctx=$(mktemp -d "${TMPDIR:-/tmp}/lesionbench-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
rootfs=$ctx/rootfs
mkdir -p "$rootfs/opt/lesionbench" "$rootfs/bin" "$rootfs/workspace/inputs" "$rootfs/workspace/outputs" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
cp "$bin" "$rootfs/opt/lesionbench/lesionbench-baseline"
cp "$model" "$rootfs/opt/lesionbench/default.json"
cp "$here/predict.sh" "$rootfs/workspace/predict.sh"
lb_image_libraries "$rootfs" "$bin"
lb_image_shell "$rootfs" "$busybox" sh ash ls cat mkdir cp mv rm env nproc echo true false
# FLARE starts containers with /bin/bash -c "sh predict.sh"; busybox has no bash applet, so bash hands over to sh.
printf '#!/bin/sh\nexec /bin/sh "$@"\n' >"$rootfs/bin/bash"
chmod 755 "$rootfs/bin/bash"
cp "$here/Containerfile" "$ctx/Containerfile"
"$engine" build -q -t "$tag" -f "$ctx/Containerfile" "$ctx" >/dev/null
echo "built $tag with $engine ($(du -sh "$rootfs" | cut -f1) root filesystem)"
[ -z "$save" ] || lb_image_save "$engine" "$tag" "$save"

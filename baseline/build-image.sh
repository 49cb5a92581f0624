#!/usr/bin/env bash
# Builds the baseline's contestant image (baseline/Containerfile) from this build's binary.
#   bash baseline/build-image.sh [--tag NAME:TAG] [--build DIR] [--engine podman|docker] [--save FILE.tar]
# Defaults: lesionbench-baseline:latest, build/, the first engine that answers (podman, then docker).
# --save also writes the image as a docker-archive tar (what `docker save` gives organisers).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
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
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || busybox=/bin/busybox
[ -x "$busybox" ] || { echo "build-image.sh: busybox not found (apt-get install busybox-static)" >&2; exit 2; }
if ldd "$busybox" >/dev/null 2>&1; then
  echo "build-image.sh: $busybox is dynamically linked; busybox-static is needed" >&2; exit 2
fi
if [ -z "$engine" ]; then
  for e in podman docker; do
    if command -v "$e" >/dev/null 2>&1 && "$e" info >/dev/null 2>&1; then engine=$e; break; fi
  done
  [ -n "$engine" ] || { echo "build-image.sh: neither podman nor docker works on this machine" >&2; exit 3; }
fi

ctx=$(mktemp -d "${TMPDIR:-/tmp}/lesionbench-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
rootfs=$ctx/rootfs
mkdir -p "$rootfs/opt/lesionbench" "$rootfs/bin" "$rootfs/workspace/inputs" "$rootfs/workspace/outputs" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
cp "$bin" "$rootfs/opt/lesionbench/lesionbench-baseline"
cp "$model" "$rootfs/opt/lesionbench/default.json"
cp "$here/predict.sh" "$rootfs/workspace/predict.sh"
# Every library the loader will look for, at the path it will look for it (symlinks resolved).
ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}' | sort -u | while read -r lib; do
  mkdir -p "$rootfs$(dirname "$lib")"
  cp -L "$lib" "$rootfs$lib"
done
cp "$busybox" "$rootfs/bin/busybox"
for applet in sh ash ls cat mkdir cp mv rm env nproc echo true false; do ln -s busybox "$rootfs/bin/$applet"; done
# FLARE starts containers with /bin/bash -c "sh predict.sh"; busybox has no bash applet, so bash hands over to sh.
printf '#!/bin/sh\nexec /bin/sh "$@"\n' >"$rootfs/bin/bash"
chmod 755 "$rootfs/bin/bash"
cp "$here/Containerfile" "$ctx/Containerfile"
"$engine" build -q -t "$tag" -f "$ctx/Containerfile" "$ctx" >/dev/null
echo "built $tag with $engine ($(du -sh "$rootfs" | cut -f1) root filesystem)"
if [ -n "$save" ]; then
  rm -f "$save"
  "$engine" save --format docker-archive -o "$save" "$tag" 2>/dev/null || "$engine" save -o "$save" "$tag"
  echo "saved $tag to $save"
fi

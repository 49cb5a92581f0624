#!/usr/bin/env bash
# Builds the container image of lesionbench itself (Containerfile at the repository root) from this build:
#   bash scripts/build-image.sh [--tag NAME:TAG] [--build DIR] [--engine podman|docker] [--base IMAGE]
#                               [--save FILE.tar]
# Defaults: lesionbench:latest, build/, the first engine that answers (podman, then docker), FROM scratch.
# --base debian:12-slim builds on Debian's image where a registry is reachable. Prints the image's size.
# Exit codes: 0 built, 2 bad usage or nothing built to put in, 3 no container engine works here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
LB_SCRIPT=build-image.sh
source "$root/scripts/lib/image.sh"
tag=lesionbench:latest
build=$root/build
engine="" base=scratch save=""
while (($#)); do
  case "$1" in
    --tag) tag=$2; shift 2 ;;
    --build) build=$(cd "$2" && pwd); shift 2 ;;
    --engine) engine=$2; shift 2 ;;
    --base) base=$2; shift 2 ;;
    --save) save=$2; shift 2 ;;
    *) echo "build-image.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
lb=$build/cli/lesionbench
baseline=$build/baseline/lesionbench-baseline
for bin in "$lb" "$baseline"; do
  [ -x "$bin" ] || { echo "build-image.sh: $bin not found; build first (bash scripts/setup.sh)" >&2; exit 2; }
done
busybox=$(lb_image_busybox)
engine=$(lb_image_engine "$engine")

ctx=$(mktemp -d "${TMPDIR:-/tmp}/lesionbench-image.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
rootfs=$ctx/rootfs
opt=$rootfs/opt/lesionbench
mkdir -p "$opt/bin" "$opt/share/lesionbench/schemas" "$rootfs/bin" "$rootfs/data" "$rootfs/tmp"
chmod 1777 "$rootfs/tmp"
cp "$lb" "$baseline" "$opt/bin/"
cp "$root/baseline/models/default.json" "$opt/bin/default.json"   # where lesionbench-baseline looks first
cp "$root"/schemas/*.json "$opt/share/lesionbench/schemas/"
# The charting library the HTML report inlines (installed by scripts/setup.sh with npm); without it the
# report still works, without charts, and says so.
modules=$root/reports/web/node_modules
if [ -d "$modules/vega" ]; then
  for pkg in vega vega-lite vega-embed; do
    mkdir -p "$opt/share/lesionbench/web/node_modules/$pkg/build"
    cp "$modules/$pkg/package.json" "$opt/share/lesionbench/web/node_modules/$pkg/"
    [ ! -f "$modules/$pkg/LICENSE" ] || cp "$modules/$pkg/LICENSE" "$opt/share/lesionbench/web/node_modules/$pkg/"
    cp "$modules/$pkg/build/$pkg.min.js" "$opt/share/lesionbench/web/node_modules/$pkg/build/"
  done
else
  echo "build-image.sh: $modules is absent (npm ci in reports/web): the image's HTML reports will have no charts" >&2
fi
lb_image_libraries "$rootfs" "$lb" "$baseline"
lb_image_shell "$rootfs" "$busybox" sh ls cat mkdir cp mv rm env nproc echo true false sleep
cp "$root/Containerfile" "$ctx/Containerfile"
"$engine" build -q --build-arg "BASE=$base" -t "$tag" -f "$ctx/Containerfile" "$ctx" >/dev/null
size=$("$engine" image inspect "$tag" --format '{{.Size}}' 2>/dev/null || echo 0)
echo "built $tag with $engine FROM $base: $(awk -v s="$size" 'BEGIN {printf "%.1f MiB", s / 1048576}') image," \
     "$(du -sh "$rootfs" | cut -f1) root filesystem"
[ -z "$save" ] || lb_image_save "$engine" "$tag" "$save"

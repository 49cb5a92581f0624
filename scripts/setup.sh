#!/usr/bin/env bash
# Installs the Debian 12 packages lesionbench needs (only those missing) and builds it into build/ (Release).
#   bash scripts/setup.sh              packages + build
#   bash scripts/setup.sh --deps-only  packages only
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  cmake ninja-build g++ pkg-config git                 # build
  libeigen3-dev libtbb-dev nlohmann-json3-dev          # libraries
  libboost-dev libboost-filesystem-dev libdeflate-dev libisal-dev
  catch2 libinsighttoolkit5-dev                        # ITK: .mha/.mhd/.nrrd/.nhdr (full build); tests: Catch2, a NIfTI cross-check
  podman runc busybox-static                           # container contestants and their tests
  bubblewrap                                           # the sandbox of command contestants (bwrap)
  slurmctld slurmd slurm-client munge                  # tests: a one-node Slurm cluster (run --backend slurm)
  time                                                 # /usr/bin/time in benchmarks/baseline-speed.sh
  python3-jsonschema                                   # tests: an independent JSON Schema validator
  chromium                                             # rendering checks of the HTML leaderboard
  python3-yaml                                         # tests: the CI examples' YAML (examples/ci)
  python3-dev python3-venv python3-setuptools python3-wheel pybind11-dev python3-pybind11
  python3-numpy python3-pytest                         # the Python module (pip install .) and its tests
  curl                                                 # scripts/get-data.sh
  clang-14 libfuzzer-14-dev                            # scripts/fuzz.sh (libFuzzer targets in fuzz/)
)
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)   # the HTML report's charting library

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Front-end packages for the HTML report, from the committed lockfile (again when the lockfile changed).
# Without them the report still works: its page has tables and pictures but no charts.
if [ -f reports/web/package-lock.json ] && { [ ! -d reports/web/node_modules ] ||
     [ reports/web/package-lock.json -nt reports/web/node_modules/.package-lock.json ]; }; then
  (cd reports/web && npm ci --no-audit --no-fund --loglevel=error) ||
    echo "setup: npm ci in reports/web failed; leaderboard.html will have no charts and schema tests will skip" >&2
fi

[ "${1:-}" = "--deps-only" ] && exit 0

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"

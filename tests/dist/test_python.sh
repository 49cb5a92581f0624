#!/usr/bin/env bash
# The Python module as a user installs it: a virtual environment from Debian's Python with its packages,
# `pip install --no-build-isolation .` from the repository root (setup.py drives CMake), then pytest
# (tests/python) against this build's CLI on the real data. Skipped when Debian's packages are missing.
#   tests/dist/test_python.sh BUILD_DIR
set -euo pipefail
build=$(realpath "$1")
root=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
[ -x "$py" ] || { echo "skipped: $py (Debian's Python) is absent"; exit 0; }
for mod in numpy pybind11 pytest venv setuptools wheel; do
  "$py" -c "import $mod" 2>/dev/null ||
    { echo "skipped: Debian's Python lacks $mod (bash scripts/setup.sh --deps-only installs it)"; exit 0; }
done
venv=$build/python-venv
[ -x "$venv/bin/python" ] || "$py" -m venv --system-site-packages "$venv"
args=()
command -v ccache >/dev/null 2>&1 && args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
cd "$root"
CMAKE_ARGS="${args[*]}" LESIONBENCH_PY_BUILD_DIR=$build/python-ext \
  "$venv/bin/pip" install -q --no-build-isolation --no-index --no-deps . ||
  { echo "FAIL: pip install . exited $?"; exit 1; }
LESIONBENCH_BUILD=$build source "$root/scripts/data-dir.sh"
data=$(LESIONBENCH_BUILD=$build lb_data_dir)
cd "$build"   # not the source folder, so that the installed package is the one imported
LESIONBENCH_CLI=$build/cli/lesionbench LESIONBENCH_DATA=$data \
  "$venv/bin/python" -m pytest -q -p no:cacheprovider -rs "$root/tests/python"

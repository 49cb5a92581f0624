#!/usr/bin/env bash
# Placeholder main job until the demo lands: builds, then scores the shared parity set.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
./build/cli/lesionbench score --gt ../shared/data/flare24-parity/gt --pred ../shared/data/flare24-parity/pred

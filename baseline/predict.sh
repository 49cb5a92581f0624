#!/bin/sh
# FLARE24 Task 1 contract, run by the organisers as: /bin/bash -c "sh predict.sh" in /workspace.
# Reads /workspace/inputs/<Case>_0000.nii.gz and writes /workspace/outputs/<Case>.nii.gz (uint8 0/1).
# Exit code: 0 every case written, 1 some case failed (named on stderr; the others are written), 2 nothing ran.
exec /opt/lesionbench/lesionbench-baseline predict --input /workspace/inputs --output /workspace/outputs \
  --model /opt/lesionbench/default.json

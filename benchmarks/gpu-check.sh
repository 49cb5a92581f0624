#!/usr/bin/env bash
# GPU check of the runner's memory figures, for a machine with an NVIDIA GPU (and PyTorch).
#
# A contestant (benchmarks/gpu/alloc_contestant.py) holds 2 GiB, then 4 GiB more, on GPU 0 while
# `lesionbench run` samples it; it logs what nvidia-smi (and pynvml) report at the same moments, and
# benchmarks/gpu/check_gpu_run.py compares:
#   own     the runner's own figure within 5% of nvidia-smi --query-compute-apps=pid,used_memory for it;
#   step    the step between the two plateaus within 5% of 4 GiB;
#   device  the device-wide figure equal to NVML's total - free, as FLARE reads it.
# Exit code 0 when every check passed.
#
# The GPU machine may lack ITK, TBB, Boost and nlohmann-json, so the runner travels prebuilt:
#   bash benchmarks/gpu-check.sh --bundle     (here) builds a run-only lesionbench (-DLESIONBENCH_RUNNER_ONLY=ON)
#                                             into build-runner-only/ and copies it with every library `ldd`
#                                             lists, the dynamic loader and libc included, to
#                                             benchmarks/out/gpu-bundle/ (carry that folder to the GPU machine);
#   bash benchmarks/gpu-check.sh              (there) runs the check with the bundle, started through the
#                                             bundle's own loader so the host's glibc version does not matter;
#                                             without a bundle it uses build/cli/lesionbench, or builds the
#                                             run-only target from source when cmake finds the libraries.
#   bash benchmarks/gpu-check.sh --fake       (anywhere) the same pipeline against the fake NVML of the tests
#                                             (build/tests/runner/libfake-nvidia-ml.so), no GPU or PyTorch.
# Overrides (the tests use them): LB_GPU_CHECK_RUNNER (a lesionbench to use), LB_GPU_CHECK_WORK (work folder,
# default benchmarks/out/gpu-check), LB_GPU_CHECK_FAKE_NVML (the fake library).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bundle=$root/benchmarks/out/gpu-bundle
mode=check
case "${1:-}" in
  --bundle) mode=bundle ;;
  --fake) mode=fake ;;
  "") ;;
  *) echo "usage: bash benchmarks/gpu-check.sh [--bundle | --fake]" >&2; exit 2 ;;
esac

if [ "$mode" = bundle ]; then
  cmake -S . -B build-runner-only -G Ninja -DCMAKE_BUILD_TYPE=Release -DLESIONBENCH_RUNNER_ONLY=ON >/dev/null
  cmake --build build-runner-only -j"$(nproc)" --target lesionbench
  rm -rf "$bundle"; mkdir -p "$bundle/lib"
  cp build-runner-only/cli/lesionbench "$bundle/"
  ldd build-runner-only/cli/lesionbench | awk '/=> \// {print $3} /^\t\/.*ld-linux/ {print $1}' | while read -r lib; do
    cp -L "$lib" "$bundle/lib/"
  done
  # glibc pieces a dlopen'ed NVML may ask for, so that they match the carried libc.
  for extra in libdl.so.2 libpthread.so.0 librt.so.1 libm.so.6; do
    p=$(ldconfig -p | awk -v l="$extra" '!found && $1 == l && /x86-64/ {print $NF; found = 1}')
    if [ -n "$p" ]; then cp -L "$p" "$bundle/lib/"; fi
  done
  ls "$bundle/lib" | tr '\n' ' '; echo
  du -sh "$bundle"
  "$bundle/lib/ld-linux-x86-64.so.2" --library-path "$bundle/lib" "$bundle/lesionbench" --version
  echo "bundle ready: carry benchmarks/out/gpu-bundle to the GPU machine and run: bash benchmarks/gpu-check.sh"
  exit 0
fi

# The runner to use, as a command prefix.
if [ -n "${LB_GPU_CHECK_RUNNER:-}" ]; then
  lb=("$LB_GPU_CHECK_RUNNER")
elif [ -x "$bundle/lesionbench" ]; then
  # Through the carried loader: the carried libc serves lesionbench (and the NVML it loads); the
  # contestant, started by /bin/sh, uses the host's own libraries as usual.
  extra=${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  lb=("$bundle/lib/ld-linux-x86-64.so.2" --library-path "$bundle/lib$extra" "$bundle/lesionbench")
elif [ -x build/cli/lesionbench ]; then
  lb=("$root/build/cli/lesionbench")
elif [ -x build-runner-only/cli/lesionbench ]; then
  lb=("$root/build-runner-only/cli/lesionbench")
else
  echo "gpu-check: no bundle and no build; building the run-only target from source" >&2
  cmake -S . -B build-runner-only -G Ninja -DCMAKE_BUILD_TYPE=Release -DLESIONBENCH_RUNNER_ONLY=ON -DLESIONBENCH_BUILD_TESTS=OFF >/dev/null
  cmake --build build-runner-only -j"$(nproc)" --target lesionbench
  lb=("$root/build-runner-only/cli/lesionbench")
fi
"${lb[@]}" --version

py=python3
work=${LB_GPU_CHECK_WORK:-$root/benchmarks/out/gpu-check}
rm -rf "$work"; mkdir -p "$work/cases"
# One small CT-like case, written with the standard library (the GPU machine may lack nibabel).
"$py" - "$work/cases/GpuCheck_0000.nii.gz" <<'PY'
import gzip, struct, sys
nx, ny, nz = 64, 64, 16
hdr = bytearray(348)
struct.pack_into("<i", hdr, 0, 348)
struct.pack_into("<8h", hdr, 40, 3, nx, ny, nz, 1, 1, 1, 1)
struct.pack_into("<hh", hdr, 70, 4, 16)                       # int16
struct.pack_into("<8f", hdr, 76, 1, 0.8, 0.8, 2.5, 1, 1, 1, 1)
struct.pack_into("<f", hdr, 108, 352.0)
struct.pack_into("<hh", hdr, 252, 0, 1)                       # qform 0, sform 1
for row, vals in enumerate(((0.8, 0, 0, 0), (0, 0.8, 0, 0), (0, 0, 2.5, 0))):
    struct.pack_into("<4f", hdr, 280 + 16 * row, *vals)
hdr[344:348] = b"n+1\0"
data = struct.pack(f"<{nx * ny * nz}h", *([-1000] * (nx * ny * nz)))
with gzip.open(sys.argv[1], "wb") as f:
    f.write(bytes(hdr) + b"\0\0\0\0" + data)
PY

contestant="$py $(printf %q "$root/benchmarks/gpu/alloc_contestant.py") {inputs} {outputs} $(printf %q "$work/contestant-log.json")"
if [ "$mode" = fake ]; then
  fake_lib=${LB_GPU_CHECK_FAKE_NVML:-$root/build/tests/runner/libfake-nvidia-ml.so}
  [ -f "$fake_lib" ] || { echo "gpu-check --fake needs the tests built (build/tests/runner/libfake-nvidia-ml.so)" >&2; exit 2; }
  : >"$work/fake-state"
  echo "1 1000" >"$work/fake-state"   # a stranger on the device: counts device-wide, never as own
  export LESIONBENCH_NVML_LIBRARY=$fake_lib LB_FAKE_NVML_STATE=$work/fake-state
  contestant="$contestant --fake $(printf %q "$work/fake-state")"
else
  command -v nvidia-smi >/dev/null || { echo "gpu-check: nvidia-smi not found: is this a GPU machine?" >&2; exit 2; }
  nvidia-smi --query-gpu=index,name,driver_version,memory.total,memory.used --format=csv
  "$py" -c "import torch; assert torch.cuda.is_available(); print('torch', torch.__version__, torch.cuda.get_device_name(0))"
  # The runner finds NVML through the loader; name it when the loader would not (e.g. the carried loader
  # without the host's LD_LIBRARY_PATH).
  if [ -z "${LESIONBENCH_NVML_LIBRARY:-}" ]; then
    for d in ${LD_LIBRARY_PATH//:/ } /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/cuda/lib64 /usr/lib/wsl/lib; do
      if [ -e "$d/libnvidia-ml.so.1" ]; then export LESIONBENCH_NVML_LIBRARY=$d/libnvidia-ml.so.1; break; fi
    done
  fi
  echo "NVML: ${LESIONBENCH_NVML_LIBRARY:-libnvidia-ml.so.1 through the loader}"
fi

# --sandbox none: the contestant compares what nvidia-smi says about its own pid with the runner's figures;
# in the sandbox's PID namespace its pid is not the one NVML and the runner see.
"${lb[@]}" run --cases "$work/cases" --out "$work/team" --name gpu-check --gpu 0 --sample-ms 100 --timeout-s 300 \
  --sandbox none --command "$contestant"
echo
"$py" "$root/benchmarks/gpu/check_gpu_run.py" "$work/team" "$work/contestant-log.json"

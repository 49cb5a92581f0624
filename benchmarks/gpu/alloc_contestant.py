#!/usr/bin/env python3
"""GPU check contestant: holds 2 GiB, then 4 GiB more, on the GPU, and logs what nvidia-smi (and pynvml,
when installed) report at the same time, so the runner's figures can be compared with them.

    alloc_contestant.py INPUTS OUTPUTS LOG.json           real GPU, PyTorch
    alloc_contestant.py INPUTS OUTPUTS LOG.json --fake STATE
        no GPU: "allocates" by writing "pid MiB" lines to the fake NVML's state file
        (tests/runner/fake_nvml.cpp) and reads the same figures back as nvidia-smi would show them.

Phases, each a plateau of PHASE_S seconds with readings in its middle: context (CUDA initialised),
a (2 GiB held), b (2 + 4 GiB held). The log holds each phase's start and end (epoch seconds) and the
readings. Then the input image is copied to the prediction (the runner only checks the grid).
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import time

PHASE_S = 3.0
GIB = 1024 ** 3


def smi_readings(fake_state, fake_held_mib):
    """What nvidia-smi (and pynvml) say now: own used_memory (MiB), device total and free (MiB)."""
    r = {"epoch_s": time.time()}
    if fake_state:
        total = 80 * 1024
        used = 480 + sum(float(l.split()[1]) for l in open(fake_state) if l.strip())
        r.update(smi_own_mib=fake_held_mib, smi_total_mib=total, smi_free_mib=total - used,
                 nvml_used_mib=used)
        return r
    out = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                         capture_output=True, text=True).stdout
    own = None
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 2 and parts[0] == str(os.getpid()):
            own = float(parts[1])
    r["smi_own_mib"] = own
    r["smi_apps"] = out.strip()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "0").split(",")[0] or "0"
    out = subprocess.run(["nvidia-smi", "-i", visible, "--query-gpu=memory.total,memory.free,memory.used",
                          "--format=csv,noheader,nounits"], capture_output=True, text=True).stdout
    total, free, used = (float(x) for x in out.strip().split(","))
    r.update(smi_total_mib=total, smi_free_mib=free, smi_used_mib=used)
    try:  # FLARE's own reading: pynvml's memory info, total - free
        import pynvml
        pynvml.nvmlInit()
        h = pynvml.nvmlDeviceGetHandleByIndex(int(visible))
        m = pynvml.nvmlDeviceGetMemoryInfo(h)
        r["nvml_used_mib"] = (m.total - m.free) / 2 ** 20
        pynvml.nvmlShutdown()
    except Exception as e:  # pynvml is optional
        r["nvml_error"] = str(e)
    return r


def main():
    inputs, outputs, log_path = sys.argv[1:4]
    fake = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--fake" else None
    log = {"pid": os.getpid(), "phases": {}, "readings": []}
    held = []

    def hold(mib):
        if fake:
            with open(fake, "a") as f:
                f.write(f"{os.getpid()} {mib}\n")
            held.append(mib)
        else:
            import torch
            t = torch.empty(int(mib) * 2 ** 20, dtype=torch.uint8, device="cuda")
            t.fill_(1)
            torch.cuda.synchronize()
            held.append(t)

    def phase(name):
        start = time.time()
        time.sleep(PHASE_S / 3)
        for _ in range(2):
            r = smi_readings(fake, sum(held) if fake else None)
            r["phase"] = name
            log["readings"].append(r)
            time.sleep(PHASE_S / 6)
        time.sleep(PHASE_S / 3)
        log["phases"][name] = [start, time.time()]

    if not fake:
        import torch
        torch.cuda.init()
        torch.zeros(1, device="cuda")  # creates the CUDA context
        log["torch"] = torch.__version__
        log["device"] = torch.cuda.get_device_name(0)
    phase("context")
    hold(2048)
    phase("a")
    hold(4096)
    phase("b")
    for f in glob.glob(os.path.join(inputs, "*_0000.nii.gz")):
        shutil.copy(f, os.path.join(outputs, os.path.basename(f).replace("_0000.nii.gz", ".nii.gz")))
    with open(log_path, "w") as f:
        json.dump(log, f, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Compares what `lesionbench run` measured for the GPU check contestant with what nvidia-smi (and pynvml)
reported at the same time (the contestant's log). Standard library only. Exit 0: every check passed.

    check_gpu_run.py TEAM_DIR LOG.json

Checks, for the plateaus of the contestant (2 GiB held, then 2 + 4 GiB):
  own      the runner's own figure (median of its samples inside the plateau) within 5% of nvidia-smi's
           used_memory for the contestant's pid
  step     own(2+4 GiB) - own(2 GiB) within 5% of 4096 MiB
  device   the runner's device-wide sample nearest each reading equals total - free as pynvml reads it (FLARE's
           way), or as nvidia-smi shows it, within max(8 MiB, 0.5%)
"""
import csv
import datetime
import json
import statistics
import sys

TRIM_S = 0.3


def main():
    team, log_path = sys.argv[1:3]
    rec = [json.loads(l) for l in open(f"{team}/records.jsonl") if l.strip()][-1]
    log = json.load(open(log_path))
    t0 = datetime.datetime.strptime(rec["started_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    samples = []
    for row in csv.DictReader(open(f"{team}/{rec['files']['samples']}")):
        s = {k: (float(v) if v != "" else None) for k, v in row.items()}
        s["epoch_s"] = t0 + s["t_s"]
        samples.append(s)
    g = rec["gpu"]
    print(f"record: status {rec['status']} ({rec['message'] or 'no message'}), wall {rec['wall_s']:.2f} s, "
          f"{len(samples)} samples every {rec['sampler']['interval_ms']:.0f} ms")
    print(f"gpu: {g['name']} (driver {g['driver']}), total {g['total_mib']} MiB; device max {g['device_max_mib']} MiB, "
          f"own max {g['own_max_mib']} MiB; note: {g['note'] or '-'}")
    if "device" in log:
        print(f"contestant: {log['device']}, torch {log['torch']}")
    failures = []

    def check(name, ok, text):
        print(f"  {'PASS' if ok else 'FAIL'}  {name}: {text}")
        if not ok:
            failures.append(name)

    own = {}
    for phase in ("context", "a", "b"):
        start, end = log["phases"][phase]
        inside = [s for s in samples if start + TRIM_S <= s["epoch_s"] <= end - TRIM_S]
        vals = [s["gpu_own_mib"] for s in inside if s["gpu_own_mib"] is not None]
        own[phase] = statistics.median(vals) if vals else None
        smi = [r["smi_own_mib"] for r in log["readings"] if r["phase"] == phase and r.get("smi_own_mib") is not None]
        print(f"phase {phase}: {len(inside)} samples, runner own median {own[phase]} MiB, nvidia-smi own {smi}")
        if phase == "context":
            continue
        if own[phase] is None or not smi:
            check(f"own ({phase})", False, "no figure to compare (NVML per-process memory, or pids from another "
                  "pid namespace?)" + ("" if smi else f"; nvidia-smi apps: {[r.get('smi_apps') for r in log['readings'] if r['phase'] == phase]}"))
            continue
        ref = statistics.median(smi)
        check(f"own ({phase})", abs(own[phase] - ref) <= 0.05 * ref,
              f"runner {own[phase]:.0f} MiB vs nvidia-smi {ref:.0f} MiB ({100 * (own[phase] - ref) / ref:+.2f}%)")
    if own.get("a") is not None and own.get("b") is not None:
        step = own["b"] - own["a"]
        check("step", abs(step - 4096) <= 0.05 * 4096, f"{step:.0f} MiB vs 4096 MiB ({100 * (step - 4096) / 4096:+.2f}%)")
    else:
        check("step", False, "no own figures")
    for r in log["readings"]:
        ref = r.get("nvml_used_mib")
        how = "NVML (pynvml) total - free"
        if ref is None:
            ref = r["smi_total_mib"] - r["smi_free_mib"]
            how = "nvidia-smi total - free"
        near = min(samples, key=lambda s: abs(s["epoch_s"] - r["epoch_s"]))
        dev = near["gpu_device_mib"]
        if dev is None:
            check(f"device ({r['phase']})", False, "the runner has no device-wide figure")
            continue
        tol = max(8.0, 0.005 * ref)
        check(f"device ({r['phase']})", abs(dev - ref) <= tol,
              f"runner {dev:.0f} MiB vs {how} {ref:.0f} MiB (sample {near['epoch_s'] - r['epoch_s']:+.2f} s from the reading)")
    print("gpu-check:", "all checks passed" if not failures else f"FAILED: {', '.join(failures)}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

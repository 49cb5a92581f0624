#!/usr/bin/env python3
"""Runs the organisers' FLARE24 Task 1 scorer unchanged on two folders.

The official script (JunMa11/FLARE, FLARE24/T1_FLARE24_DSC_NSD_Eval.py with SurfaceDice.py) is not part of
lesionbench; fetch it yourself and pass its folder. Its hard-coded placeholder paths are replaced at run time;
nothing else is altered.

  /usr/bin/python3 benchmarks/run_official_scorer.py OFFICIAL_DIR GT_DIR PRED_DIR OUT_CSV
Needs numpy, scipy, nibabel, pandas (Debian: python3-numpy python3-scipy python3-nibabel python3-pandas).
"""
import os
import sys


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    official, gt, pred, out_csv = (os.path.abspath(a) for a in sys.argv[1:])
    script = os.path.join(official, "T1_FLARE24_DSC_NSD_Eval.py")
    with open(script) as f:
        src = f.read()
    replacements = {
        "'path to segmentation'": repr(pred),
        "'path to ground truth'": repr(gt),
        "'path to Results'": repr(os.path.dirname(out_csv)),
        "'DSC_NSD_teamname.csv'": repr(os.path.basename(out_csv)),
    }
    for old, new in replacements.items():
        if old not in src:
            sys.exit(f"placeholder {old} not found in {script}: not the expected version of the script")
        src = src.replace(old, new)
    sys.path.insert(0, official)
    sys.stdout = open(os.devnull, "w")  # the script prints a line per case
    exec(compile(src, script, "exec"), {"__name__": "__main__"})


if __name__ == "__main__":
    main()

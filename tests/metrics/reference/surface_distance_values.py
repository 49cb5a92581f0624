#!/usr/bin/python3
"""Reference values for tests/metrics/test_distances.cpp from google-deepmind/surface-distance.

Usage: /usr/bin/python3 surface_distance_values.py SURFACE_DISTANCE_CHECKOUT DATA_DIR
Runs surface-distance unchanged (imported from its checkout; not part of this repository) on the parity set's
cases listed below, ground truth against prediction with the ground truth's spacing as nibabel reads it, and
prints one C++ initialiser per case: hd (percent 100), hd95, the two directed average distances, assd (the
area-weighted mean over both surfaces), and NSD at 1 and 5 mm. Values print with 17 significant digits.
"""
import sys

import nibabel as nib
import numpy as np

sys.path.insert(0, sys.argv[1])
from surface_distance import metrics  # noqa: E402

CASES = ["FLARE24Val_0004", "FLARE24Val_0005", "FLARE24Val_0006", "FLARE24Val_0007", "FLARE24Val_0012",
         "FLARE24Val_0014", "FLARE24Val_0015"]

for case in CASES:
    g = nib.load(f"{sys.argv[2]}/flare24-parity/gt/{case}.nii.gz")
    p = nib.load(f"{sys.argv[2]}/flare24-parity/pred/{case}.nii.gz")
    gt = np.asanyarray(g.dataobj) == 1
    pred = np.asanyarray(p.dataobj) == 1
    spacing = tuple(float(x) for x in g.header.get_zooms()[:3])
    sd = metrics.compute_surface_distances(gt, pred, spacing)
    hd = metrics.compute_robust_hausdorff(sd, 100)
    hd95 = metrics.compute_robust_hausdorff(sd, 95)
    a_gp, a_pg = metrics.compute_average_surface_distance(sd)
    areas = np.concatenate([sd["surfel_areas_gt"], sd["surfel_areas_pred"]])
    dists = np.concatenate([sd["distances_gt_to_pred"], sd["distances_pred_to_gt"]])
    assd = np.sum(dists * areas) / np.sum(areas)
    nsd1 = metrics.compute_surface_dice_at_tolerance(sd, 1.0)
    nsd5 = metrics.compute_surface_dice_at_tolerance(sd, 5.0)
    vals = ", ".join(f"{v:.17g}" for v in (hd, hd95, a_gp, a_pg, assd, nsd1, nsd5))
    print(f'    {{"{case}.nii.gz", {vals}}},')

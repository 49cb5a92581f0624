"""lesionbench in Python: the scorer of the lesionbench CLI (the same C++), on numpy arrays or folders.

    import lesionbench
    r = lesionbench.score_case(gt, pred, spacing_mm=img.header.get_zooms())
    r["dsc"], r["nsd"], r["status"]

Axis order. An array is scored in its memory order, so the file's own order is kept without a copy:
- nibabel: ``np.asanyarray(img.dataobj)`` has shape (x, y, z) and is F-contiguous; pass
  ``spacing_mm=img.header.get_zooms()[:3]`` (x, y, z). This is what the CLI and the official scorer see.
- SimpleITK: ``sitk.GetArrayFromImage(img)`` has shape (z, y, x) and is C-contiguous; pass
  ``spacing_mm=img.GetSpacing()[::-1]`` (z, y, x), i.e. spacing always in the array's own axis order.
Both describe the same memory, so they give the same scores. ``dims``, ``spacing_mm`` and lesion ``bbox``
come back in the array's axis order. Other strided views are copied once into F order.

Values. bool and uint8 arrays are read in place; other integer and float arrays are converted. Any value
that is not exactly 0 or 1 (0.9999, 2, -1, NaN) makes the case ``invalid_labels`` with the values listed,
as in the CLI. Bad input (shape mismatch, labels, not 3-D) is a status, never an exception; bad arguments
(spacing, tolerance, connectivity) raise ValueError. The GIL is released while scoring, so threads help.
"""
from ._lesionbench import __version__
from ._lesionbench import score_case as _score_case
from ._lesionbench import score_folders as _score_folders

__all__ = ["score_case", "score_folders", "__version__"]


def _names(metrics):
    return [metrics] if isinstance(metrics, str) else [str(m) for m in metrics]


def score_case(gt, pred, spacing_mm, tolerance_mm=2.0, lesion_wise=False, connectivity=26, name="",
               metrics=("dsc", "nsd"), nsd_at_mm=(), matching="overlap"):
    """Scores one case: DSC and NSD by the official FLARE24 rules, optionally lesion-wise scores and more metrics.

    gt, pred: 3-D numpy arrays of the same shape (bool, integer or float; C- or F-contiguous).
    spacing_mm: 3 voxel sizes in mm, in the array's axis order (the ground truth's, as the CLI uses).
    metrics: as the CLI's --metrics: "dsc", "nsd" and any of "iou", "hd", "hd95", "masd", "assd" (a list, or
    one comma-separated string). nsd_at_mm: more NSD tolerances (never gated by DSC), as --nsd-at-mm.
    matching: the lesion matching of lesion_wise, as --matching: "overlap", "iou:T" or "hungarian".
    Returns the dictionary of one case of scores.json: dsc, nsd, nsd_ungated, status, message, warnings,
    rule, voxel counts, surface areas, dims, spacing_mm, the extra metrics asked for (hd95_mm, iou, nsd_at_mm,
    ...; a distance is None when one mask is empty), and lesion_wise when asked for.
    """
    return _score_case(gt, pred, [float(s) for s in spacing_mm], float(tolerance_mm), bool(lesion_wise),
                       int(connectivity), str(name), _names(metrics), [float(t) for t in nsd_at_mm], str(matching))


def score_folders(gt_dir, pred_dir, tolerance_mm=2.0, lesion_wise=False, connectivity=26, threads=0,
                  geometry="warn", missing="zero", volume_buckets_ml=(0.5, 5, 50), metrics=("dsc", "nsd"),
                  nsd_at_mm=(), matching="overlap"):
    """Scores a folder of predictions against a folder of ground truth (<case>.nii.gz each), as
    ``lesionbench score --json`` does, and returns that scores.json document as a dictionary.
    metrics, nsd_at_mm and matching as in score_case (the CLI's --metrics, --nsd-at-mm, --matching).
    Raises ValueError when nothing can be scored (no such folder, no case) or an argument is wrong."""
    return _score_folders(str(gt_dir), str(pred_dir), float(tolerance_mm), bool(lesion_wise), int(connectivity),
                          int(threads), str(geometry), str(missing), [float(v) for v in volume_buckets_ml],
                          _names(metrics), [float(t) for t in nsd_at_mm], str(matching))

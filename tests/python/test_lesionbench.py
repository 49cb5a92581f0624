"""The Python module against the CLI (same files, same numbers), on bad input, and from several threads.
Run by tests/dist/test_python.sh after `pip install .` into a virtual environment; needs LESIONBENCH_CLI (the
lesionbench executable) and LESIONBENCH_DATA (the real-data folder; the parity tests skip without it)."""
import gzip
import json
import os
import struct
import subprocess
import threading
import time

import numpy as np
import pytest

import lesionbench

CLI = os.environ.get("LESIONBENCH_CLI", "lesionbench")
DATA = os.environ.get("LESIONBENCH_DATA", "")
PARITY = os.path.join(DATA, "flare24-parity")
DTYPES = {2: np.uint8, 4: np.int16, 8: np.int32, 16: np.float32, 64: np.float64, 256: np.int8, 512: np.uint16}


def read_nifti(path):
    """A NIfTI-1 file as nibabel gives it (np.asanyarray(img.dataobj), header.get_zooms()), written here from
    the format's definition so the test does not lean on lesionbench's reader: F-order (x, y, z), float32 zooms."""
    raw = (gzip.open if path.endswith(".gz") else open)(path, "rb").read()
    assert struct.unpack("<i", raw[:4])[0] == 348, path
    dim = struct.unpack("<8h", raw[40:56])
    datatype = struct.unpack("<h", raw[70:72])[0]
    pixdim = struct.unpack("<8f", raw[76:108])
    offset = int(struct.unpack("<f", raw[108:112])[0])
    shape = dim[1:1 + dim[0]]
    n = int(np.prod(shape))
    arr = np.frombuffer(raw, dtype=np.dtype(DTYPES[datatype]).newbyteorder("<"), count=n, offset=offset)
    return arr.reshape(shape, order="F"), tuple(float(np.float32(p)) for p in pixdim[1:4])


def parity_cases():
    if not os.path.isdir(PARITY):
        pytest.skip(f"{PARITY} is absent (LESIONBENCH_DATA={DATA!r})")
    return sorted(os.listdir(os.path.join(PARITY, "gt")))


@pytest.fixture(scope="module")
def cli_scores(tmp_path_factory):
    parity_cases()
    out = tmp_path_factory.mktemp("cli") / "scores.json"
    subprocess.run([CLI, "score", "--gt", os.path.join(PARITY, "gt"), "--pred", os.path.join(PARITY, "pred"),
                    "--lesion-wise", "--json", str(out), "--quiet"], check=True, capture_output=True)
    return json.load(open(out))


def strip(case):
    return {k: v for k, v in case.items() if k not in ("seconds", "case", "message")}


def test_score_case_equals_the_cli_on_every_parity_case(cli_scores):
    by_name = {c["case"]: c for c in cli_scores["cases"]}
    statuses = set()
    for name in parity_cases():
        gt, spacing = read_nifti(os.path.join(PARITY, "gt", name))
        pred, _ = read_nifti(os.path.join(PARITY, "pred", name))
        r = lesionbench.score_case(gt, pred, spacing_mm=spacing, lesion_wise=True)
        cli = by_name[name]
        statuses.add(r["status"])
        # Every key of the case, exactly (the message names a file in the CLI and an array here).
        assert strip(r) == strip(cli), name
    assert statuses == {"ok", "invalid_labels"}


def test_score_case_without_lesion_wise_has_no_lesion_wise_key():
    gt = np.zeros((8, 8, 8), np.uint8)
    gt[2:5, 2:5, 2:5] = 1
    r = lesionbench.score_case(gt, gt, spacing_mm=(1, 1, 1))
    assert (r["status"], r["dsc"], r["nsd"], r["nsd_ungated"]) == ("ok", 1.0, 1.0, 1.0)
    assert "lesion_wise" not in r
    for key in ("dsc", "nsd", "nsd_ungated", "status", "warnings"):
        assert key in r


def test_layouts_and_dtypes_give_the_same_scores():
    name = parity_cases()[5]
    gt, spacing = read_nifti(os.path.join(PARITY, "gt", name))
    pred, _ = read_nifti(os.path.join(PARITY, "pred", name))
    base = lesionbench.score_case(gt, pred, spacing, lesion_wise=True)
    assert base["status"] == "ok" and 0 < base["dsc"] < 1
    # SimpleITK's order: (z, y, x), C-contiguous, spacing reversed -> the same memory, the same scores.
    zyx = lambda a: np.ascontiguousarray(a.transpose(2, 1, 0))
    r = lesionbench.score_case(zyx(gt), zyx(pred), spacing[::-1], lesion_wise=True)
    assert (r["dsc"], r["nsd"], r["nsd_ungated"]) == (base["dsc"], base["nsd"], base["nsd_ungated"])
    assert r["dims"] == base["dims"][::-1] and r["spacing_mm"] == base["spacing_mm"][::-1]
    assert [l["bbox"]["min"][::-1] for l in r["lesion_wise"]["lesions"]] == \
           [l["bbox"]["min"] for l in base["lesion_wise"]["lesions"]]
    # One C- and one F-ordered array of the same shape.
    r = lesionbench.score_case(gt, np.ascontiguousarray(pred), spacing)
    assert (r["dsc"], r["nsd"]) == (base["dsc"], base["nsd"])
    # A strided view (every axis reversed twice is the original): copied, same scores.
    r = lesionbench.score_case(gt[::-1][::-1], pred, spacing)
    assert r["dsc"] == base["dsc"]
    for dtype in (bool, np.int16, np.int64, np.uint32, np.float32, np.float64):
        r = lesionbench.score_case(gt.astype(dtype), pred.astype(dtype), spacing)
        assert (r["status"], r["dsc"], r["nsd"]) == ("ok", base["dsc"], base["nsd"]), dtype


def test_no_copy_where_none_is_needed():
    layout = lesionbench._lesionbench._input_layout
    f = np.asfortranarray(np.zeros((6, 5, 4), np.uint8))
    assert layout(f) == {"status": "ok", "in_place": True, "memory_order": "F", "dims": [6, 5, 4]}
    c = np.zeros((6, 5, 4), np.uint8)  # C order: the same memory seen as (4, 5, 6), fastest axis first
    assert layout(c) == {"status": "ok", "in_place": True, "memory_order": "C", "dims": [4, 5, 6]}
    assert layout(np.zeros((6, 5, 4), bool))["in_place"]
    # A conversion or a strided view needs one copy; labels other than 0/1 are found either way.
    assert not layout(np.zeros((6, 5, 4), np.float32))["in_place"]
    assert not layout(np.zeros((12, 5, 4), np.uint8)[::2])["in_place"]
    c[0, 0, 0] = 2
    assert layout(c)["status"] == "invalid_labels"


def test_bad_input_is_a_status_not_an_exception():
    gt = np.zeros((10, 10, 10), np.uint8)
    gt[3:6, 3:6, 3:6] = 1
    r = lesionbench.score_case(gt, np.zeros((10, 10, 9), np.uint8), (1, 1, 1))
    assert (r["status"], r["dsc"], r["nsd"]) == ("shape_mismatch", 0.0, 0.0)
    assert "10x10x9 differs from ground truth shape 10x10x10" in r["message"]
    pred = gt.astype(np.float32)
    pred[0, 0, 0] = 0.9999
    r = lesionbench.score_case(gt, pred, (1, 1, 1))
    assert r["status"] == "invalid_labels" and "0.9999 (1)" in r["message"]
    pred[0, 0, 0] = np.nan
    r = lesionbench.score_case(gt, pred, (1, 1, 1))
    assert r["status"] == "invalid_labels" and "NaN (1)" in r["message"]
    r = lesionbench.score_case(gt * 2, gt, (1, 1, 1), lesion_wise=True)
    assert r["status"] == "invalid_labels" and r["message"].startswith("ground truth array is invalid")
    assert r["lesion_wise"] is None and any("no lesion-wise scores" in w for w in r["warnings"])
    r = lesionbench.score_case(gt[:, :, 0], gt[:, :, 0], (1, 1, 1))
    assert r["status"] == "read_error" and "2-D" in r["message"]
    r = lesionbench.score_case(gt, gt.astype(np.complex64), (1, 1, 1))
    assert r["status"] == "read_error" and "unsupported dtype complex64" in r["message"]
    # Bad arguments are the caller's mistake: exceptions, as the CLI's exit code 2.
    for kwargs in ({"spacing_mm": (1, 1)}, {"spacing_mm": (1, 0, 1)}, {"spacing_mm": (1, 1, 1), "tolerance_mm": -1},
                   {"spacing_mm": (1, 1, 1), "connectivity": 5}):
        with pytest.raises(ValueError):
            lesionbench.score_case(gt, gt, **kwargs)


def test_several_threads_score_at_once_and_the_gil_is_released():
    cases = parity_cases()
    arrays = [(read_nifti(os.path.join(PARITY, "gt", n)), read_nifti(os.path.join(PARITY, "pred", n))[0]) for n in cases]
    expected = [lesionbench.score_case(g, p, s, lesion_wise=True) for (g, s), p in arrays]
    results = [[None] * len(arrays) for _ in range(4)]

    def work(t):
        for i in range(len(arrays)):
            (g, s), p = arrays[(i + t) % len(arrays)]
            results[t][(i + t) % len(arrays)] = lesionbench.score_case(g, p, s, lesion_wise=True)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for t in range(4):
        assert [strip(r) for r in results[t]] == [strip(r) for r in expected]

    # While one thread scores a large volume (about a second), this thread keeps running Python: the longest
    # pause between two of its steps stays far below the scoring time (a held GIL would stop it for all of it).
    big = np.zeros((320, 320, 256), np.uint8)
    big[20:300, 30:290, 10:246] = 1
    shifted = np.roll(big, 3, axis=0)
    done = []
    worker = threading.Thread(
        target=lambda: done.append(lesionbench.score_case(big, shifted, (0.8, 0.8, 1.0), lesion_wise=True)))
    longest_pause_s = 0.0
    last = time.perf_counter()  # before start: a worker that took the GIL at once would pause us from here
    worker.start()
    while worker.is_alive():
        now = time.perf_counter()
        longest_pause_s = max(longest_pause_s, now - last)
        last = now
    worker.join()
    assert done[0]["status"] == "ok"
    scoring_s = done[0]["seconds"]
    assert scoring_s > 0.2
    assert longest_pause_s < 0.5 * scoring_s, f"Python paused {longest_pause_s:.3f} s of {scoring_s:.3f} s: GIL held?"


def test_score_folders_returns_the_scores_json_document(cli_scores):
    doc = lesionbench.score_folders(os.path.join(PARITY, "gt"), os.path.join(PARITY, "pred"), lesion_wise=True)
    assert doc["schema_version"] == cli_scores["schema_version"]
    assert [strip(c) for c in doc["cases"]] == [strip(c) for c in cli_scores["cases"]]
    assert [c["message"] for c in doc["cases"]] == [c["message"] for c in cli_scores["cases"]]
    assert doc["summary"]["mean_dsc"] == cli_scores["summary"]["mean_dsc"]
    with pytest.raises(ValueError, match="does not exist"):
        lesionbench.score_folders("/nonexistent/gt", "/nonexistent/pred")


EXTRA = ["dsc", "nsd", "iou", "hd", "hd95", "masd", "assd"]


@pytest.fixture(scope="module")
def cli_metric_scores(tmp_path_factory):
    parity_cases()
    out = tmp_path_factory.mktemp("cli-metrics") / "scores.json"
    subprocess.run([CLI, "score", "--gt", os.path.join(PARITY, "gt"), "--pred", os.path.join(PARITY, "pred"),
                    "--lesion-wise", "--metrics", ",".join(EXTRA), "--nsd-at-mm", "1,5", "--matching", "hungarian",
                    "--json", str(out), "--quiet"], check=True, capture_output=True)
    return json.load(open(out))


def test_extra_metrics_and_matching_equal_the_cli(cli_metric_scores):
    by_name = {c["case"]: c for c in cli_metric_scores["cases"]}
    distances_seen = nulls_seen = 0
    for name in parity_cases():
        gt, spacing = read_nifti(os.path.join(PARITY, "gt", name))
        pred, _ = read_nifti(os.path.join(PARITY, "pred", name))
        r = lesionbench.score_case(gt, pred, spacing_mm=spacing, lesion_wise=True, metrics=EXTRA,
                                   nsd_at_mm=[1, 5], matching="hungarian")
        assert strip(r) == strip(by_name[name]), name
        assert "hd95_mm" in r and "nsd_at_mm" in r, name
        distances_seen += r["hd95_mm"] is not None
        nulls_seen += r["hd95_mm"] is None
        # The same memory seen as C order (SimpleITK's z, y, x) gives the same values.
        c = lesionbench.score_case(np.ascontiguousarray(gt.T), np.ascontiguousarray(pred.T), spacing_mm=spacing[::-1],
                                   metrics="dsc,nsd,hd95,assd", nsd_at_mm=[1])
        # (the distance's sum over axes runs in the other order: equal to rounding)
        for key in ("hd95_mm", "assd_mm"):
            assert c[key] == (None if r[key] is None else pytest.approx(r[key], rel=1e-12)), (name, key)
        assert [x["nsd"] for x in c["nsd_at_mm"]] == pytest.approx([r["nsd_at_mm"][0]["nsd"]], rel=1e-12), name
        assert c["dsc"] == r["dsc"], name
    assert distances_seen and nulls_seen  # real distances and the one-mask-empty rule were both exercised
    doc = lesionbench.score_folders(os.path.join(PARITY, "gt"), os.path.join(PARITY, "pred"), lesion_wise=True,
                                    metrics=EXTRA, nsd_at_mm=[1, 5], matching="hungarian")
    assert [strip(x) for x in doc["cases"]] == [strip(x) for x in cli_metric_scores["cases"]]
    assert doc["settings"]["matching"] == "hungarian"
    assert doc["summary"]["metrics"] == cli_metric_scores["summary"]["metrics"]


def test_bad_metric_arguments_raise_value_error():
    gt = np.zeros((6, 6, 6), np.uint8)
    gt[2:4, 2:4, 2:4] = 1
    with pytest.raises(ValueError, match="metrics"):
        lesionbench.score_case(gt, gt, spacing_mm=(1, 1, 1), metrics=["dsc", "nsd", "volume"])
    with pytest.raises(ValueError, match="matching"):
        lesionbench.score_case(gt, gt, spacing_mm=(1, 1, 1), lesion_wise=True, matching="best")
    with pytest.raises(ValueError, match="nsd_at_mm"):
        lesionbench.score_case(gt, gt, spacing_mm=(1, 1, 1), nsd_at_mm=[-1])
    # Both masks equal: distances 0, IoU 1; an empty prediction: distances None with the reason in warnings.
    r = lesionbench.score_case(gt, gt, spacing_mm=(1, 1, 1), metrics=["dsc", "nsd", "hd", "iou"])
    assert (r["hd_mm"], r["iou"]) == (0.0, 1.0)
    e = lesionbench.score_case(gt, np.zeros_like(gt), spacing_mm=(1, 1, 1), metrics=["dsc", "nsd", "hd", "iou"])
    assert e["hd_mm"] is None and e["iou"] == 0.0
    assert any("no surface distances" in w for w in e["warnings"])

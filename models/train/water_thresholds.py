"""Choose the thresholds of the built-in index water models and score them.

Data: ../shared/data/water/s2-surface-water (Sentinel-2 L2A, bands B02 B03
B04 B08 B11 B12 as the file's band descriptions say, uint16 reflectance x
10000, 0 = nodata; label 1 = water). Rule, fixed before looking at the
right half: the threshold t of each index is the one of -0.50, -0.49, ...,
0.50 that maximises water IoU on the LEFT half of the scene (columns
< width/2, valid pixels); the right half is only scored. Writes
models/train/water_thresholds.json, which gen_index_models.py reads.

    /usr/bin/python3 models/train/water_thresholds.py [DATA_DIR]
"""
import json
import os
import sys

import numpy as np
from osgeo import gdal

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "..", "shared", "data", "water", "s2-surface-water")


def iou(pred, ref, valid):
    p, r = pred & valid, (ref == 1) & valid
    return float((p & r).sum() / max(1, (p | r).sum()))


def main():
    ds = gdal.Open(os.path.join(DATA, "S2A_20190817_image.tif"))
    names = [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]
    assert names == ["B02", "B03", "B04", "B08", "B11", "B12"], names
    im = ds.ReadAsArray().astype(np.float32)
    lb = gdal.Open(os.path.join(DATA, "S2A_20190817_label.tif")).ReadAsArray()
    band = dict(zip(names, im))
    valid = ~(im == 0).all(0)
    with np.errstate(all="ignore"):
        idx = {
            "ndwi": (band["B03"].astype(np.float64) - band["B08"]) / (band["B03"].astype(np.float64) + band["B08"]),
            "mndwi": (band["B03"].astype(np.float64) - band["B11"]) / (band["B03"].astype(np.float64) + band["B11"]),
        }
    half = lb.shape[1] // 2
    L, R = np.s_[:, :half], np.s_[:, half:]
    out = {"data": "s2-surface-water S2A_20190817", "rule": "argmax water IoU on the left half over t in -0.50..0.50 step 0.01",
           "left_columns": [0, half], "right_columns": [half, lb.shape[1]],
           "water_fraction": {"left": float((lb[L][valid[L]] == 1).mean()), "right": float((lb[R][valid[R]] == 1).mean())}}
    for name, x in idx.items():
        ok = valid & np.isfinite(x)
        ts = np.round(np.arange(-50, 51) / 100, 2)
        left = [iou(x[L] > t, lb[L], ok[L]) for t in ts]
        t = float(ts[int(np.argmax(left))])
        out[name] = {"threshold": t, "left_iou": max(left),
                     "right_iou": iou(x[R] > t, lb[R], ok[R]), "right_iou_t0": iou(x[R] > 0, lb[R], ok[R]),
                     "full_iou_t0": iou(x > 0, lb, ok)}
    path = os.path.join(HERE, "water_thresholds.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

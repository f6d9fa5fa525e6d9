"""Train and score the learned water model of WATER_PROTOCOL.md.

Per-pixel logistic regression on four derived inputs (NDWI, MNDWI, NDVI,
nd(swir1,swir2)), trained on the LEFT half of the labelled Sentinel-2
scene, scored once on the right half; writes water_lr.json. (No ONNX graph
is written: the protocol's rule did not adopt the model.)

    /usr/bin/python3 models/train/water_lr.py
"""
import json
import os

import numpy as np
from osgeo import gdal

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "shared", "data", "water", "s2-surface-water")
INPUTS = [("nd(green,nir)", "B03", "B08"), ("nd(green,swir1)", "B03", "B11"),
          ("nd(nir,red)", "B08", "B04"), ("nd(swir1,swir2)", "B11", "B12")]
RULE = 0.772


def nd(a, b):
    a, b = a.astype(np.float32).astype(np.float64), b.astype(np.float32).astype(np.float64)
    with np.errstate(all="ignore"):
        s = a + b
        v = (a - b) / s
    ok = (s != 0) & np.isfinite(v)
    return np.clip(np.where(ok, v, 0), -1, 1).astype(np.float32), ok


def iou(pred, ref, valid):
    p, r = pred & valid, (ref == 1) & valid
    return float((p & r).sum() / max(1, (p | r).sum()))


def main():
    ds = gdal.Open(os.path.join(DATA, "S2A_20190817_image.tif"))
    names = [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]
    assert names == ["B02", "B03", "B04", "B08", "B11", "B12"], names
    im = dict(zip(names, ds.ReadAsArray()))
    lb = gdal.Open(os.path.join(DATA, "S2A_20190817_label.tif")).ReadAsArray()
    valid = ~np.all(np.stack(list(im.values())) == 0, axis=0)
    feats = []
    for _, a, b in INPUTS:
        v, ok = nd(im[a], im[b])
        valid &= ok
        feats.append(v)
    X = np.stack(feats, -1).astype(np.float64)
    half = lb.shape[1] // 2
    train = valid.copy()
    train[:, half:] = False
    x, y = X[train], (lb[train] == 1).astype(np.float64)
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(5000):
        z = x @ w + b
        p = 1 / (1 + np.exp(-z))
        g = p - y
        w -= 1.0 * (x.T @ g / len(y) + 2e-4 * w)
        b -= 1.0 * g.mean()
    loss = float(np.mean(np.logaddexp(0, x @ w + b) - y * (x @ w + b)))
    pred = (X @ w + b) > 0
    L, R = np.s_[:, :half], np.s_[:, half:]
    out = {"weights": dict(zip([n for n, _, _ in INPUTS], w.tolist())), "bias": b, "train_loss": loss,
           "left_iou": iou(pred[L], lb[L], valid[L]), "right_iou": iou(pred[R], lb[R], valid[R]),
           "rule": "adopt if right_iou >= %.3f" % RULE}
    out["adopted"] = out["right_iou"] >= RULE
    with open(os.path.join(HERE, "water_lr.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

"""Run 2 of WATER_PROTOCOL.md: a small convolutional water model `water-cnn`.

Trains input sets A (four indices) and B (indices + six z-scored bands) on
columns 0-233 of the labelled Sentinel-2 scene, picks the checkpoint and
the set by validation water IoU on columns 234-311, then scores the
candidate once on the right half (columns 312-624) and writes
water_cnn.json (+ the log). Checkpoints: /tmp/water_cnn/{A,B}.pt.

    /usr/bin/python3 models/train/water_cnn.py            # train, choose, score
    /usr/bin/python3 models/train/water_cnn.py --weak     # weak-label check only

Debian python3-torch 1.13 on CPU, one thread.
"""
import argparse
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from osgeo import gdal

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "shared", "data")
SCENE = os.path.join(DATA, "water", "s2-surface-water")
CKPT = "/tmp/water_cnn"
BANDS = ["blue", "green", "red", "nir", "swir1", "swir2"]
S2 = dict(zip(BANDS, ["B02", "B03", "B04", "B08", "B11", "B12"]))
INDICES = [("nd(green,nir)", "green", "nir"), ("nd(green,swir1)", "green", "swir1"),
           ("nd(nir,red)", "nir", "red"), ("nd(swir1,swir2)", "swir1", "swir2")]
SETS = {"A": [i[0] for i in INDICES], "B": [i[0] for i in INDICES] + BANDS}
TRAIN_COLS, VAL_COLS, TEST_COLS = (0, 234), (234, 312), (312, None)
RULE = 0.772
STEPS, EVERY, BUDGET_S, BATCH = 2500, 100, 9 * 60, 8


def nd(a, b):
    """The engine's normalised difference: float64 from the values as read,
    clamped to [-1, 1], float32; ok is False where it is nodata."""
    a, b = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(all="ignore"):
        s = a + b
        v = (a - b) / s
    ok = (s != 0) & np.isfinite(v)
    return np.clip(np.where(ok, v, 0), -1, 1).astype(np.float32), ok


def features(bands, valid):
    """bands: name -> 2-D array (any units). Returns (indices C x H x W,
    bands 6 x H x W float32 as read, valid)."""
    valid = valid.copy()
    idx = []
    for _, a, b in INDICES:
        v, ok = nd(bands[a], bands[b])
        valid &= ok
        idx.append(v)
    raw = np.stack([bands[n].astype(np.float32) for n in BANDS])
    return np.stack(idx), raw, valid


def zscore(x, valid):
    """Dynamic z-score of MANIFEST.md over one patch: per channel over valid
    pixels, float64 statistics, std 0 -> 1, invalid -> 0 (nodata_fill)."""
    out = np.zeros_like(x, dtype=np.float32)
    for c in range(x.shape[0]):
        v = x[c][valid].astype(np.float64)
        m = v.mean() if v.size else 0.0
        s = v.std() if v.size else 1.0
        if s == 0:
            s = 1.0
        out[c] = np.where(valid, (x[c] - m) / s, 0).astype(np.float32)
    return out


def patch(idx, raw, valid, which):
    """Model input of one patch (the engine's: indices as they are, nodata 0;
    bands z-scored over the patch)."""
    x = np.where(valid, idx, 0).astype(np.float32)
    if which == "B":
        x = np.concatenate([x, zscore(raw, valid)])
    return x


class WaterCNN(nn.Module):
    def __init__(self, c):
        super().__init__()
        w = 16
        self.body = nn.Sequential(
            nn.Conv2d(c, w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=2, dilation=2), nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=2, dilation=2), nn.ReLU(),
            nn.Conv2d(w, w, 3, padding=1), nn.ReLU(),
            nn.Conv2d(w, 2, 1))

    def forward(self, x):
        return self.body(x)


def load_scene():
    ds = gdal.Open(os.path.join(SCENE, "S2A_20190817_image.tif"))
    names = [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]
    assert names == [S2[b] for b in BANDS], names
    arr = ds.ReadAsArray()
    bands = {b: arr[i] for i, b in enumerate(BANDS)}
    lb = gdal.Open(os.path.join(SCENE, "S2A_20190817_label.tif")).ReadAsArray()
    valid = ~np.all(arr == 0, axis=0)
    return bands, lb, valid


def iou(pred, ref, valid):
    p, r = pred & valid, (ref == 1) & valid
    return float((p & r).sum() / max(1, (p | r).sum()))


@torch.no_grad()
def predict(net, x):
    net.eval()
    lo = net(torch.from_numpy(x)[None])[0].numpy()
    return lo[1] > lo[0]


def cols(a, c):
    return a[..., c[0]:c[1]] if c[1] else a[..., c[0]:]


def train_set(which, idx, raw, valid, lb, log):
    torch.manual_seed(0)
    rng = random.Random(0)
    c = len(SETS[which])
    net = WaterCNN(c)
    nparam = sum(p.numel() for p in net.parameters())
    opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
    # Training region and the left half (validation is scored on it).
    t0, t1 = TRAIN_COLS
    ti, tr, tv, tl = idx[..., t0:t1], raw[..., t0:t1], valid[:, t0:t1], lb[:, t0:t1]
    li, lr_, lv = idx[..., :VAL_COLS[1]], raw[..., :VAL_COLS[1]], valid[:, :VAL_COLS[1]]
    xl = patch(li, lr_, lv, which)
    H, W = tv.shape
    best, best_step, curve = -1.0, -1, []
    start = time.time()
    log(f"set {which}: {c} inputs {SETS[which]}, {nparam} parameters")
    for step in range(1, STEPS + 1):
        s = rng.randint(64, min(192, W))
        xs, ys, ms = [], [], []
        for _ in range(BATCH):
            r0, c0 = rng.randint(0, H - s), rng.randint(0, W - s)
            sl = (slice(r0, r0 + s), slice(c0, c0 + s))
            v = tv[sl]
            x = patch(ti[(slice(None),) + sl], tr[(slice(None),) + sl], v, which)
            y, m = (tl[sl] == 1).astype(np.int64), v
            k = rng.randint(0, 3)
            x, y, m = np.rot90(x, k, (1, 2)), np.rot90(y, k), np.rot90(m, k)
            if rng.random() < 0.5:
                x, y, m = x[:, :, ::-1], y[:, ::-1], m[:, ::-1]
            xs.append(np.ascontiguousarray(x))
            ys.append(np.ascontiguousarray(y))
            ms.append(np.ascontiguousarray(m))
        net.train()
        out = net(torch.from_numpy(np.stack(xs)))
        loss = nn.functional.cross_entropy(out, torch.from_numpy(np.stack(ys)), reduction="none")
        m = torch.from_numpy(np.stack(ms)).float()
        loss = (loss * m).sum() / m.sum().clamp(min=1)
        opt.zero_grad()
        loss.backward()
        opt.step()
        over = time.time() - start > BUDGET_S
        if step % EVERY == 0 or over or step == STEPS:
            pl = predict(net, xl)
            vi = iou(cols(pl, VAL_COLS), cols(lb[:, :VAL_COLS[1]], VAL_COLS), cols(lv, VAL_COLS))
            ti_ = iou(pl[:, t0:t1], tl, tv)
            curve.append({"step": step, "loss": round(float(loss), 5), "train_iou": round(ti_, 4), "val_iou": round(vi, 4)})
            log(f"  {which} step {step} {time.time() - start:.0f}s loss {float(loss):.4f} train IoU {ti_:.4f} val IoU {vi:.4f}")
            if vi > best:
                best, best_step = vi, step
                torch.save(net.state_dict(), os.path.join(CKPT, which + ".pt"))
        if over:
            log(f"  {which}: wall budget reached at step {step}")
            break
    return {"inputs": SETS[which], "parameters": nparam, "best_val_iou": round(best, 4),
            "best_step": best_step, "steps_run": step, "seconds": round(time.time() - start), "curve": curve}


def load_net(which):
    net = WaterCNN(len(SETS[which]))
    net.load_state_dict(torch.load(os.path.join(CKPT, which + ".pt")))
    return net


def weak_scenes():
    """Scenes of ../shared/data whose bands allow weak labels: (name,
    bands in reflectance, valid, clear)."""
    out = []
    d = os.path.join(DATA, "scenes", "s2-l1c-13band")
    for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        ds = gdal.Open(os.path.join(d, f))
        names = [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]
        a = ds.ReadAsArray().astype(np.float64)
        b = {k: a[names.index(v)] for k, v in S2.items()}
        valid = np.all(np.isfinite(a), 0) & ~np.all(a == 0, 0)
        clear = (b["blue"] < 0.15) & (a[names.index("B10")] < 0.01)
        out.append(("s2-l1c-13band/" + f, b, valid, clear))
    d = os.path.join(DATA, "scenes", "landsat8-sr")
    for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
        ds = gdal.Open(os.path.join(d, f))
        names = [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]
        a = ds.ReadAsArray().astype(np.float64)
        nodata = ds.GetRasterBand(1).GetNoDataValue()
        valid = np.all(np.isfinite(a), 0) & ~np.all(a == 0, 0)
        if nodata is not None:
            valid &= ~np.any(a == nodata, 0)
        a = a * 0.0001
        b = {k: a[names.index(k)] for k in BANDS}
        clear = b["blue"] < 0.15
        out.append(("landsat8-sr/" + f, b, valid, clear))
    return out


def weak_check(which, log):
    net = load_net(which)
    res = []
    for name, b, valid, clear in weak_scenes():
        idx, raw, v = features(b, valid)
        ndwi, mndwi = idx[0], idx[1]
        water = v & clear & (ndwi > 0.2) & (mndwi > 0.2)
        land = v & clear & (ndwi < -0.1) & (mndwi < -0.1)
        lab = water | land
        pred = predict(net, patch(idx, raw, v, which))
        ref = np.where(water, 1, 0)
        r = {"scene": name, "size": list(v.shape), "weak_water_px": int(water.sum()), "weak_land_px": int(land.sum()),
             "cnn_water_iou": round(iou(pred, ref, lab), 4), "ndwi0_water_iou": round(iou(ndwi > 0, ref, lab), 4),
             "cnn_water_on_weak_land": round(float((pred & land).sum() / max(1, land.sum())), 4),
             "ndwi0_water_on_weak_land": round(float(((ndwi > 0) & land).sum() / max(1, land.sum())), 4),
             "cnn_water_px_all": int((pred & v).sum()), "ndwi0_water_px_all": int(((ndwi > 0) & v).sum()),
             "cnn_vs_ndwi0_agreement_all": round(float(((pred == (ndwi > 0)) & v).sum() / max(1, v.sum())), 4)}
        log(f"  weak {json.dumps(r)}")
        res.append(r)
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weak", action="store_true", help="weak-label check of the chosen set only")
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(CKPT, exist_ok=True)
    logf = open(os.path.join(HERE, "water_cnn_log.txt"), "a")

    def log(s):
        print(s, flush=True)
        logf.write(s + "\n")
        logf.flush()

    out_path = os.path.join(HERE, "water_cnn.json")
    if args.weak:
        res = json.load(open(out_path))
        res["weak_check"] = weak_check(res["chosen"], log)
        json.dump(res, open(out_path, "w"), indent=1)
        return
    bands, lb, valid0 = load_scene()
    idx, raw, valid = features(bands, valid0)
    log(f"run 2 {time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, torch {torch.__version__}, threads {torch.get_num_threads()}")
    sets = {w: train_set(w, idx, raw, valid, lb, log) for w in ("A", "B")}
    chosen = "B" if sets["B"]["best_val_iou"] > sets["A"]["best_val_iou"] else "A"
    log(f"chosen by validation IoU: set {chosen} ({sets[chosen]['best_val_iou']} at step {sets[chosen]['best_step']})")
    # The one score of the held-out right half, whole scene as one patch.
    net = load_net(chosen)
    pred = predict(net, patch(idx, raw, valid, chosen))
    right = iou(cols(pred, TEST_COLS), cols(lb, TEST_COLS), cols(valid, TEST_COLS))
    tr = iou(cols(pred, TRAIN_COLS), cols(lb, TRAIN_COLS), cols(valid, TRAIN_COLS))
    va = iou(cols(pred, VAL_COLS), cols(lb, VAL_COLS), cols(valid, VAL_COLS))
    left = iou(pred[:, :312], lb[:, :312], valid[:, :312])
    whole = iou(pred, lb, valid)
    adopted = right >= RULE
    log(f"set {chosen}, whole scene as one patch: IoU train {tr:.4f} val {va:.4f} left {left:.4f} right {right:.4f} whole {whole:.4f}; rule >= {RULE}: {'ADOPTED' if adopted else 'not adopted'}")
    res = {"protocol": "models/train/WATER_PROTOCOL.md run 2", "sets": sets, "chosen": chosen,
           "whole_scene_one_patch": {"train_iou": round(tr, 4), "val_iou": round(va, 4), "left_iou": round(left, 4),
                                     "right_iou": round(right, 4), "whole_iou": round(whole, 4)},
           "rule": RULE, "adopted": adopted}
    json.dump(res, open(out_path, "w"), indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())

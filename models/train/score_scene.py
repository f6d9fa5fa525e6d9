"""Score an `omnimask predict` mask against a synthetic scene's truth
(tools/synthscene: 4 classes; tools/synthscene2: 2 classes, 0 clear 1 cloud).

    /usr/bin/python3 models/train/score_scene.py --pred out/demo/synthetic.tif \
        --truth out/demo/synthetic_truth.tif [--binary] [--json out.json]

Pixels where the truth or the mask is nodata (255) are left out. Reports the
4-class OA (not with --binary), clear / cloud (thick + thin) / shadow OA,
and clear-vs-cloud OA with per-class BOA (shadow counts as not cloud).
"""
import argparse
import json

import numpy as np
import rasterio


def oa(p, t):
    return 100.0 * float((p == t).mean()) if len(t) else float("nan")


def boa(p, t, k):
    tp = ((p == k) & (t == k)).sum()
    tn = ((p != k) & (t != k)).sum()
    pos, neg = (t == k).sum(), (t != k).sum()
    return 100.0 * 0.5 * (tp / max(pos, 1) + tn / max(neg, 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pred", required=True)
    ap.add_argument("--truth", required=True)
    ap.add_argument("--binary", action="store_true", help="truth has two classes (0 clear, 1 cloud)")
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    with rasterio.open(a.pred) as ds:
        p = ds.read(1)
    with rasterio.open(a.truth) as ds:
        t = ds.read(1)
    if p.shape != t.shape:
        raise SystemExit("shape %s vs truth %s" % (p.shape, t.shape))
    m = (t != 255) & (p != 255)
    p, t = p[m].astype(np.int64), t[m].astype(np.int64)
    r = {"pixels": int(m.sum())}
    if not a.binary:
        r["oa4"] = oa(p, t)
        p3 = np.select([p == 0, p <= 2], [0, 1], 2)
        t3 = np.select([t == 0, t <= 2], [0, 1], 2)
        r["oa3"] = oa(p3, t3)
        r["shadow_boa"] = boa(p3, t3, 2)
        tb = (t3 == 1).astype(np.int64)
    else:
        tb = t
    pb = ((p == 1) | (p == 2)).astype(np.int64)
    r["oa2"] = oa(pb, tb)
    r["cloud_boa"] = boa(pb, tb, 1)
    r["cloud_tpr"] = 100.0 * float(pb[tb == 1].mean()) if (tb == 1).any() else float("nan")
    r["clear_tnr"] = 100.0 * float((pb[tb == 0] == 0).mean()) if (tb == 0).any() else float("nan")
    r["pred_cloud_share"] = 100.0 * float(pb.mean())
    print(" ".join("%s %.1f" % (k, v) if isinstance(v, float) else "%s %d" % (k, v) for k, v in r.items()))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f, indent=1)


if __name__ == "__main__":
    main()

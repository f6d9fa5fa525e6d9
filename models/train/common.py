"""Shared data loading, inference and metrics for train.py / evaluate.py."""
import glob
import os
import warnings

import numpy as np
import torch
import torch.nn.functional as F

from zscore import zscore_torch

try:  # rasterio is needed only by the loaders (cv_gpu.py runs without it)
    import rasterio  # noqa: E402
    from rasterio.errors import NotGeoreferencedWarning  # noqa: E402

    warnings.filterwarnings("ignore", category=NotGeoreferencedWarning)
except ImportError:  # pragma: no cover
    rasterio = None

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_DATA = os.path.join(REPO, "..", "shared", "data")

L8_BANDS = (3, 2, 4)  # 1-based rasterio band index of red, green, nir
L8_LABELS = {64: 3, 128: 0, 192: 2, 255: 1}
IGNORE = 255
OCN_CLOUD = 10  # training code for "cloud (thick or thin)" in binary chips


def load_l8(data, split):
    out = []
    for f in sorted(glob.glob(os.path.join(data, "cloud", "l8biome", split, "*_image.tif"))):
        with rasterio.open(f) as ds:
            img = ds.read(list(L8_BANDS)).astype(np.float32)
        with rasterio.open(f.replace("_image.tif", "_mask.tif")) as ds:
            raw = ds.read(1)
        lab = np.full(raw.shape, IGNORE, np.uint8)
        for k, v in L8_LABELS.items():
            lab[raw == k] = v
        out.append((os.path.basename(f)[: -len("_image.tif")], img, lab))
    return out


def load_ocn(data, n):
    d = os.path.join(data, "cloud", "oncloudn-s2", "chip_%d" % n)
    bands = []
    for b in ("B04", "B03", "B08"):
        with rasterio.open(os.path.join(d, b + ".tif")) as ds:
            bands.append(ds.read(1))
    dn = np.stack(bands)
    nodata = np.all(dn == 0, axis=0)
    img = dn.astype(np.float32) * 1e-4
    img[:, nodata] = np.nan
    with rasterio.open(os.path.join(d, "label.tif")) as ds:
        raw = ds.read(1)
    lab = np.full(raw.shape, IGNORE, np.uint8)
    lab[raw == 0] = 0
    lab[raw == 1] = OCN_CLOUD
    lab[nodata] = IGNORE
    return ("chip_%d" % n, img, lab)


def area_down(img, f):
    """Area (mean) downsampling by an integer factor; NaN-aware."""
    c, h, w = img.shape
    h2, w2 = h // f, w // f
    x = img[:, : h2 * f, : w2 * f].reshape(c, h2, f, w2, f)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.nanmean(x, axis=(2, 4)).astype(np.float32)


@torch.no_grad()
def predict(model, img, multiple=16):
    """img: C x H x W reflectance (NaN = nodata). One patch, z-scored, padded
    with nodata to a multiple of `multiple`. Returns H x W class map."""
    c, h, w = img.shape
    H = (h + multiple - 1) // multiple * multiple
    W = (w + multiple - 1) // multiple * multiple
    x = np.full((c, H, W), np.nan, np.float32)
    x[:, :h, :w] = img
    z = zscore_torch(torch.from_numpy(x)[None])
    logits = model(z)
    return logits[0, :, :h, :w].argmax(0).numpy().astype(np.uint8)


def to3(a):
    """4-class map -> 3-class (0 clear, 1 cloud, 2 shadow); keeps IGNORE."""
    out = np.full(a.shape, IGNORE, np.uint8)
    out[a == 0] = 0
    out[(a == 1) | (a == 2) | (a == OCN_CLOUD)] = 1
    out[a == 3] = 2
    return out


class Scores:
    """Pooled confusion matrix, 3 classes (clear, cloud, shadow) or binary."""

    NAMES = ("clear", "cloud", "shadow")

    def __init__(self, binary=False):
        self.binary = binary
        self.k = 2 if binary else 3
        self.cm = np.zeros((self.k, self.k), np.int64)

    def add(self, pred4, lab):
        p = to3(pred4)
        t = to3(lab)
        if self.binary:
            p[p == 2] = 0  # shadow is "not cloud"
        m = t != IGNORE
        self.cm += np.bincount(t[m].astype(np.int64) * self.k + p[m], minlength=self.k * self.k).reshape(self.k, self.k)

    def result(self):
        cm = self.cm.astype(np.float64)
        tot = cm.sum()
        r = {"oa": 100 * np.trace(cm) / max(tot, 1)}
        for i in range(self.k):
            tp = cm[i, i]
            fn = cm[i].sum() - tp
            fp = cm[:, i].sum() - tp
            tn = tot - tp - fn - fp
            tpr = tp / (tp + fn) if tp + fn else float("nan")
            tnr = tn / (tn + fp) if tn + fp else float("nan")
            n = self.NAMES[i]
            r[n + "_boa"] = 100 * (tpr + tnr) / 2
            r[n + "_iou"] = 100 * tp / (tp + fn + fp) if tp + fn + fp else float("nan")
            r[n + "_tpr"] = 100 * tpr
            r[n + "_tnr"] = 100 * tnr
        return r


def upsample_to(p, f, shape):
    """Nearest upsampling by f, edge-padded / cropped to `shape`."""
    p = np.repeat(np.repeat(p, f, 0), f, 1)[: shape[0], : shape[1]]
    ph, pw = shape[0] - p.shape[0], shape[1] - p.shape[1]
    if ph or pw:
        p = np.pad(p, ((0, ph), (0, pw)), mode="edge")
    return p


def eval_l8(model, items, down=1, multiple=16):
    s = Scores()
    for _, img, lab in items:
        x = area_down(img, down) if down > 1 else img
        p = predict(model, x, multiple)
        if down > 1:
            p = upsample_to(p, down, lab.shape)
        s.add(p, lab)
    return s.result()


def eval_ocn(model, items, down=1, multiple=16):
    s = Scores(binary=True)
    for _, img, lab in items:
        x = area_down(img, down) if down > 1 else img
        p = predict(model, x, multiple)
        if down > 1:
            p = upsample_to(p, down, lab.shape)
        s.add(p, lab)
    return s.result()

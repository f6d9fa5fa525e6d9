#!/usr/bin/env python3
"""Evidence for the water product's shadow veto (WATER_PROTOCOL.md, run 3).

Reads only data the threshold may be chosen on: the labelled cloud shadow
of the USGS L8 Biome patches in ../shared (TOA reflectance, manual labels:
64 = shadow) and the left half of the labelled water scene. Prints, per
Biome patch with shadow, the NDWI and MNDWI of its shadow pixels, and the
share of left-half water above candidate NDWI thresholds. It never reads
the right half of the water scene.

Usage: python3 models/train/water_shadow_veto.py [SHARED_DATA]
"""
import glob
import os
import sys

import numpy as np
from osgeo import gdal


def nd(a, b):
    with np.errstate(all="ignore"):
        return (a - b) / (a + b)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "data")
    biome = os.path.join(root, "cloud", "l8biome")
    print("L8 Biome labelled shadow (TOA): NDWI and MNDWI percentiles 50/99/max")
    for f in sorted(glob.glob(os.path.join(biome, "*", "*_image.tif"))):
        a = gdal.Open(f).ReadAsArray().astype(np.float64)
        m = gdal.Open(f.replace("_image", "_mask")).ReadAsArray()
        ndwi, mndwi = nd(a[1], a[3]), nd(a[1], a[4])
        sh = (m == 64) & np.isfinite(ndwi) & np.isfinite(mndwi)
        if not sh.any():
            continue
        q = lambda x: " ".join(f"{v:+.2f}" for v in np.percentile(x[sh], [50, 99, 100]))
        print(f"  {os.path.basename(f)[:-10]:20s} {sh.sum():6d} px  NDWI {q(ndwi)}  MNDWI {q(mndwi)}"
              f"  NDWI>=0.2 {np.mean(ndwi[sh] >= 0.2):.3f}")
    scene = os.path.join(root, "water", "s2-surface-water")
    img = gdal.Open(os.path.join(scene, "S2A_20190817_image.tif")).ReadAsArray().astype(np.float64)
    lab = gdal.Open(os.path.join(scene, "S2A_20190817_label.tif")).ReadAsArray()
    W = lab.shape[1]
    ndwi = nd(img[1], img[3])[:, : W // 2]  # left half only
    water = lab[:, : W // 2] == 1
    print("left half of the water scene: share of labelled water with NDWI >= t")
    for t in (0.1, 0.15, 0.2, 0.25):
        print(f"  t {t:.2f}: {np.mean(ndwi[water] >= t):.3f}")


if __name__ == "__main__":
    main()

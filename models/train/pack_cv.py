"""Pack the run 5 development data (L8 Biome train + val + extra, On Cloud N
chips 1-3; red, green, nir only) into one .npz for cv_gpu.py, which runs
without rasterio (e.g. on a GPU machine). The held-out sets (L8 Biome test,
On Cloud N chips 4-5) are never packed.

    /usr/bin/python3 models/train/pack_cv.py --data /work/shared/data --out /tmp/cvdata.npz

Never commit the output (it is derived from ../shared/data).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DEFAULT_DATA, load_l8, load_ocn  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    names, imgs, labs, splits = [], [], [], []
    for split in ("train", "val", "extra"):
        for n, img, lab in load_l8(a.data, split):
            names.append(n)
            imgs.append(img.astype(np.float16))
            labs.append(lab)
            splits.append(split)
    onames, oimgs, olabs = [], [], []
    for k in (1, 2, 3):
        n, img, lab = load_ocn(a.data, k)
        onames.append(n)
        oimgs.append(img.astype(np.float16))  # reflectance, NaN = nodata
        olabs.append(lab)
    np.savez_compressed(a.out, l8_names=np.array(names), l8_splits=np.array(splits),
                        l8_img=np.stack(imgs), l8_lab=np.stack(labs),
                        ocn_names=np.array(onames), ocn_img=np.stack(oimgs), ocn_lab=np.stack(olabs))
    print("wrote", a.out, os.path.getsize(a.out), "bytes:", len(names), "L8 patches,", len(onames), "On Cloud N chips")


if __name__ == "__main__":
    main()

"""Write testdata/zscore/vectors.json: reference cases for the Go z-score,
computed with models/train/zscore.py. NaN inputs are encoded as the string
"NaN" (JSON has no NaN); +-Inf as "Inf" / "-Inf".

    /usr/bin/python3 models/train/gen_zscore_vectors.py
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zscore import zscore  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def enc(v):
    if np.isnan(v):
        return "NaN"
    if np.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    return float(v)


def case(name, x, nodata):
    x = np.asarray(x, np.float32)
    c, h, w = x.shape
    y = zscore(x, nodata=nodata, fill=0.0)
    return {"name": name, "c": c, "h": h, "w": w, "nodata": nodata, "nodata_fill": 0,
            "input": [enc(v) for v in x.ravel()], "expected": [float(v) for v in y.ravel()]}


def main():
    rng = np.random.RandomState(42)
    cases = []
    # 1. plain reflectances, no nodata value
    x = rng.uniform(0, 0.6, (3, 5, 7)).round(4)
    cases.append(case("plain", x, None))
    # 2. nodata = 0: some pixels 0 in all bands (invalid), one pixel 0 in one band only (valid)
    x = rng.randint(1, 10000, (3, 5, 7)).astype(np.float32)
    x[:, 0, 0] = 0
    x[:, 2, 3] = 0
    x[:, 4, 6] = 0
    x[1, 1, 1] = 0
    cases.append(case("nodata_zero", x, 0))
    # 3. a NaN pixel in one band (whole pixel invalid) and an +Inf pixel
    x = rng.uniform(0, 1, (3, 5, 7)).round(4)
    x[2, 1, 4] = np.nan
    x[0, 3, 2] = np.inf
    cases.append(case("nan_inf", x, None))
    # 4. constant channel (std 0 -> std 1) with nodata -9999
    x = rng.uniform(0, 1, (3, 5, 7)).round(4)
    x[1] = 0.25
    x[:, 4, :] = -9999
    cases.append(case("constant_channel", x, -9999))
    # 5. all pixels nodata -> all nodata_fill
    x = np.zeros((3, 5, 7), np.float32)
    cases.append(case("all_nodata", x, 0))
    # 6. single valid pixel (std 0 in every channel) and NaN nodata value semantics via NaN pixels
    x = np.full((3, 5, 7), np.nan, np.float32)
    x[:, 2, 2] = [0.1, 0.2, 0.3]
    cases.append(case("single_valid_pixel", x, None))
    # 7. larger values: float64 statistics matter (mean 10000, small spread)
    x = (10000 + rng.uniform(0, 1, (3, 5, 7))).astype(np.float32)
    cases.append(case("large_offset", x, None))
    out = os.path.join(REPO, "testdata", "zscore", "vectors.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"definition": "models/MANIFEST.md dynamic z-score; float32 output; tolerance 1e-5 relative",
                   "cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote", out, len(cases), "cases")


if __name__ == "__main__":
    main()

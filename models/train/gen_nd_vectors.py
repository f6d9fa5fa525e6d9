"""Write testdata/derived/vectors.json: reference cases for the engine's
derived inputs (nd(a,b) = (a - b) / (a + b)), computed with numpy.

The rule: a pixel is nodata when a or b is NaN/+-Inf, or both equal the
nodata value; the index is computed in float64 from the float32 values,
undefined (NaN) where a + b == 0 or the result is not finite, clamped to
[-1, 1] and rounded to float32. NaN is encoded as the string "NaN".

    /usr/bin/python3 models/train/gen_nd_vectors.py
"""
import json
import os

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def enc(v):
    v = float(v)
    if np.isnan(v):
        return "NaN"
    if np.isinf(v):
        return "Inf" if v > 0 else "-Inf"
    return v


def nd(a, b, nodata):
    a = np.asarray(a, np.float32)
    b = np.asarray(b, np.float32)
    valid = np.isfinite(a) & np.isfinite(b)
    if nodata is not None:
        valid &= ~((a == np.float32(nodata)) & (b == np.float32(nodata)))
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(all="ignore"):
        s = a64 + b64
        v = (a64 - b64) / s
    ok = valid & (s != 0) & np.isfinite(v)
    v = np.clip(np.where(ok, v, 0), -1, 1).astype(np.float32)
    return np.where(ok, v, np.float32(np.nan)).astype(np.float32)


def case(name, a, b, nodata=None):
    return {"name": name, "nodata": nodata, "a": [enc(x) for x in np.asarray(a, np.float32)],
            "b": [enc(x) for x in np.asarray(b, np.float32)], "expected": [enc(x) for x in nd(a, b, nodata)]}


def main():
    rng = np.random.default_rng(14)
    cases = [
        case("uint16 reflectance", rng.integers(1, 10000, 64), rng.integers(1, 10000, 64), 0),
        case("float reflectance", rng.uniform(0, 1, 64), rng.uniform(0, 1, 64)),
        case("gain invariance x 10000", rng.uniform(0, 1, 16) * 10000, rng.uniform(0, 1, 16) * 10000),
        case("zero denominators", [0, 0, 5, -5, 3, 1e-30], [0, 5, 0, 5, -3, -1e-30], None),
        case("nodata both and one", [0, 0, 7, 0, -9999, -9999], [0, 4, 0, 0, -9999, 12], 0),
        case("nodata -9999", [-9999, -9999, 100, 200], [-9999, 50, -9999, 200], -9999),
        case("nan and inf", ["NaN", 1, "Inf", 2, "-Inf", 3], [1, "NaN", 1, "Inf", 1, 3], None),
        case("negative reflectance clamps", [-0.02, 0.05, -0.01, 0.3], [0.03, -0.04, -0.02, 0.1], None),
        case("index equal to the nodata value is data", [5, 9, 1], [5, 1, 9], 0),
        case("large dn", [65535, 65534, 1], [1, 65535, 65535], 0),
    ]
    path = os.path.join(REPO, "testdata", "derived", "vectors.json")
    with open(path, "w") as f:
        json.dump({"generator": "models/train/gen_nd_vectors.py", "cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote", path, len(cases), "cases")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Reference vectors for the softcon normalisation (numpy, float64).

SoftCon / SSL4EO-S12 encoders normalise each band with its dataset mean and
std as  (x - (mean - 2 std)) / (4 std) * 255, clipped to [0, 255] and cast to
uint8 (truncation), optionally then divided by 255; per-band scale/offset
(x * scale + offset) come first. Writes softcon_vectors.json next to this
file; embed/normalize_test.go must match it bit for bit.
"""
import json
import os

import numpy as np

rng = np.random.default_rng(7)
C, S = 3, 8
# Sentinel-2 L1C statistics of three SSL4EO-S12 bands (B2, B3, B4), DN
mean = np.array([1353.73, 1117.20, 1041.88])
std = np.array([897.27, 736.02, 684.77])
scale = np.array([1.0, 1.0, 0.5])
offset = np.array([-1000.0, -1000.0, 0.0])
x = rng.uniform(-2000, 12000, size=(C, S, S)).astype(np.float32)
x[0, 0, :4] = [0, 12000, -5000, 1000]  # clipped both ways, an exact offset
cases = []
for unit in (False, True):
    v = x.astype(np.float64) * scale[:, None, None] + offset[:, None, None]
    y = (v - (mean - 2 * std)[:, None, None]) / (4 * std)[:, None, None] * 255
    y = np.clip(y, 0, 255).astype(np.uint8).astype(np.float64)
    if unit:
        y = y / 255
    cases.append({"unit": unit, "output": y.astype(np.float32).flatten().tolist()})
out = {"shape": [C, S, S], "mean": mean.tolist(), "std": std.tolist(), "scale": scale.tolist(),
       "offset": offset.tolist(), "input": x.flatten().tolist(), "cases": cases}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "softcon_vectors.json"), "w") as f:
    json.dump(out, f)
print("wrote softcon_vectors.json")

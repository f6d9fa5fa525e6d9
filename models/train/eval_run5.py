"""Held-out evaluation of run 5 models (cv_gpu.py output: fp16 state dicts),
single or as a logit-averaging ensemble. Run only after the protocol's choice
(PROTOCOL_run5.md); numbers are for information.

    /usr/bin/python3 models/train/eval_run5.py --data /work/shared/data \
        --models final_A.pt [folds_A_0.pt folds_A_1.pt] [--ensemble] --json out.json
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DEFAULT_DATA, area_down, load_l8, load_ocn, Scores, upsample_to, predict  # noqa: E402
from cv_gpu import build  # noqa: E402


class Mean(nn.Module):
    """Average of the members' logits (what `omnimask --model a --model b` does)."""

    def __init__(self, members):
        super().__init__()
        self.m = nn.ModuleList(members)

    def forward(self, x):
        return sum(m(x) for m in self.m) / len(self.m)


def load(path):
    """Returns [(name, model)]: one entry for a single model file, one per
    fold for a packed fold file."""
    ck = torch.load(path, map_location="cpu")
    items = [(os.path.basename(path), ck)] if "state" in ck else \
        [("%s:fold%d" % (os.path.basename(path), k), v) for k, v in sorted(ck.items())]
    out = []
    for name, c in items:
        m = build(c["arch"])
        m.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in c["state"].items()})
        out.append((name, m.eval(), 32 if c["arch"] == "mnv2" else 16))
    return out


def score(model, items, down, binary, mult):
    s = Scores(binary=binary)
    for _, img, lab in items:
        x = area_down(img, down) if down > 1 else img
        p = predict(model, x, multiple=mult)
        if down > 1:
            p = upsample_to(p, down, lab.shape)
        s.add(p, lab)
    return s.result()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--models", nargs="+", required=True)
    ap.add_argument("--ensemble", action="store_true", help="also score the mean of all loaded models")
    ap.add_argument("--json", default="")
    a = ap.parse_args()
    torch.set_num_threads(2)
    models = [m for p in a.models for m in load(p)]
    if a.ensemble and len(models) > 1:
        models.append(("ensemble(%d)" % len(models), Mean([m for _, m, _ in models]).eval(),
                       max(k for _, _, k in models)))
    test = load_l8(a.data, "test")
    ocn = [load_ocn(a.data, n) for n in (4, 5)]
    res = {}
    for name, m, mult in models:
        with torch.no_grad():
            r = {"l8_test_30m": score(m, test, 1, False, mult), "l8_test_60m": score(m, test, 2, False, mult),
                 "ocn45_10m": score(m, ocn, 1, True, mult), "ocn45_30m": score(m, ocn, 3, True, mult)}
        res[name] = r
        t30, t60, o = r["l8_test_30m"], r["l8_test_60m"], r["ocn45_10m"]
        print("%-26s L8 test 30m OA %.1f clear/cloud/shadow %.1f/%.1f/%.1f | 60m %.1f/%.1f/%.1f | OCN 4-5 cloud 10m %.1f 30m %.1f"
              % (name, t30["oa"], t30["clear_boa"], t30["cloud_boa"], t30["shadow_boa"], t60["clear_boa"],
                 t60["cloud_boa"], t60["shadow_boa"], o["cloud_boa"], r["ocn45_30m"]["cloud_boa"]), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()

"""Held-out evaluation of the exported model (full-image inference, one patch
per image, dynamic z-score, nodata padding to a multiple of 16 or 32, see --multiple).

    /usr/bin/python3 models/train/evaluate.py --data /work/shared/data \
        --model models/omnicloud.torchscript.pt [--json out.json]

Sets:
  * L8 Biome test split (3 classes clear / cloud (thick+thin) / shadow) at
    30 m (native) and at 60 m (2x area-downsampled input, prediction
    nearest-upsampled back to the 30 m labels);
  * On Cloud N chips 4-5 (binary clear vs cloud) at native 10 m, and for
    information at 30 m (3x) and 60 m (6x).
BOA_c = (TPR_c + TNR_c) / 2, one-vs-rest, over the pooled pixels of a set.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DEFAULT_DATA, REPO, eval_l8, eval_ocn, load_l8, load_ocn  # noqa: E402


def load_model(path):
    if path.endswith(".pt") and "torchscript" in os.path.basename(path):
        return torch.jit.load(path, map_location="cpu").eval()
    from model import CloudUNet
    ck = torch.load(path, map_location="cpu")
    m = CloudUNet(w=tuple(ck["width"]))
    m.load_state_dict(ck["state"])
    return m.eval()


def fmt(name, r, binary=False):
    keys = ["clear", "cloud"] + ([] if binary else ["shadow"])
    s = "%-28s OA %5.1f" % (name, r["oa"])
    for k in keys:
        s += " | %s BOA %5.1f IoU %5.1f" % (k, r[k + "_boa"], r[k + "_iou"])
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--model", default=os.path.join(REPO, "models", "omnicloud.torchscript.pt"))
    ap.add_argument("--split", default="test", help="l8biome split (test = held out)")
    ap.add_argument("--json", default="")
    ap.add_argument("--multiple", type=int, default=0,
                    help="pad images to a multiple of this; 0: 32 for a TorchScript file (the default "
                         "omnicloud 2.0.0 is a stride-32 MobileNetV2 U-Net), 16 for a CloudUNet checkpoint")
    a = ap.parse_args()
    torch.set_num_threads(2)
    model = load_model(a.model)
    mult = a.multiple or (32 if isinstance(model, torch.jit.ScriptModule) else 16)
    res = {}
    l8 = load_l8(a.data, a.split)
    res["l8_%s_30m" % a.split] = eval_l8(model, l8, multiple=mult)
    res["l8_%s_60m" % a.split] = eval_l8(model, l8, down=2, multiple=mult)
    if a.split == "test":
        ocn = [load_ocn(a.data, n) for n in (4, 5)]
        res["ocn_chips45_10m"] = eval_ocn(model, ocn, multiple=mult)
        res["ocn_chips45_30m"] = eval_ocn(model, ocn, down=3, multiple=mult)
        res["ocn_chips45_60m"] = eval_ocn(model, ocn, down=6, multiple=mult)
    for k, r in res.items():
        print(fmt(k, r, binary=k.startswith("ocn")))
    d = res["l8_%s_60m" % a.split]["cloud_boa"] - res["l8_%s_30m" % a.split]["cloud_boa"]
    print("L8 cloud BOA change 30 m -> 60 m: %+.2f points" % d)
    # per-image cloud BOA at 30 vs 60 m
    from common import Scores  # noqa
    for name, img, lab in l8:
        r30 = eval_l8(model, [(name, img, lab)], multiple=mult)
        r60 = eval_l8(model, [(name, img, lab)], down=2, multiple=mult)
        print("  %-22s cloud BOA 30m %5.1f 60m %5.1f | shadow BOA 30m %5.1f 60m %5.1f"
              % (name, r30["cloud_boa"], r60["cloud_boa"], r30["shadow_boa"], r60["shadow_boa"]))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()

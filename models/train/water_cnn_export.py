"""Export the chosen `water-cnn` checkpoint (WATER_PROTOCOL.md run 2) to
models/builtin/water-cnn.onnx: opset 17, dynamic N/H/W, manifest in
metadata_props["omnimask.manifest"], checked with onnx.checker.

    /usr/bin/python3 models/train/water_cnn_export.py [--ckpt /tmp/water_cnn/B.pt] [--out PATH]
    /usr/bin/python3 models/train/water_cnn_export.py --manifest-only   # rewrite the manifest of --out only

The supported resolution range (min/max_resolution_m) is WATER_PROTOCOL.md
run 4's rule: the training resolution (10 m, no rescaling in the
augmentation) times a factor of sqrt(2) either way, rounded to 0.01 m.

Debian python3-torch 1.13 and python3-onnx 1.12.
"""
import argparse
import json
import math
import os

import onnx
import torch

import water_cnn as wc

HERE = os.path.dirname(os.path.abspath(__file__))

TRAINED_M = 10  # the labelled scene's pixel size; water_cnn.py never rescales it

CLASSES = [
    {"id": 0, "name": "land", "color": [150, 130, 90]},
    {"id": 1, "name": "water", "color": [30, 90, 210]},
]


def manifest(which):
    res = json.load(open(os.path.join(HERE, "water_cnn.json")))
    r = res["whole_scene_one_patch"]
    return {
        "name": "water-cnn", "version": "1.0.0",
        "description": ("Small convolutional water model (4 conv layers, %d parameters, receptive field 13 px) on "
                        "NDWI, MNDWI, NDVI and nd(swir1,swir2)%s; trained on the left half of one labelled Sentinel-2 "
                        "L2A scene (models/WATER.md): water IoU %.3f on its held-out right half. Needs green, red, "
                        "nir, swir1, swir2." % (res["sets"][which]["parameters"],
                                                " plus six z-scored bands" if which == "B" else "", r["right_iou"])),
        "bands": wc.SETS[which], "resolution_m": TRAINED_M,
        "min_resolution_m": round(TRAINED_M / math.sqrt(2), 2), "max_resolution_m": round(TRAINED_M * math.sqrt(2), 2),
        "normalization": {"kind": "zscore" if which == "B" else "none"}, "nodata_fill": 0,
        "patch_size": 512, "overlap": 32, "size_multiple": 1,
        "output": "logits", "classes": CLASSES,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=None, help="checkpoint (default: the chosen set's in /tmp/water_cnn)")
    ap.add_argument("--out", default=os.path.join(HERE, "..", "builtin", "water-cnn.onnx"))
    ap.add_argument("--manifest-only", action="store_true", help="rewrite the manifest of --out, keep its graph and weights")
    a = ap.parse_args()
    which = json.load(open(os.path.join(HERE, "water_cnn.json")))["chosen"]
    if a.manifest_only:
        m = onnx.load(a.out)
        del m.metadata_props[:]
        onnx.helper.set_model_props(m, {"omnimask.manifest": json.dumps(manifest(which), separators=(",", ":"))})
        onnx.checker.check_model(m)
        onnx.save(m, a.out)
        print("rewrote the manifest of", os.path.normpath(a.out))
        return
    net = wc.WaterCNN(len(wc.SETS[which]))
    net.load_state_dict(torch.load(a.ckpt or os.path.join(wc.CKPT, which + ".pt")))
    net.eval()
    x = torch.zeros(1, len(wc.SETS[which]), 64, 64)
    torch.onnx.export(net, x, a.out, opset_version=17, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N", 2: "H", 3: "W"}})
    m = onnx.load(a.out)
    m.producer_name = "omnimask water_cnn_export.py"
    onnx.helper.set_model_props(m, {"omnimask.manifest": json.dumps(manifest(which), separators=(",", ":"))})
    onnx.checker.check_model(m)
    onnx.save(m, a.out)
    print("wrote", os.path.normpath(a.out), "set", which, os.path.getsize(a.out), "bytes")


if __name__ == "__main__":
    main()

"""Export a trained CloudUNet to ONNX (opset 17, manifest embedded) and
TorchScript.

    /usr/bin/python3 models/train/export.py --ckpt /tmp/omnicloud_train/best.pt
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import REPO  # noqa: E402
from model import STRIDE, CloudUNet  # noqa: E402

MANIFEST = {
    "name": "omnicloud-rgn",
    "version": "1.0.0",
    "description": "Compact sensor-agnostic cloud and cloud-shadow segmentation (red, green, nir; "
                   "dynamic z-score; trained at 10-60 m on Landsat 8 Biome and On Cloud N Sentinel-2). "
                   "Contains data from the Sentinel-2 Cloud Cover Segmentation Dataset (Radiant Earth, CC-BY-4.0) "
                   "and USGS Landsat 8 Biome (public domain).",
    "bands": ["red", "green", "nir"],
    "resolution_m": 30,
    "min_resolution_m": 10,
    "max_resolution_m": 60,
    "normalization": {"kind": "zscore"},
    "nodata_fill": 0,
    "patch_size": 512,
    "overlap": 128,
    "size_multiple": STRIDE,
    "output": "logits",
    "classes": [
        {"id": 0, "name": "clear", "color": [60, 160, 60]},
        {"id": 1, "name": "thick_cloud", "color": [255, 255, 255]},
        {"id": 2, "name": "thin_cloud", "color": [170, 200, 255]},
        {"id": 3, "name": "cloud_shadow", "color": [90, 60, 30]},
    ],
}


def export(model, out_dir, ts_path, extra=None, onnx_name="omnicloud.onnx"):
    import onnx
    model = model.eval()
    os.makedirs(out_dir, exist_ok=True)
    onnx_path = os.path.join(out_dir, onnx_name)
    x = torch.randn(1, 3, 64, 96)
    torch.onnx.export(
        model, x, onnx_path, opset_version=17, input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N", 2: "H", 3: "W"}},
        do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL,
    )
    m = onnx.load(onnx_path)
    del m.metadata_props[:]
    p = m.metadata_props.add()
    p.key = "omnimask.manifest"
    p.value = json.dumps(MANIFEST)
    m.producer_name = "omnimask-train"
    if extra:
        m.doc_string = json.dumps(extra)
    onnx.checker.check_model(m)
    onnx.save(m, onnx_path)
    print("wrote", onnx_path, os.path.getsize(onnx_path), "bytes")

    ts = torch.jit.trace(model, torch.randn(1, 3, 128, 128))
    ts = torch.jit.freeze(ts)
    ts.save(ts_path)
    # check TorchScript against eager on another shape and batch size
    ts2 = torch.jit.load(ts_path)
    with torch.no_grad():
        for shape in [(2, 3, 96, 160), (1, 3, 256, 256)]:
            x = torch.randn(*shape)
            d = (ts2(x) - model(x)).abs().max().item()
            print("torchscript vs eager", shape, "max abs diff %.2e" % d)
            assert d < 1e-4
    print("wrote", ts_path, os.path.getsize(ts_path), "bytes")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default="/tmp/omnicloud_train/best.pt")
    ap.add_argument("--out", default=os.path.join(REPO, "models", "builtin"))
    ap.add_argument("--torchscript", default=os.path.join(REPO, "models", "omnicloud.torchscript.pt"))
    ap.add_argument("--onnx-name", default="omnicloud.onnx", help="file name in --out (omnicloud-v1.onnx as shipped)")
    a = ap.parse_args()
    torch.set_num_threads(2)
    ck = torch.load(a.ckpt)
    net = CloudUNet(w=tuple(ck["width"]))
    net.load_state_dict(ck["state"])
    export(net, a.out, a.torchscript, extra={"best_iter": ck.get("it")}, onnx_name=a.onnx_name)

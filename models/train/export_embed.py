"""Export the built-in `mobilenetv2-imagenet` embedding encoder to ONNX.

    /usr/bin/python3 models/train/export_embed.py \
        --weights ../shared/pretrained/mobilenet_v2_imagenet_torchvision.pth

Reads the ImageNet MobileNetV2 1.0 weights from ../shared/pretrained (torchvision
layout, converted from TensorFlow / google-coral test_data, Apache-2.0; batch norm
already folded into the convolutions). The encoder is torchvision's `features`
(all 19 blocks, ending in the 1x1 1280-channel convolution + ReLU6): output
N x 1280 x H/32 x W/32, the stride-32 dense feature map. The pooled 1280-D
embedding of a chip is the mean of that map over H and W (for a 32 px chip the
map is 1x1 and is the embedding).

TFLite pads stride-2 3x3 convolutions bottom/right only ('SAME' for even input
sizes); every such convolution is rebuilt as ZeroPad2d((0, 1, 0, 1)) + an
unpadded convolution (mnv2unet._tflite_pad), exact for inputs that are multiples
of 32 (size_multiple 32 keeps every stride-2 input even).

Input scaling: the network expects RGB in [-1, 1]. The manifest maps top-of-
atmosphere or surface reflectance with a true-colour stretch: (x - 0.15) / 0.15,
i.e. reflectance 0..0.3 -> -1..1 (brighter pixels, clouds, exceed 1).

Writes models/builtin/mobilenetv2-imagenet.onnx (manifest embedded) and
testdata/embed/mnv2_parity.json: a fixed random input and PyTorch's output, which
the Go test (models/embed_parity_test.go) checks ONNX Runtime against (<= 1e-4).
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from mnv2unet import _tflite_pad  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))

MANIFEST = {
    "name": "mobilenetv2-imagenet",
    "version": "1.0.0",
    "task": "embedding",
    "description": "ImageNet MobileNetV2 1.0 encoder (torchvision features, TFLite bottom/right padding), "
                   "stride-32 1280-channel feature map; chip embedding = its spatial mean. "
                   "MobileNetV2 ImageNet weights from TensorFlow / google-coral test_data (Apache-2.0).",
    "bands": ["red", "green", "blue"],
    "resolution_m": 30,
    "input_units": "reflectance",
    "normalization": {"kind": "fixed", "mean": [0.15, 0.15, 0.15], "std": [0.15, 0.15, 0.15]},
    "nodata_fill": 0,
    "patch_size": 512,
    "overlap": 128,
    "size_multiple": 32,
    "output": "embedding",
    "embedding_dim": 1280,
    "output_stride": 32,
}


class Encoder(nn.Module):
    def __init__(self, weights):
        super().__init__()
        import torchvision
        mb = torchvision.models.mobilenet_v2()
        mb.load_state_dict(torch.load(weights, map_location="cpu"))
        _tflite_pad(mb.features)
        self.features = mb.features
        self.classifier = mb.classifier  # kept for the ImageNet sanity check only

    def forward(self, x):
        return self.features(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", default=os.path.join(REPO, "..", "shared", "pretrained",
                                                      "mobilenet_v2_imagenet_torchvision.pth"))
    ap.add_argument("--out", default=os.path.join(REPO, "models", "builtin", "mobilenetv2-imagenet.onnx"))
    ap.add_argument("--parity", default=os.path.join(REPO, "testdata", "embed", "mnv2_parity.json"))
    a = ap.parse_args()
    import onnx

    torch.manual_seed(0)
    enc = Encoder(a.weights).eval()
    x = torch.randn(1, 3, 64, 96)
    torch.onnx.export(
        enc, x, a.out, opset_version=17, input_names=["input"], output_names=["embedding"],
        dynamic_axes={"input": {0: "N", 2: "H", 3: "W"}, "embedding": {0: "N", 2: "h", 3: "w"}},
        do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL,
    )
    m = onnx.load(a.out)
    del m.metadata_props[:]
    p = m.metadata_props.add()
    p.key = "omnimask.manifest"
    p.value = json.dumps(MANIFEST)
    m.producer_name = "omnimask-export-embed"
    onnx.checker.check_model(m)
    onnx.save(m, a.out)
    print("wrote", a.out, os.path.getsize(a.out), "bytes")

    # Parity reference: RGB-like input in [-1.2, 1.2], two chips of 32x64.
    g = torch.Generator().manual_seed(1)
    xin = torch.rand(2, 3, 32, 64, generator=g) * 2.4 - 1.2
    with torch.no_grad():
        y = enc(xin)
    os.makedirs(os.path.dirname(a.parity), exist_ok=True)
    with open(a.parity, "w") as f:
        json.dump({"input_shape": list(xin.shape), "input": [round(v, 7) for v in xin.flatten().tolist()],
                   "output_shape": list(y.shape), "output": y.flatten().tolist()}, f)
    # the rounded input is what the Go test feeds: recompute the output from it
    with open(a.parity) as f:
        d = json.load(f)
    xr = torch.tensor(d["input"], dtype=torch.float32).reshape(d["input_shape"])
    with torch.no_grad():
        d["output"] = enc(xr).flatten().tolist()
    with open(a.parity, "w") as f:
        json.dump(d, f)
    print("wrote", a.parity, "output", list(y.shape), "max |y|", float(y.abs().max()))


if __name__ == "__main__":
    main()

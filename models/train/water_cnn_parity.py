"""PyTorch side of the water-cnn parity test (engine/water_cnn_test.go).

Reads raw bands (6 x H x W float32 .npy, order blue green red nir swir1
swir2, 0 = nodata), computes the model's inputs the way WATER_PROTOCOL.md
run 2 trained on (indices as the engine computes them, bands z-scored over
the whole input as one patch), loads the weights from the ONNX file into
the PyTorch WaterCNN, and writes its logits (2 x H x W float32 .npy).

    /usr/bin/python3 models/train/water_cnn_parity.py --model models/builtin/water-cnn.onnx --input bands.npy --output logits.npy
"""
import argparse
import json

import numpy as np
import onnx
import torch
from onnx import numpy_helper

import water_cnn as wc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    m = onnx.load(a.model)
    man = json.loads({p.key: p.value for p in m.metadata_props}["omnimask.manifest"])
    which = "B" if len(man["bands"]) == len(wc.SETS["B"]) else "A"
    assert man["bands"] == wc.SETS[which], man["bands"]
    net = wc.WaterCNN(len(wc.SETS[which]))
    inits = {i.name: torch.from_numpy(numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    net.load_state_dict({k: inits[k] for k in net.state_dict()})
    raw = np.load(a.input).astype(np.float32)
    bands = dict(zip(wc.BANDS, raw))
    valid = ~np.all(raw == 0, axis=0)
    idx, r, v = wc.features(bands, valid)
    x = wc.patch(idx, r, v, which)
    with torch.no_grad():
        y = net.eval()(torch.from_numpy(x)[None])[0].numpy().astype(np.float32)
    np.save(a.output, y)


if __name__ == "__main__":
    main()

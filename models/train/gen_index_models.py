"""Write the built-in index water models models/builtin/ndwi-water.onnx and
models/builtin/mndwi-water.onnx.

Each model takes one derived input, the index the engine computes from the
scene's bands (manifest input "nd(green,nir)" or "nd(green,swir1)", not
normalised; see models/MANIFEST.md), and turns it into two logits, land
and water: water - land = K * (index - t), so that the mask is water where
the index exceeds t and the probability of water is 0.5 there. t comes
from water_thresholds.json (chosen on the left half of the labelled scene
only, see water_thresholds.py); K = 20 makes the probability 0.88 at
t + 0.1. The graph is Sub, Mul, Neg, Concat: any ONNX Runtime runs it.

Needs Debian's python3-onnx (1.12):

    /usr/bin/python3 models/train/gen_index_models.py
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
BUILTIN = os.path.join(HERE, "..", "builtin")
K = 20.0

CLASSES = [
    {"id": 0, "name": "land", "color": [150, 130, 90]},
    {"id": 1, "name": "water", "color": [30, 90, 210]},
]


def build(name, index, t, description):
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 1, "H", "W"])
    y = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 2, "H", "W"])
    inits = [numpy_helper.from_array(np.array(t, np.float32), "threshold"),
             numpy_helper.from_array(np.array(K / 2, np.float32), "half_gain")]
    nodes = [
        helper.make_node("Sub", ["input", "threshold"], ["centred"]),
        helper.make_node("Mul", ["centred", "half_gain"], ["water"]),
        helper.make_node("Neg", ["water"], ["land"]),
        helper.make_node("Concat", ["land", "water"], ["logits"], axis=1),
    ]
    graph = helper.make_graph(nodes, name, [x], [y], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="omnimask gen_index_models.py")
    model.ir_version = 8
    manifest = {
        "name": name, "version": "1.0.0", "description": description,
        "bands": [index], "resolution_m": 10,
        "normalization": {"kind": "none"}, "nodata_fill": 0,
        "patch_size": 512, "overlap": 0, "size_multiple": 1,
        "output": "logits", "classes": CLASSES,
    }
    helper.set_model_props(model, {"omnimask.manifest": json.dumps(manifest, separators=(",", ":"))})
    onnx.checker.check_model(model)
    path = os.path.join(BUILTIN, name + ".onnx")
    onnx.save(model, path)
    print("wrote", os.path.normpath(path), "threshold", t)


def main():
    with open(os.path.join(HERE, "water_thresholds.json")) as f:
        th = json.load(f)
    build("ndwi-water", "nd(green,nir)", th["ndwi"]["threshold"],
          "Water where NDWI = (green - nir) / (green + nir) > %g (McFeeters' index; threshold chosen on half of a labelled Sentinel-2 scene). Needs no SWIR band; invariant to a common gain of the bands, not to offsets." % th["ndwi"]["threshold"])
    build("mndwi-water", "nd(green,swir1)", th["mndwi"]["threshold"],
          "Water where MNDWI = (green - swir1) / (green + swir1) > %g (Xu's modified index; threshold chosen on half of a labelled Sentinel-2 scene). Needs a SWIR band near 1.6 um; invariant to a common gain of the bands, not to offsets." % th["mndwi"]["threshold"])


if __name__ == "__main__":
    main()

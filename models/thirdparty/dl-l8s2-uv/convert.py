#!/usr/bin/python3
"""Convert IPL-UV's DL-L8S2-UV cloud detection U-Nets (Keras HDF5) to ONNX
models omnimask runs, with their manifests, and write parity data.

    convert.py [--weights DIR] [--out DIR]

reads DIR/landsatbiomeRGBI6.hdf5 and DIR/landsatbiomeRGBISWIR7.hdf5 (default
../shared/pretrained, see README.md) with h5py only (no TensorFlow), and
writes into --out (default out/models, git-ignored):

    dl-l8s2-uv-rgbi.onnx       4 bands: blue, green, red, nir (Landsat 8 B2-B5)
    dl-l8s2-uv-rgbiswir.onnx   6 bands: + swir1, swir2 (B6, B7)

Each carries its manifest in metadata_props (omnimask.manifest): top-of-
atmosphere reflectance input (input_units reflectance; the network's first
1x1 convolution is its own normalisation), one sigmoid channel = cloud
probability, threshold 0.5 as in the original inference code.

For the parity check, each model also gets NAME.parity.json with a random
reflectance patch and the output of a reference forward pass written here in
numpy from the Keras layer definitions (channels-last, Keras semantics, no
ONNX involved); `go run ./tools/parity` runs the ONNX graph on the same patch
with ONNX Runtime and compares.
"""
import argparse
import json
import os
import sys

import h5py
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

MODELS = {
    "landsatbiomeRGBI6.hdf5": ("dl-l8s2-uv-rgbi", ["blue", "green", "red", "nir"]),
    "landsatbiomeRGBISWIR7.hdf5": ("dl-l8s2-uv-rgbiswir", ["blue", "green", "red", "nir", "swir1", "swir2"]),
}


def load(path):
    """Returns the Keras layers (config, inbound layer names) in order and
    their weights by layer name (in the layer's weight order)."""
    f = h5py.File(path, "r")
    cfg = json.loads(f.attrs["model_config"])
    layers = []
    for l in cfg["config"]["layers"]:
        inbound = [n[0] for n in l["inbound_nodes"][0]] if l["inbound_nodes"] else []
        layers.append((l["class_name"], l["config"], inbound))
    g = f["model_weights"]
    weights = {}
    for name in g.attrs["layer_names"]:
        name = name.decode()
        wn = [w.decode() for w in g[name].attrs["weight_names"]]
        weights[name] = [np.array(g[name][w], dtype=np.float32) for w in wn]
    return layers, weights


# ---------------------------------------------------------------------------
# Reference forward pass: numpy, channels-last (H x W x C), Keras semantics.

def ref_conv1x1(x, k, b):
    return np.einsum("hwc,co->hwo", x, k[0, 0]) + b


def ref_depthwise3x3(x, dk):
    h, w, c = x.shape
    p = np.pad(x, ((1, 1), (1, 1), (0, 0)))
    out = np.zeros_like(x)
    for di in range(3):
        for dj in range(3):
            out += p[di:di + h, dj:dj + w, :] * dk[di, dj, :, 0]
    return out


def ref_forward(layers, weights, x):
    vals = {}
    for cls, c, inbound in layers:
        name = c["name"]
        w = weights.get(name, [])
        if cls == "InputLayer":
            y = x
        else:
            a = [vals[i] for i in inbound]
            if cls == "Conv2D":
                assert tuple(c["kernel_size"]) == (1, 1)
                y = ref_conv1x1(a[0], w[0], w[1])
            elif cls == "SeparableConv2D":
                y = ref_conv1x1(ref_depthwise3x3(a[0], w[0]), w[1], w[2])
            elif cls == "BatchNormalization":
                gamma, beta, mean, var = w
                y = gamma * (a[0] - mean) / np.sqrt(var + c["epsilon"]) + beta
            elif cls == "Activation":
                assert c["activation"] == "relu"
                y = np.maximum(a[0], 0)
            elif cls == "MaxPooling2D":
                h, ww, ch = a[0].shape
                y = a[0][:h // 2 * 2, :ww // 2 * 2].reshape(h // 2, 2, ww // 2, 2, ch).max(axis=(1, 3))
            elif cls == "Conv2DTranspose":
                k, b = w  # kh x kw x out x in
                h, ww, _ = a[0].shape
                y = np.zeros((2 * h, 2 * ww, k.shape[2]), np.float32) + b
                for di in range(2):
                    for dj in range(2):
                        y[di::2, dj::2] += np.einsum("hwc,oc->hwo", a[0], k[di, dj])
            elif cls == "Concatenate":
                y = np.concatenate(a, axis=-1)
            else:
                raise ValueError(f"layer {cls} not supported")
            act = c.get("activation", "linear")
            if cls in ("Conv2D", "SeparableConv2D", "Conv2DTranspose") and act != "linear":
                assert act == "sigmoid"
                y = 1 / (1 + np.exp(-y))
        vals[name] = y.astype(np.float32)
    return vals[layers[-1][1]["name"]]


# ---------------------------------------------------------------------------
# ONNX graph: NCHW.

def to_onnx(layers, weights, mname, manifest):
    nodes, inits = [], []

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, dtype=np.float32), name))
        return name

    out_of = {}
    for cls, c, inbound in layers:
        name = c["name"]
        w = weights.get(name, [])
        if cls == "InputLayer":
            out_of[name] = "input"
            continue
        a = [out_of[i] for i in inbound]
        y = name
        if cls == "Conv2D":
            nodes.append(helper.make_node("Conv", [a[0], init(name + ".w", w[0].transpose(3, 2, 0, 1)), init(name + ".b", w[1])], [name + ".conv" if c["activation"] != "linear" else y]))
        elif cls == "SeparableConv2D":
            cin = w[0].shape[2]
            nodes.append(helper.make_node("Conv", [a[0], init(name + ".dw", w[0].transpose(2, 3, 0, 1))], [name + ".dw_out"],
                                          group=cin, pads=[1, 1, 1, 1], kernel_shape=[3, 3]))
            nodes.append(helper.make_node("Conv", [name + ".dw_out", init(name + ".pw", w[1].transpose(3, 2, 0, 1)), init(name + ".b", w[2])], [y]))
        elif cls == "BatchNormalization":
            gamma, beta, mean, var = w
            nodes.append(helper.make_node("BatchNormalization", [a[0], init(name + ".g", gamma), init(name + ".beta", beta),
                                                                 init(name + ".mean", mean), init(name + ".var", var)], [y], epsilon=c["epsilon"]))
        elif cls == "Activation":
            nodes.append(helper.make_node("Relu", a, [y]))
        elif cls == "MaxPooling2D":
            nodes.append(helper.make_node("MaxPool", a, [y], kernel_shape=[2, 2], strides=[2, 2]))
        elif cls == "Conv2DTranspose":
            nodes.append(helper.make_node("ConvTranspose", [a[0], init(name + ".w", w[0].transpose(3, 2, 0, 1)), init(name + ".b", w[1])], [y],
                                          kernel_shape=[2, 2], strides=[2, 2]))
        elif cls == "Concatenate":
            nodes.append(helper.make_node("Concat", a, [y], axis=1))
        else:
            raise ValueError(f"layer {cls} not supported")
        if cls == "Conv2D" and c["activation"] != "linear":
            nodes.append(helper.make_node("Sigmoid", [name + ".conv"], [y]))
        out_of[name] = y
    last = out_of[layers[-1][1]["name"]]
    nodes.append(helper.make_node("Identity", [last], ["cloud_probability"]))
    cin = len(manifest["bands"])
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", cin, "H", "W"])
    out = helper.make_tensor_value_info("cloud_probability", TensorProto.FLOAT, ["N", 1, "H", "W"])
    g = helper.make_graph(nodes, mname, [inp], [out], initializer=inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="omnimask dl-l8s2-uv/convert.py")
    model.ir_version = 8
    helper.set_model_props(model, {"omnimask.manifest": json.dumps(manifest)})
    onnx.checker.check_model(model)
    return model


def manifest(mname, bands):
    return {
        "name": mname,
        "version": "1.0.0",
        "description": "DL-L8S2-UV U-Net (IPL-UV, López-Puigdollers et al. 2021, MIT), trained on Landsat 8 Biome; "
                       "converted from Keras by models/thirdparty/dl-l8s2-uv/convert.py",
        "bands": bands,
        "input_units": "reflectance",
        "resolution_m": 30,
        "min_resolution_m": 30,
        "max_resolution_m": 60,
        "normalization": {"kind": "none"},
        "nodata_fill": 0,
        "patch_size": 512,
        "overlap": 64,
        "size_multiple": 4,
        "output": "sigmoid",
        "threshold": 0.5,
        "classes": [
            {"id": 0, "name": "clear", "color": [60, 160, 60]},
            {"id": 1, "name": "cloud", "color": [255, 255, 255]},
        ],
    }


def biome_patches(data, n, h, w, c):
    """n patches h x w of the first c bands (blue, green, red, nir, swir1,
    swir2…) of the L8 Biome test images, or None without them or GDAL."""
    import glob
    try:
        from osgeo import gdal
    except ImportError:
        return None
    files = sorted(f for f in glob.glob(os.path.join(data, "cloud", "l8biome", "test", "*.tif")) if "mask" not in os.path.basename(f))
    out = []
    for f in files[:n]:
        a = gdal.Open(f).ReadAsArray()[:c, 40:40 + h, 60:60 + w]  # C x H x W
        out.append(np.nan_to_num(a.transpose(1, 2, 0).astype(np.float32)))
    return np.stack(out) if len(out) == n else None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.normpath(os.path.join(here, "..", "..", ".."))
    ap.add_argument("--weights", default=os.path.join(root, "..", "shared", "pretrained"))
    ap.add_argument("--out", default=os.path.join(root, "out", "models"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    lic = os.path.join(args.weights, "..", "licenses", "dl-l8s2-uv-MIT.txt")
    if os.path.exists(lic):  # the MIT notice travels with the converted weights
        with open(lic) as src, open(os.path.join(args.out, "dl-l8s2-uv-LICENSE.txt"), "w") as dst:
            dst.write(src.read())
    rng = np.random.default_rng(16)
    for fname, (mname, bands) in MODELS.items():
        src = os.path.join(args.weights, fname)
        if not os.path.exists(src):
            sys.exit(f"convert.py: {src} not found (pass --weights DIR)")
        layers, weights = load(src)
        man = manifest(mname, bands)
        model = to_onnx(layers, weights, mname, man)
        path = os.path.join(args.out, mname + ".onnx")
        onnx.save(model, path)
        print("wrote", path)
        # Parity data: 2 x C x 68 x 72 (sides multiples of 4), from real L8
        # Biome top-of-atmosphere reflectance when ../shared/data is there.
        n, h, w = 2, 68, 72
        x = biome_patches(os.path.join(args.weights, "..", "data"), n, h, w, len(bands))
        if x is None:
            x = rng.uniform(0, 0.6, size=(n, h, w, len(bands))).astype(np.float32)
            x[1, :20] += 0.4
        y = np.stack([ref_forward(layers, weights, x[i]) for i in range(n)])  # N x H x W x 1
        base = os.path.join(args.out, mname + ".parity")
        x.transpose(0, 3, 1, 2).astype("<f4").tofile(base + ".in.f32")
        y.transpose(0, 3, 1, 2).astype("<f4").tofile(base + ".out.f32")
        with open(base + ".json", "w") as f:
            json.dump({"model": mname + ".onnx", "shape": [n, len(bands), h, w], "input": os.path.basename(base) + ".in.f32",
                       "output": os.path.basename(base) + ".out.f32", "tolerance": 1e-5}, f, indent=1)
        print("wrote", base + ".json", f"(reference cloud fraction {float((y >= 0.5).mean()):.3f})")


if __name__ == "__main__":
    main()

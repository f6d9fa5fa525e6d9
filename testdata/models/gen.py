#!/usr/bin/python3
"""Generate the tiny ONNX models the Go tests use (run: make testmodels).

Every network here is a 1x1 convolution (optionally followed by a softmax),
so its output at a pixel depends on that pixel alone and a stitched scene can
be compared exactly with a direct computation. The weights are fixed numbers
below; tests in Go repeat the same arithmetic.
"""
import json
import os
import sys

import onnx
from onnx import TensorProto, helper

HERE = os.path.dirname(os.path.abspath(__file__))

# 4 classes from 3 bands: logits = W @ x + B
W = [[1.0, 0.0, 0.0],
     [0.0, 1.0, 0.0],
     [0.0, 0.0, 1.0],
     [-1.0, -1.0, -1.0]]
B = [0.0, 0.1, 0.2, 0.3]

CLASSES = [
    {"id": 0, "name": "clear", "color": [60, 160, 60]},
    {"id": 1, "name": "thick_cloud", "color": [255, 255, 255]},
    {"id": 2, "name": "thin_cloud", "color": [170, 200, 255]},
    {"id": 3, "name": "cloud_shadow", "color": [90, 60, 30]},
]


def manifest(name, **kw):
    m = {
        "name": name,
        "version": "0.0.1",
        "description": "test network: 1x1 convolution with fixed weights",
        "bands": ["red", "green", "nir"],
        "resolution_m": 10,
        "min_resolution_m": 10,
        "max_resolution_m": 60,
        "normalization": {"kind": "none"},
        "nodata_fill": 0,
        "patch_size": 64,
        "overlap": 16,
        "size_multiple": 1,
        "output": "logits",
        "classes": CLASSES,
    }
    m.update(kw)
    return m


def conv_model(name, man, n="N", h="H", w="W", cin=3, k=4, softmax=False, rank4=True,
               weights=None, bias=None):
    weights = weights or W
    bias = bias or B
    wt = helper.make_tensor("w", TensorProto.FLOAT, [k, cin, 1, 1],
                            [weights[i][j] for i in range(k) for j in range(cin)])
    bt = helper.make_tensor("b", TensorProto.FLOAT, [k], bias[:k])
    nodes = [helper.make_node("Conv", ["input", "w", "b"], ["conv" if softmax else "logits"])]
    if softmax:
        nodes.append(helper.make_node("Softmax", ["conv"], ["logits"], axis=1))
    if rank4:
        inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [n, cin, h, w])
        out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [n, k, h, w])
    else:  # rank-3 input: Conv1d-like, wrong for the engine
        wt = helper.make_tensor("w", TensorProto.FLOAT, [k, cin, 1],
                                [weights[i][j] for i in range(k) for j in range(cin)])
        inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [n, cin, w])
        out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, [n, k, w])
    g = helper.make_graph(nodes, name, [inp], [out], initializer=[wt, bt])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="omnimask-testdata")
    model.ir_version = 8
    if man is not None:
        helper.set_model_props(model, {"omnimask.manifest": json.dumps(man)})
    onnx.checker.check_model(model)
    return model


def save(model, path):
    onnx.save(model, path)
    print("wrote", os.path.relpath(path))



def embedding_models(out):
    """chipmean: an embedding encoder whose feature map is the mean of each
    8x8 cell of its input (AveragePool 8/8), so a chip's pooled embedding is
    its per-band mean after normalisation; embed tests compare it with a
    float64 mean of the same pixels."""
    man = manifest("chipmean", task="embedding", output="embedding", embedding_dim=3, output_stride=8,
                   size_multiple=8, patch_size=64, overlap=0, min_resolution_m=0, max_resolution_m=0)
    del man["classes"]
    man["description"] = "test encoder: per-band means of 8x8 cells"
    pool = helper.make_node("AveragePool", ["input"], ["output"], kernel_shape=[8, 8], strides=[8, 8])
    g = helper.make_graph([pool], "chipmean",
                          [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, "H", "W"])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 3, "h", "w"])])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    p = m.metadata_props.add()
    p.key = "omnimask.manifest"
    p.value = json.dumps(man)
    save(m, f"{out}/chipmean.onnx")

def main(out):
    os.makedirs(out, exist_ok=True)
    save(conv_model("pointwise", manifest("pointwise")), f"{out}/pointwise.onnx")
    save(conv_model("pointwise-zscore", manifest("pointwise-zscore", normalization={"kind": "zscore"})),
         f"{out}/pointwise_zscore.onnx")
    save(conv_model("pointwise-prob", manifest("pointwise-prob", output="probabilities"), softmax=True),
         f"{out}/pointwise_prob.onnx")
    # A second ensemble member: different weights, same contract.
    w2 = [[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.5, 0.0, 0.5], [-0.5, -0.5, -0.5]]
    save(conv_model("pointwise-b", manifest("pointwise-b"), weights=w2, bias=[0.3, 0.2, 0.1, 0.0]),
         f"{out}/pointwise_b.onnx")
    # Fixed input shape (1 x 3 x 64 x 64).
    save(conv_model("fixed64", manifest("fixed64"), n=1, h=64, w=64), f"{out}/fixed64.onnx")
    # No embedded manifest: the manifest lives in a sidecar file.
    save(conv_model("sidecar", None), f"{out}/sidecar.onnx")
    with open(f"{out}/sidecar.onnx.json", "w") as f:
        json.dump(manifest("sidecar"), f, indent=1)
    # Hostile models.
    save(conv_model("rank3", manifest("rank3"), rank4=False), f"{out}/bad_rank.onnx")
    save(conv_model("twoband", manifest("twoband"), cin=2, weights=[r[:2] for r in W]),
         f"{out}/bad_channels.onnx")
    save(conv_model("disagree", manifest("disagree", bands=["red", "green", "nir", "swir1"])),
         f"{out}/bad_manifest.onnx")
    save(conv_model("nomanifest", None), f"{out}/no_manifest.onnx")
    output_kinds(out)
    embedding_models(out)
    convbench(f"{out}/convbench.onnx")
    with open(f"{out}/corrupt.onnx", "wb") as f:
        f.write(b"\x08\x07this is not a protobuf model" * 7)


# Binary: sigmoid(SW . x + SB) is the probability of the second class.
SW = [1.0, -1.0, 0.5]
SB = -0.1
BINARY = [{"id": 0, "name": "clear", "color": [60, 160, 60]},
          {"id": 1, "name": "cloud", "color": [255, 255, 255]}]


def graph_model(name, nodes, inits, out_type, out_shape, man):
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 3, "H", "W"])
    outp = helper.make_tensor_value_info("output", out_type, out_shape)
    g = helper.make_graph(nodes, name, [inp], [outp], initializer=inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="omnimask-testdata")
    model.ir_version = 8
    if man is not None:
        helper.set_model_props(model, {"omnimask.manifest": json.dumps(man)})
    onnx.checker.check_model(model)
    return model


def output_kinds(out):
    """The output kinds models are exported with, all from the same 1x1
    convolutions as the pointwise models (issue 16)."""
    w4 = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 1, 1], [v for r in W for v in r])
    b4 = helper.make_tensor("b", TensorProto.FLOAT, [4], B)
    w1 = helper.make_tensor("w", TensorProto.FLOAT, [1, 3, 1, 1], SW)
    b1 = helper.make_tensor("b", TensorProto.FLOAT, [1], [SB])
    conv = helper.make_node("Conv", ["input", "w", "b"], ["logits"])
    # A single sigmoid channel, two classes, default threshold.
    save(graph_model("pointwise-sigmoid", [conv, helper.make_node("Sigmoid", ["logits"], ["output"])], [w1, b1],
                     TensorProto.FLOAT, ["N", 1, "H", "W"],
                     manifest("pointwise-sigmoid", output="sigmoid", classes=BINARY)), f"{out}/pointwise_sigmoid.onnx")
    # The same graph declared as a one-class logits model: the silent 100 % bug.
    save(graph_model("one-class", [conv, helper.make_node("Sigmoid", ["logits"], ["output"])], [w1, b1],
                     TensorProto.FLOAT, ["N", 1, "H", "W"], None), f"{out}/bad_one_class.onnx")
    with open(f"{out}/bad_one_class.onnx.json", "w") as f:
        json.dump(manifest("one-class", classes=BINARY[1:]), f, indent=1)
    # Class indices: the pointwise logits followed by an argmax, int64 N x 1 x H x W ...
    save(graph_model("pointwise-argmax", [conv, helper.make_node("ArgMax", ["logits"], ["output"], axis=1, keepdims=1)],
                     [w4, b4], TensorProto.INT64, ["N", 1, "H", "W"],
                     manifest("pointwise-argmax", output="class_index")), f"{out}/pointwise_argmax.onnx")
    # ... and uint8 N x H x W.
    save(graph_model("pointwise-argmax-u8", [conv, helper.make_node("ArgMax", ["logits"], ["idx"], axis=1, keepdims=0),
                                             helper.make_node("Cast", ["idx"], ["output"], to=TensorProto.UINT8)],
                     [w4, b4], TensorProto.UINT8, ["N", "H", "W"],
                     manifest("pointwise-argmax-u8", output="class_index")), f"{out}/pointwise_argmax_u8.onnx")
    # A channel count only a run reveals: 2 channels behind a symbolic K, 4 classes declared.
    w2 = helper.make_tensor("w", TensorProto.FLOAT, [2, 3, 1, 1], [v for r in W[:2] for v in r])
    b2 = helper.make_tensor("b", TensorProto.FLOAT, [2], B[:2])
    save(graph_model("dynamic-channels", [helper.make_node("Conv", ["input", "w", "b"], ["output"])], [w2, b2],
                     TensorProto.FLOAT, ["N", "K", "H", "W"], manifest("dynamic-channels")),
         f"{out}/bad_dynamic_channels.onnx")
    # A network that needs sides divisible by 4 (pool by 4, upsample by 4, add
    # the skip connection, as U-Nets do), once declared size_multiple 4 and
    # once (wrongly) 2.
    pool = [conv,
            helper.make_node("MaxPool", ["logits"], ["pooled"], kernel_shape=[4, 4], strides=[4, 4]),
            helper.make_node("Resize", ["pooled", "", "scales"], ["up"], mode="nearest"),
            helper.make_node("Add", ["logits", "up"], ["output"])]
    scales = helper.make_tensor("scales", TensorProto.FLOAT, [4], [1, 1, 4, 4])
    for mult, path in [(4, "multiple4.onnx"), (2, "bad_multiple.onnx")]:
        save(graph_model(f"multiple{mult}", pool, [w4, b4, scales], TensorProto.FLOAT, ["N", 4, "H", "W"],
                         manifest(f"multiple{mult}", size_multiple=mult)), f"{out}/{path}")


def convbench(path, layers=8, ch=64):
    """A conv-only network (3x3, 64->64, ReLU) to measure the FLOP/s ONNX
    Runtime attains on this machine: 2*64*64*9 FLOPs per pixel per layer."""
    import random
    rnd = random.Random(0)
    nodes, inits = [], []
    prev = "input"
    for i in range(layers):
        w = helper.make_tensor(f"w{i}", TensorProto.FLOAT, [ch, ch, 3, 3],
                               [rnd.uniform(-0.05, 0.05) for _ in range(ch * ch * 9)])
        inits.append(w)
        nodes.append(helper.make_node("Conv", [prev, f"w{i}"], [f"c{i}"], pads=[1, 1, 1, 1]))
        out = "output" if i == layers - 1 else f"r{i}"
        nodes.append(helper.make_node("Relu", [f"c{i}"], [out]))
        prev = out
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", ch, "H", "W"])
    outp = helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", ch, "H", "W"])
    g = helper.make_graph(nodes, "convbench", [inp], [outp], initializer=inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], producer_name="omnimask-testdata")
    model.ir_version = 8
    onnx.checker.check_model(model)
    save(model, path)


def placeholder(path):
    """The placeholder default model used until a trained one lands: a
    brightness rule on z-scored red/green/nir (bright in all bands -> cloud,
    dark in all -> shadow). Clearly labelled as such in its manifest."""
    w = [[0.0, 0.0, 0.0],     # clear: reference 0
         [1.2, 1.2, 0.6],     # thick cloud: very bright
         [0.6, 0.6, 0.3],     # thin cloud
         [-0.8, -0.8, -0.8]]  # shadow: dark
    b = [0.0, -2.6, -1.0, -1.8]
    man = manifest("omnicloud-rgn", version="0.0.0-placeholder",
                   description="PLACEHOLDER brightness rule, not a trained network",
                   resolution_m=30, normalization={"kind": "zscore"},
                   patch_size=512, overlap=128, size_multiple=16)
    save(conv_model("placeholder", man, weights=w, bias=b), path)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--placeholder":
        placeholder(sys.argv[2])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else HERE)

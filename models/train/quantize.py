#!/usr/bin/python3
"""Static int8 quantisation of an omnimask ONNX model into QDQ form, without
onnxruntime's Python tools (not available here).

Two steps around a calibration run done by the Go engine's own ONNX Runtime
and normalisation (tools/calibrate):

    /usr/bin/python3 models/train/quantize.py augment models/builtin/omnicloud.onnx /tmp/aug.onnx
    go run ./tools/calibrate -model /tmp/aug.onnx -data ../shared/data -out /tmp/ranges.json
    /usr/bin/python3 models/train/quantize.py apply models/builtin/omnicloud.onnx /tmp/ranges.json models/builtin/omnicloud_int8.onnx

`apply` puts QuantizeLinear/DequantizeLinear pairs on the activations
around every convolution, ReLU, addition, concatenation and max-pool
(uint8, asymmetric, calibrated ranges), and
DequantizeLinear on its weights (int8, symmetric, per output channel) and
bias (int32, scale = input scale x weight scale). ONNX Runtime fuses each
DQ -> Conv -> Q group into an integer QLinearConv on CPU (VNNI where the CPU
has it). The manifest is copied with "-int8" appended to the name.
"""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CONV = ("Conv", "ConvTranspose")


# Ops whose float activations get QDQ pairs, so that ONNX Runtime can run
# them on uint8 (QLinearConv, QLinearAdd, QLinearConcat, uint8 MaxPool,
# Relu folded into the preceding quantisation).
QUANT_OPS = CONV + ("Relu", "Add", "Concat", "MaxPool")


def conv_tensors(model):
    outs = {o.name for o in model.graph.output}
    inits = {i.name for i in model.graph.initializer}
    names = []
    for n in model.graph.node:
        if n.op_type not in QUANT_OPS:
            continue
        ins = list(n.input) if n.op_type in ("Add", "Concat") else [n.input[0]]
        for t in ins + [n.output[0]]:
            if t and t not in names and t not in outs and t not in inits:
                names.append(t)
    return names


def augment(src, dst):
    m = onnx.load(src)
    have = {o.name for o in m.graph.output}
    for t in conv_tensors(m):
        if t not in have:
            m.graph.output.append(helper.make_tensor_value_info(t, TensorProto.FLOAT, None))
    onnx.save(m, dst)
    print(f"augment: {len(m.graph.output)} outputs -> {dst}")


def act_qparams(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = (hi - lo) / 255.0 or 1e-8
    zp = int(round(-lo / scale))
    return np.float32(scale), np.uint8(min(255, max(0, zp)))


def apply(src, ranges_path, dst):
    m = onnx.load(src)
    ranges = json.load(open(ranges_path))["ranges"]
    g = m.graph
    for i, n in enumerate(g.node):
        if not n.name:
            n.name = f"{n.op_type}_{i}"
    inits = {i.name: i for i in g.initializer}
    new_nodes, new_inits = [], []
    act_scale = {}
    # 1. QDQ on activations.
    rename = {}
    for t in conv_tensors(m):
        if t not in ranges:
            raise SystemExit(f"apply: no calibrated range for {t}")
        s, z = act_qparams(*ranges[t])
        act_scale[t] = s
        sn, zn = f"{t}_scale", f"{t}_zp"
        new_inits += [numpy_helper.from_array(np.array(s, np.float32), sn),
                      numpy_helper.from_array(np.array(z, np.uint8), zn)]
        new_nodes.append(("after", t, [
            helper.make_node("QuantizeLinear", [t, sn, zn], [f"{t}_q"], name=f"{t}_Q"),
            helper.make_node("DequantizeLinear", [f"{t}_q", sn, zn], [f"{t}_dq"], name=f"{t}_DQ")]))
        rename[t] = f"{t}_dq"
    # consumers of a quantised tensor read its dequantised copy
    for n in g.node:
        for i, x in enumerate(n.input):
            if x in rename:
                n.input[i] = rename[x]
    # 2. weights and biases
    for n in g.node:
        if n.op_type not in CONV:
            continue
        wname = n.input[1]
        if wname not in inits:
            continue
        w = numpy_helper.to_array(inits[wname]).astype(np.float32)
        axis = 0 if n.op_type == "Conv" else 1
        group = next((a.i for a in n.attribute if a.name == "group"), 1)
        if n.op_type == "ConvTranspose" and group != 1:
            continue
        red = tuple(i for i in range(w.ndim) if i != axis)
        ws = np.maximum(np.abs(w).max(axis=red), 1e-12) / 127.0
        if len(n.input) > 2 and n.input[2] in inits:
            # A channel whose weights are all zero (a dead channel, its
            # BatchNorm folded into a constant bias) gets the weight scale
            # that keeps its bias inside int32 (its weights stay 0); others
            # are unchanged.
            xin = n.input[0][:-3] if n.input[0].endswith("_dq") else n.input[0]
            b = np.abs(numpy_helper.to_array(inits[n.input[2]]).astype(np.float64))
            need = b / (act_scale[xin] * ws) > 2.0 ** 30
            if need.any():
                ws = np.where(need, b / (act_scale[xin] * 2.0 ** 30), ws).astype(ws.dtype)
        shape = [1] * w.ndim
        shape[axis] = -1
        wq = np.clip(np.round(w / ws.reshape(shape)), -127, 127).astype(np.int8)
        new_inits += [numpy_helper.from_array(wq, wname + "_q"),
                      numpy_helper.from_array(ws.astype(np.float32), wname + "_scale"),
                      numpy_helper.from_array(np.zeros(ws.shape, np.int8), wname + "_zp")]
        new_nodes.append(("before", n.name, [helper.make_node(
            "DequantizeLinear", [wname + "_q", wname + "_scale", wname + "_zp"], [wname + "_dq"], axis=axis,
            name=wname + "_DQ")]))
        n.input[1] = wname + "_dq"
        if len(n.input) > 2 and n.input[2] in inits:
            bname = n.input[2]
            xin = n.input[0][:-3] if n.input[0].endswith("_dq") else n.input[0]
            b = numpy_helper.to_array(inits[bname]).astype(np.float64)
            bs = (act_scale[xin] * ws).astype(np.float32)
            bq = np.round(b / bs).astype(np.int32)
            new_inits += [numpy_helper.from_array(bq, bname + "_q"),
                          numpy_helper.from_array(bs, bname + "_scale"),
                          numpy_helper.from_array(np.zeros(bs.shape, np.int32), bname + "_zp")]
            new_nodes.append(("before", n.name, [helper.make_node(
                "DequantizeLinear", [bname + "_q", bname + "_scale", bname + "_zp"], [bname + "_dq"], axis=0,
                name=bname + "_DQ")]))
            n.input[2] = bname + "_dq"
    # 3. splice the new nodes in topological order
    nodes = list(g.node)
    out = []
    producers = {o: n for n in nodes for o in n.output}
    after = {}
    before = {}
    graph_inputs = {i.name for i in g.input}
    head = []
    for kind, key, ns in new_nodes:
        if kind == "after":
            if key in producers:
                after.setdefault(producers[key].name, []).extend(ns)
            elif key in graph_inputs:
                head.extend(ns)
            else:
                raise SystemExit(f"apply: no producer for {key}")
        else:
            before.setdefault(key, []).extend(ns)
    out.extend(head)
    for n in nodes:
        out.extend(before.get(n.name, []))
        out.append(n)
        out.extend(after.get(n.name, []))
    del g.node[:]
    g.node.extend(out)
    g.initializer.extend(new_inits)
    # drop float weights no longer used
    used = {x for n in g.node for x in n.input}
    keep = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    for p in m.metadata_props:
        if p.key == "omnimask.manifest":
            man = json.loads(p.value)
            man["name"] = man["name"] + "-int8"
            man["description"] = (man.get("description", "") + " — int8 QDQ, static calibration").strip(" —")
            p.value = json.dumps(man)
    onnx.checker.check_model(m)
    onnx.save(m, dst)
    print(f"apply: {sum(1 for n in g.node if n.op_type in CONV)} convolutions quantised -> {dst}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["augment"]:
        augment(sys.argv[2], sys.argv[3])
    elif sys.argv[1:2] == ["apply"]:
        apply(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        raise SystemExit(__doc__)

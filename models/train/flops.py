#!/usr/bin/python3
"""Count the FLOPs (2 x multiply-adds) of an ONNX segmentation model per
megapixel of input, from its graph with shapes inferred for a 1x C x S x S
input. Writes JSON: {"model", "size", "gflop_per_mpx", "by_op"}.

    /usr/bin/python3 models/train/flops.py models/builtin/omnicloud.onnx > models/builtin/flops.json
"""
import json
import sys

import onnx
from onnx import shape_inference


def dims(vi):
    return [d.dim_value for d in vi.type.tensor_type.shape.dim]


def count(path, size=512):
    m = onnx.load(path)
    inp = m.graph.input[0]
    c = inp.type.tensor_type.shape.dim[1].dim_value
    for d, v in zip(inp.type.tensor_type.shape.dim, [1, c, size, size]):
        d.Clear()
        d.dim_value = v
    m = shape_inference.infer_shapes(m)
    shapes = {vi.name: dims(vi) for vi in list(m.graph.value_info) + list(m.graph.input) + list(m.graph.output)}
    inits = {i.name: list(i.dims) for i in m.graph.initializer}
    by_op = {}
    for n in m.graph.node:
        f = 0
        if n.op_type in ("Conv", "ConvTranspose", "ConvInteger", "QLinearConv"):
            wname = n.input[3] if n.op_type == "QLinearConv" else n.input[1]
            w = inits.get(wname)
            group = next((a.i for a in n.attribute if a.name == "group"), 1)
            if w is None:
                continue
            if n.op_type == "ConvTranspose":
                x = shapes.get(n.input[0])
                f = 2 * w[0] * (w[1] * group) // group * w[2] * w[3] * x[2] * x[3] if x else 0
            else:
                y = shapes.get(n.output[0])
                f = 2 * (w[1] * w[2] * w[3]) * w[0] * y[2] * y[3] if y else 0
        elif n.op_type in ("MatMul", "Gemm"):
            a, b = shapes.get(n.input[0]), inits.get(n.input[1]) or shapes.get(n.input[1])
            if a and b:
                rows = 1
                for d in a[:-1]:
                    rows *= d
                f = 2 * rows * a[-1] * b[-1]
        if f:
            by_op[n.op_type] = by_op.get(n.op_type, 0) + f
    total = sum(by_op.values())
    mpx = size * size / 1e6
    return {"model": path, "size": size, "gflop_per_mpx": total / mpx / 1e9,
            "by_op": {k: v / mpx / 1e9 for k, v in by_op.items()}}


if __name__ == "__main__":
    print(json.dumps(count(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 512), indent=1))

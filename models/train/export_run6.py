"""Export a run 5 / run 6 MobileNetV2 U-Net (cv_gpu.py / finetune_run6.py
format: fp16 state dict) to ONNX (opset 17, manifest embedded, as export.py)
and TorchScript, and write a parity case for tools/parity (ONNX Runtime vs
PyTorch logits).

    /usr/bin/python3 models/train/export_run6.py --ckpt models/train/runs/run6/final.pt \
        --onnx /tmp/run6.onnx --torchscript /tmp/run6.torchscript.pt --parity-dir /tmp/run6-parity
    go run ./tools/parity /tmp/run6-parity/run6.parity.json

--name / --version set the manifest's name and version (default: the
built-in default's manifest name, version 2.0.0).
"""
import argparse
import copy
import json
import os
import sys

import onnx
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eval_run5 import load  # noqa: E402
from export import MANIFEST  # noqa: E402
from zscore import zscore_torch  # noqa: E402

DESCRIPTION = (
    "Cloud and cloud-shadow segmentation (red, green, nir; dynamic z-score; 10-60 m): U-Net on an "
    "ImageNet MobileNetV2 encoder (weights from TensorFlow / google-coral test_data, Apache-2.0), "
    "trained on Landsat 8 Biome and On Cloud N Sentinel-2 (issue #17, run 5 recipe C + run 6 shadow "
    "fine-tune). Contains data from the Sentinel-2 Cloud Cover Segmentation Dataset (Radiant Earth, "
    "CC-BY-4.0) and USGS Landsat 8 Biome (public domain).")


def fold_pads(m):
    """Fold each Pad (mnv2unet's ZeroPad2d((0, 1, 0, 1)) before a stride-2
    convolution, exported by PyTorch with its pads computed by a chain of
    ConstantOfShape / Concat / Reshape / Slice / Transpose / Cast nodes) into
    the convolution's own asymmetric pads [top, left, bottom, right] =
    [0, 0, 1, 1], and drop the nodes no longer used. The graph is then
    convolutions, activations, additions and concatenations only (what
    quantize.py handles); tools/parity checks the result against PyTorch."""
    g = m.graph
    consumers = {}
    for n in g.node:
        for x in n.input:
            consumers.setdefault(x, []).append(n)
    drop = set()
    for n in g.node:
        if n.op_type != "Pad":
            continue
        cs = consumers.get(n.output[0], [])
        if len(cs) != 1 or cs[0].op_type != "Conv":
            raise SystemExit("fold_pads: %s does not feed one Conv" % n.name)
        c = cs[0]
        pads = [a for a in c.attribute if a.name == "pads"]
        if pads and any(pads[0].ints):
            raise SystemExit("fold_pads: %s already pads" % c.name)
        for a in pads:
            c.attribute.remove(a)
        c.attribute.append(onnx.helper.make_attribute("pads", [0, 0, 1, 1]))
        c.input[0] = n.input[0]
        drop.add(n.name)
    keep = [n for n in g.node if n.name not in drop]
    # prune nodes whose outputs nothing uses any more
    outs = {o.name for o in g.output}
    while True:
        used = {x for n in keep for x in n.input} | outs
        k2 = [n for n in keep if any(o in used for o in n.output)]
        if len(k2) == len(keep):
            break
        keep = k2
    del g.node[:]
    g.node.extend(keep)
    used = {x for n in keep for x in n.input}
    inits = [i for i in g.initializer if i.name in used]
    del g.initializer[:]
    g.initializer.extend(inits)
    return len(drop)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--onnx", required=True)
    ap.add_argument("--torchscript", default="")
    ap.add_argument("--parity-dir", default="")
    ap.add_argument("--name", default=MANIFEST["name"])
    ap.add_argument("--version", default="2.0.0")
    a = ap.parse_args()
    torch.set_num_threads(1)
    [(_, model, mult)] = load(a.ckpt)
    model = model.eval()
    ck = torch.load(a.ckpt, map_location="cpu")
    man = copy.deepcopy(MANIFEST)
    man.update({"name": a.name, "version": a.version, "description": DESCRIPTION, "size_multiple": mult})
    x = torch.randn(1, 3, 64, 96)
    torch.onnx.export(
        model, x, a.onnx, opset_version=17, input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N", 2: "H", 3: "W"}, "logits": {0: "N", 2: "H", 3: "W"}},
        do_constant_folding=True, training=torch.onnx.TrainingMode.EVAL,
    )
    m = onnx.load(a.onnx)
    for mod in model.modules():
        if isinstance(mod, torch.nn.ZeroPad2d) and tuple(mod.padding) != (0, 1, 0, 1):
            raise SystemExit("unexpected padding %s" % (mod.padding,))
    print("folded %d Pad nodes into convolutions" % fold_pads(m))
    del m.metadata_props[:]
    p = m.metadata_props.add()
    p.key = "omnimask.manifest"
    p.value = json.dumps(man)
    m.producer_name = "omnimask-train"
    m.doc_string = json.dumps({k: ck[k] for k in ("recipe", "iters", "cpu_s", "wall_s") if k in ck})
    onnx.checker.check_model(m)
    onnx.save(m, a.onnx)
    print("wrote", a.onnx, os.path.getsize(a.onnx), "bytes;", sorted({n.op_type for n in m.graph.node}))
    if a.torchscript:
        # traced, not frozen: freezing folds BatchNorm into the convolutions
        # in another order than the ONNX export, and the two copies then
        # differ by up to ~1e-4 on logits of magnitude ~10
        ts = torch.jit.trace(model, torch.randn(1, 3, 128, 128))
        ts.save(a.torchscript)
        ts2 = torch.jit.load(a.torchscript)
        with torch.no_grad():
            for shape in [(2, 3, 96, 160), (1, 3, 256, 256)]:
                xx = torch.randn(*shape)
                d = (ts2(xx) - model(xx)).abs().max().item()
                print("torchscript vs eager", shape, "max abs diff %.2e" % d)
                assert d < 1e-4
        print("wrote", a.torchscript, os.path.getsize(a.torchscript), "bytes")
    if a.parity_dir:
        # a z-scored real-looking input: smooth random field, 2 x 3 x 256 x 320
        os.makedirs(a.parity_dir, exist_ok=True)
        g = torch.Generator().manual_seed(6)
        raw = torch.nn.functional.interpolate(torch.rand(2, 3, 16, 20, generator=g), size=(256, 320),
                                              mode="bicubic", align_corners=False) * 0.4
        z = zscore_torch(raw).contiguous()
        with torch.no_grad():
            y = model(z)
        base = os.path.splitext(os.path.basename(a.onnx))[0]
        z.numpy().astype("<f4").tofile(os.path.join(a.parity_dir, base + ".in.f32"))
        y.numpy().astype("<f4").tofile(os.path.join(a.parity_dir, base + ".out.f32"))
        spec = {"model": os.path.relpath(os.path.abspath(a.onnx), os.path.abspath(a.parity_dir)),
                "shape": list(z.shape), "input": base + ".in.f32", "output": base + ".out.f32",
                "tolerance": 1e-4}
        with open(os.path.join(a.parity_dir, base + ".parity.json"), "w") as f:
            json.dump(spec, f, indent=1)
        print("parity case", os.path.join(a.parity_dir, base + ".parity.json"),
              "logit range %.2f..%.2f" % (float(y.min()), float(y.max())))


if __name__ == "__main__":
    main()

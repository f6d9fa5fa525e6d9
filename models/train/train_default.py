"""Rebuild the shipped default model `omnicloud` 2.0.0 end to end, with the
recipe and iteration budgets it was made with (models/README.md "Run 5" and
"Run 6"); what `make train-model` runs.

    /usr/bin/python3 models/train/train_default.py --data ../shared/data \
        --pretrained ../shared/pretrained/mobilenet_v2_imagenet_torchvision.pth \
        --run out/train-model [--model-dir DIR]

Stages, each skipped when its output exists (rerunning the same command
continues where it stopped; within stages 1 and 2 from the checkpoints the
training scripts write every --ckpt-seconds):

  0. pack_cv.py       development data -> RUN/cvdata.npz
  1. cv_gpu.py        recipe C (MobileNetV2 U-Net from ImageNet weights, no
                      compositing) on all development data, batch 24, seed 5,
                      --stage1-iters iterations -> RUN/stage1/final_C.pt
                      (shipped: 1808 iterations, 130 s on an H200)
  2. finetune_run6.py frozen encoder, compositing, shadow Dice 1.0, batch 8,
                      seed 6, --stage2-iters iterations -> RUN/stage2/final.pt
                      (shipped: 1587 iterations, 1 CPU thread)
  3. export_run6.py   MODEL_DIR/omnicloud.onnx (manifest omnicloud-rgn 2.0.0),
                      its TorchScript copy and a tools/parity case in RUN/parity

Both trainings run on CUDA when torch sees a GPU, else on CPU. MODEL_DIR
defaults to RUN; only an explicit --model-dir models/builtin replaces the
built-in default (its TorchScript copy then goes to
models/omnicloud.torchscript.pt, as shipped). RUN/run.json records the
budgets; a rerun with other budgets into the same RUN is refused.
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

STAGE1_ITERS = 1808  # run 5, recipe C, tag "all" (train_log_run5.txt)
STAGE2_ITERS = 1587  # run 6 (train_log_run6.txt)


def parse():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="development data root (../shared/data)")
    ap.add_argument("--pretrained", required=True, help="mobilenet_v2_imagenet_torchvision.pth")
    ap.add_argument("--run", required=True, help="run directory: packed data, checkpoints, logs")
    ap.add_argument("--model-dir", default="", help="where omnicloud.onnx goes (default: RUN)")
    ap.add_argument("--torchscript", default="",
                    help="TorchScript copy (default MODEL_DIR/omnicloud.torchscript.pt; "
                         "models/omnicloud.torchscript.pt for models/builtin)")
    ap.add_argument("--stage1-iters", type=int, default=STAGE1_ITERS)
    ap.add_argument("--stage2-iters", type=int, default=STAGE2_ITERS)
    ap.add_argument("--threads", type=int, default=1, help="CPU threads (shipped stage 2: 1)")
    ap.add_argument("--ckpt-seconds", type=float, default=240.0)
    ap.add_argument("--version", default="2.0.0", help="manifest version of the export")
    a = ap.parse_args()
    if a.stage1_iters < 1 or a.stage2_iters < 1:
        ap.error("--stage1-iters and --stage2-iters must be >= 1")
    return a


def run(cmd, what):
    print("== %s: %s" % (what, " ".join(cmd)), flush=True)
    t = time.time()
    rc = subprocess.call(cmd)
    if rc != 0:
        raise SystemExit("%s failed (exit %d)" % (what, rc))
    print("== %s done in %.0fs" % (what, time.time() - t), flush=True)


def main():
    a = parse()
    py = sys.executable
    os.makedirs(a.run, exist_ok=True)
    model_dir = a.model_dir or a.run
    ts = a.torchscript
    if not ts:
        if os.path.realpath(model_dir) == os.path.realpath(os.path.join(REPO, "models", "builtin")):
            ts = os.path.join(REPO, "models", "omnicloud.torchscript.pt")
        else:
            ts = os.path.join(model_dir, "omnicloud.torchscript.pt")
    settings = {"stage1_iters": a.stage1_iters, "stage2_iters": a.stage2_iters}
    sp = os.path.join(a.run, "run.json")
    if os.path.exists(sp):
        old = json.load(open(sp))
        if old != settings:
            raise SystemExit("%s holds a run with %s, asked for %s: use another run directory or remove it" % (
                sp, old, settings))
    else:
        with open(sp, "w") as f:
            json.dump(settings, f)
    t0 = time.time()

    npz = os.path.join(a.run, "cvdata.npz")
    if not os.path.exists(npz):
        tmp = os.path.join(a.run, "cvdata.tmp.npz")  # np.savez keeps a name ending in .npz
        run([py, os.path.join(HERE, "pack_cv.py"), "--data", a.data, "--out", tmp], "stage 0 pack")
        os.replace(tmp, npz)

    s1 = os.path.join(a.run, "stage1")
    c = os.path.join(s1, "final_C.pt")
    if not os.path.exists(c):
        run([py, os.path.join(HERE, "cv_gpu.py"), "--data", npz, "--pretrained", a.pretrained,
             "--out", s1, "--work", os.path.join(s1, "work"), "--tags", "all", "--recipes", "C",
             "--bs", "24", "--seed", "5", "--iters", str(a.stage1_iters), "--threads", str(a.threads),
             "--ckpt-seconds", str(a.ckpt_seconds)],
            "stage 1 recipe C, all data (progress: %s)" % os.path.join(s1, "work", "log_all.txt"))
        if not os.path.exists(c):
            raise SystemExit("stage 1 wrote no %s; see %s" % (c, os.path.join(s1, "log.txt")))

    s2 = os.path.join(a.run, "stage2")
    fin = os.path.join(s2, "final.pt")
    if not os.path.exists(fin):
        run([py, os.path.join(HERE, "finetune_run6.py"), "--data", npz, "--init", c, "--out", s2,
             "--iters", str(a.stage2_iters), "--threads", str(a.threads), "--seed", "6",
             "--ckpt-seconds", str(a.ckpt_seconds)], "stage 2 fine-tune")

    os.makedirs(model_dir, exist_ok=True)
    if os.path.dirname(ts):
        os.makedirs(os.path.dirname(ts), exist_ok=True)
    onnx_path = os.path.join(model_dir, "omnicloud.onnx")
    run([py, os.path.join(HERE, "export_run6.py"), "--ckpt", fin, "--onnx", onnx_path, "--torchscript", ts,
         "--parity-dir", os.path.join(a.run, "parity"), "--version", a.version], "stage 3 export")
    print("train-model: %s (TorchScript %s) in %.0fs; parity case %s" % (
        onnx_path, ts, time.time() - t0, os.path.join(a.run, "parity", "omnicloud.parity.json")), flush=True)


if __name__ == "__main__":
    main()

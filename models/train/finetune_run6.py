"""Run 6: fine-tune run 5's recipe-C model (MobileNetV2 U-Net, all data) with
a shadow fix (protocol: PROTOCOL_run6.md). One candidate, final EMA weights,
no checkpoint selection, no logit biases.

Reuses cv_gpu.py's data pipeline (Sampler: crops, mixed resolution, z-score
after resampling, bright-ground hard negatives, synthetic cloud / shadow
compositing) and loss; the changes are the starting weights, compositing on
L8 samples, a larger shadow Dice weight and a lower learning rate. Runs on CPU
(1 thread) or unchanged on a CUDA GPU (bf16 autocast there).

    /usr/bin/python3 models/train/finetune_run6.py --data .gpu/cvdata.npz \
        --init .gpu/run5/final_C.pt --out models/train/runs/run6

Budget: stops when either the process CPU time reaches --cpu-seconds or the
wall time (counted over resumes) reaches --wall-seconds; the learning-rate
schedule (warm-up + cosine) follows the larger of the two fractions.
With --iters N the budget is N iterations instead (the schedule follows
iteration / N, the time budgets are ignored): the shipped model's run ended
at 1587 iterations, which `make train-model` repeats on any hardware.
Checkpoints (model, EMA, optimiser, RNG states, clocks) are written to
OUT/ckpt.pt every --ckpt-seconds; rerunning the same command resumes.
The result is OUT/final.pt in cv_gpu.py's format (fp16 EMA state dict), so
eval_run5.py and export_run6.py read it.
"""
import argparse
import copy
import math
import os
import pickle
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cv_gpu  # noqa: E402
from common import IGNORE  # noqa: E402
from cv_gpu import Sampler, build, ema_update  # noqa: E402


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="npz from pack_cv.py")
    ap.add_argument("--init", required=True, help="run 5 model (cv_gpu.py format), e.g. final_C.pt")
    ap.add_argument("--out", required=True)
    ap.add_argument("--cpu-seconds", type=float, default=3000.0)
    ap.add_argument("--wall-seconds", type=float, default=3900.0)
    ap.add_argument("--ckpt-seconds", type=float, default=240.0)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--bs", type=int, default=8)
    ap.add_argument("--sizes", default="128,160,192", help="crop sizes after resampling")
    ap.add_argument("--p-comp", type=float, default=0.5, help="share of L8 samples composited")
    ap.add_argument("--dice", type=float, default=1.0, help="shadow soft-Dice weight (run 5: 0.3)")
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--freeze-encoder", type=int, default=1,
                    help="1: the ImageNet/run-5 encoder is frozen (eval mode, no gradients); decoder and head train")
    ap.add_argument("--time-iters", type=int, default=0, help="only time this many iterations and exit")
    ap.add_argument("--iters", type=int, default=0,
                    help="budget in iterations (schedule by iteration, --cpu-seconds and --wall-seconds ignored); "
                         "0: time budget")
    return ap.parse_args()


def loss_fn(logits, y, ocn, dice_w):
    """cv_gpu.loss_fn with the shadow soft-Dice weight as a parameter."""
    if ocn:
        return cv_gpu.loss_fn(logits, y, ocn)
    lsm = F.log_softmax(logits.float(), 1)
    d = logits.device
    ce4 = F.nll_loss(lsm, y, weight=torch.tensor(cv_gpu.W4, device=d), ignore_index=IGNORE)
    l3 = torch.stack([lsm[:, 0], torch.logsumexp(lsm[:, 1:3], 1), lsm[:, 3]], 1)
    y3 = y.clone()
    y3[y == 2] = 1
    y3[y == 3] = 2
    ce3 = F.nll_loss(l3, y3, weight=torch.tensor(cv_gpu.W3, device=d), ignore_index=IGNORE)
    p = lsm[:, 3].exp()
    m = (y != IGNORE).float()
    t = (y == 3).float()
    dice = 1 - (2 * (p * t * m).sum() + 1) / ((p * m).sum() + (t * m).sum() + 1)
    return 0.5 * ce4 + ce3 + dice_w * dice


def load_state(path):
    ck = torch.load(path, map_location="cpu")
    return ck["arch"], {k: v.float() if v.is_floating_point() else v for k, v in ck["state"].items()}


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main():
    a = parse()
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.set_num_threads(a.threads)
    os.makedirs(a.out, exist_ok=True)
    logf = open(os.path.join(a.out, "log.txt"), "a")

    def log(s):
        line = "[%s] %s" % (time.strftime("%H:%M:%S", time.gmtime()), s)
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)
    rng = random.Random(a.seed)
    arch, state = load_state(a.init)
    model = build(arch).to(dev)
    model.load_state_dict(state)
    model = model.to(memory_format=torch.channels_last)
    ema = copy.deepcopy(model).eval()
    if a.freeze_encoder:
        for p in model.enc.parameters():
            p.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=a.lr, weight_decay=1e-4)
    D = np.load(a.data)
    sampler = Sampler(D["l8_img"], D["l8_lab"], D["ocn_img"], D["ocn_lab"], dev, rng, a.bs, a.p_comp, False)
    sampler.sizes = tuple(int(s) for s in a.sizes.split(","))
    del D
    it, cpu_used, wall_used = 0, 0.0, 0.0
    ck_path = os.path.join(a.out, "ckpt.pt")
    if os.path.exists(ck_path) and not a.time_iters:
        ck = torch.load(ck_path, map_location="cpu")
        model.load_state_dict(ck["model"])
        ema.load_state_dict(ck["ema"])
        opt.load_state_dict(ck["opt"])
        if ck.get("iters", 0) != a.iters:
            raise SystemExit("%s was written with --iters %d, now %d; remove it or use another --out" % (
                ck_path, ck.get("iters", 0), a.iters))
        it, cpu_used, wall_used = ck["it"], ck["cpu"], ck["wall"]
        rng.setstate(pickle.loads(ck["py_rng"]))
        torch.set_rng_state(ck["torch_rng"])
        if dev.type == "cuda" and ck.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(ck["cuda_rng"])
        log("resumed at it %d, cpu %.0fs, wall %.0fs" % (it, cpu_used, wall_used))
    else:
        log("start: init %s, device %s, threads %d, bs %d, sizes %s, p_comp %.2f, dice %.2f, lr %.1e, "
            "budget %s, frozen encoder %d" % (
                a.init, dev, a.threads, a.bs, sampler.sizes, a.p_comp, a.dice, a.lr,
                "%d iterations" % a.iters if a.iters > 0 else "cpu %.0fs / wall %.0fs" % (a.cpu_seconds, a.wall_seconds),
                a.freeze_encoder))
    amp = dev.type == "cuda"
    ep, mp = list(ema.parameters()), list(model.parameters())
    c0, w0 = time.process_time() - cpu_used, time.time() - wall_used
    last_ck = time.time()
    run = None

    def checkpoint():
        save_atomic({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "it": it,
                     "cpu": time.process_time() - c0, "wall": time.time() - w0,
                     "py_rng": pickle.dumps(rng.getstate()), "torch_rng": torch.get_rng_state(),
                     "cuda_rng": torch.cuda.get_rng_state() if dev.type == "cuda" else None,
                     "iters": a.iters}, ck_path)

    while True:
        if a.iters > 0:
            f = it / a.iters
        else:
            f = max((time.process_time() - c0) / a.cpu_seconds, (time.time() - w0) / a.wall_seconds)
        if f >= 1.0 or (a.time_iters and it >= a.time_iters):
            break
        it += 1
        # short warm-up (the model is trained already), then cosine to 1 % of lr
        cur = a.lr * (0.1 + 0.9 * f / 0.03) if f < 0.03 else \
            a.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * (f - 0.03) / 0.97)))
        for g in opt.param_groups:
            g["lr"] = cur
        model.train()
        if a.freeze_encoder:
            model.enc.eval()  # frozen BatchNorm statistics too
        ti = time.time()
        x, y, is_ocn = sampler.batch()
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=amp):
            lg = model(x)
        loss = loss_fn(lg, y, is_ocn, a.dice)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema_update(ema, model, ep, mp, it)
        lv = loss.item()
        run = lv if run is None else 0.95 * run + 0.05 * lv
        if a.time_iters:
            log("it %d size %d ocn %s loss %.3f %.2fs" % (it, x.shape[-1], is_ocn, lv, time.time() - ti))
        elif it % 50 == 0 or it == 1:
            log("it %d loss %.4f (avg) lr %.2e cpu %.0fs wall %.0fs" % (
                it, run, cur, time.process_time() - c0, time.time() - w0))
        if time.time() - last_ck > a.ckpt_seconds and not a.time_iters:
            checkpoint()
            last_ck = time.time()
    if a.time_iters:
        return
    checkpoint()
    sd = {k: (v.half() if v.is_floating_point() else v).cpu() for k, v in ema.state_dict().items()}
    save_atomic({"state": sd, "arch": arch, "recipe": "C+run6", "fold": -1, "iters": it,
                 "cpu_s": round(time.process_time() - c0), "wall_s": round(time.time() - w0)},
                os.path.join(a.out, "final.pt"))
    log("done: %d iterations, cpu %.0fs, wall %.0fs -> %s" % (
        it, time.process_time() - c0, time.time() - w0, os.path.join(a.out, "final.pt")))


if __name__ == "__main__":
    main()

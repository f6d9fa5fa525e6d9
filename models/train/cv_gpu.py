"""Run 5: 5-fold cross-validation of training recipes, then the same recipes
trained on all development data (protocol: PROTOCOL_run5.md).

Self-contained apart from model.py, mnv2unet.py, zscore.py and common.py
(beside this file; rasterio not needed): data come from the .npz written by
pack_cv.py. PyTorch 2.x on a CUDA GPU (bf16 autocast, channels_last, all
augmentation on the GPU); also runs on CPU (PyTorch >= 1.13) for a smoke test:

    /usr/bin/python3 models/train/cv_gpu.py --data /tmp/cvdata.npz \
        --pretrained ../shared/pretrained/mobilenet_v2_imagenet_torchvision.pth \
        --out /tmp/cvout --job-seconds 4 --deadline 120 --smoke

The main process starts one worker process per fold (0-4) and one for all
data ("all"); each worker trains the recipes in the order B, A, C with an
equal wall-clock budget per model (shrunk evenly if the global deadline
would be missed), scores its held-out fold and saves the EMA weights (fp16).
The main process merges the results into OUT/cv_metrics.json as they arrive,
applies the protocol's recipe choice, and writes the all-data models of every
recipe and the winner's fold models to OUT (at most 8 files).

--iters N budgets each model by iterations instead of wall-clock time (the
learning-rate schedule then follows iteration / N; --job-seconds and
--deadline are ignored), so a run can be repeated on slower hardware with the
same number of updates. --ckpt-seconds S writes a training checkpoint per
model to WORK every S seconds and resumes from it: WORK is then kept between
runs (rerun the same command to continue). `make train-model` uses both to
rebuild the shipped model's stage 1 (recipe C, all data, 1808 iterations):

    /usr/bin/python3 models/train/cv_gpu.py --data cvdata.npz --pretrained PTH \
        --out OUT --work OUT/work --tags all --recipes C --iters 1808 --ckpt-seconds 240
"""
import argparse
import copy
import json
import math
import os
import random
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import IGNORE, OCN_CLOUD, Scores, area_down, upsample_to  # noqa: E402
from model import CloudUNet  # noqa: E402
from zscore import zscore_torch  # noqa: E402

RECIPES = {
    # name: (architecture, lr, p_composite)
    "B": ("mnv2", 1e-3, 0.35),
    "A": ("scratch", 3e-3, 0.35),
    "C": ("mnv2", 1e-3, 0.0),
}
ORDER = ("B", "A", "C")
NFOLD = 5
OCN_FOLD = {1: 1, 2: 2, 3: 3}  # On Cloud N chip -> fold
W4 = (1.0, 1.5, 2.5, 6.0)      # clear, thick, thin, shadow
W3 = (1.0, 1.0, 6.0)           # clear, cloud, shadow


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="npz from pack_cv.py")
    ap.add_argument("--pretrained", required=True, help="MobileNetV2 ImageNet state dict")
    ap.add_argument("--out", required=True)
    ap.add_argument("--work", default="/tmp/cvwork")
    ap.add_argument("--job-seconds", type=float, default=110.0, help="wall-clock budget per model")
    ap.add_argument("--deadline", type=float, default=470.0,
                    help="seconds after start by which every worker must have finished training")
    ap.add_argument("--bs", type=int, default=24)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--recipes", default=",".join(ORDER))
    ap.add_argument("--smoke", action="store_true", help="tiny crops, CPU smoke test")
    ap.add_argument("--tags", default="0,1,2,3,4,all", help="workers to start (folds and/or 'all')")
    ap.add_argument("--iters", type=int, default=0,
                    help="iterations per model (schedule by iteration; --job-seconds and --deadline ignored); "
                         "0: wall-clock budget")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads per worker process")
    ap.add_argument("--ckpt-seconds", type=float, default=0.0,
                    help="checkpoint each model to WORK every S seconds and resume from it (WORK is kept); "
                         "0: no checkpoints, WORK cleared at start")
    ap.add_argument("--worker", default="", help="internal: fold index or 'all'")
    ap.add_argument("--t0", type=float, default=0.0, help="internal: main start time")
    return ap.parse_args()


# ---------------------------------------------------------------- folds

def make_folds(names, labs):
    """Deterministic stratified assignment (PROTOCOL_run5.md): patches with
    > 1 % shadow first (by name), then the rest by (biome, name), round robin."""
    shadow = [n for n, l in zip(names, labs) if (l == 3).mean() > 0.01]
    rest = sorted((n for n in names if n not in shadow), key=lambda n: (n.split("_")[0], n))
    order = sorted(shadow) + rest
    return {n: i % NFOLD for i, n in enumerate(order)}


# ---------------------------------------------------------------- models

def build(arch, pretrained=None):
    if arch == "scratch":
        return CloudUNet(w=(12, 24, 48, 96, 112))
    from mnv2unet import MNV2UNet
    return MNV2UNet(pretrained=pretrained)


# ---------------------------------------------------------------- sampler

class Sampler:
    """Mixed-resolution batches built on the device."""

    def __init__(self, l8_img, l8_lab, ocn_img, ocn_lab, dev, rng, bs, p_comp, smoke):
        self.dev = dev
        self.rng = rng
        self.bs = bs
        self.p_comp = p_comp
        self.l8_img = torch.from_numpy(l8_img.astype(np.float32)).to(dev)
        self.l8_lab = torch.from_numpy(l8_lab.astype(np.int64)).to(dev)
        self.ocn_img = torch.from_numpy(ocn_img.astype(np.float32)).to(dev) if len(ocn_img) else None
        self.ocn_lab = torch.from_numpy(ocn_lab.astype(np.int64)).to(dev) if len(ocn_lab) else None
        clear = (l8_lab == 0).mean(axis=(1, 2))
        shadow = (l8_lab == 3).mean(axis=(1, 2))
        bright = np.array([((l == 0) & (i.astype(np.float32).mean(0) > 0.2)).mean()
                           for i, l in zip(l8_img, l8_lab)])
        w = 1.0 + 30.0 * shadow + 2.0 * bright  # shadow and bright clear ground over-sampled
        self.w = torch.tensor(w / w.sum(), dtype=torch.float64)
        cp = np.where(clear >= 0.75)[0]
        self.clear_pool = torch.tensor(cp if len(cp) else np.arange(len(clear)))
        self.sizes = (64, 96) if smoke else (128, 160, 192, 224, 256)

    def _gather(self, img, lab, k, S):
        """Random S x S crops of patches k (one gather each for image and label)."""
        n, _, H, W = img.shape
        B = len(k)
        y0 = torch.randint(0, H - S + 1, (B,), device=self.dev)
        x0 = torch.randint(0, W - S + 1, (B,), device=self.dev)
        ar = torch.arange(S, device=self.dev)
        iy = (y0[:, None] + ar)[:, :, None]
        ix = (x0[:, None] + ar)[:, None, :]
        kk = k.to(self.dev)[:, None, None]
        x = img.permute(0, 2, 3, 1)[kk, iy, ix].permute(0, 3, 1, 2)
        y = lab[kk, iy, ix]
        return x.contiguous(), y.contiguous()

    def batch(self, p_ocn=0.35):
        rng = self.rng
        ocn = self.ocn_img is not None and rng.random() < p_ocn
        if ocn:
            src, lo, hi = 512, 0.33, 1.0
        else:
            src, lo, hi = 256, 0.5, 1.5
        scale = 1.0 if rng.random() < 0.25 else math.exp(rng.uniform(math.log(lo), math.log(hi)))
        cands = [p for p in self.sizes if round(p / scale) <= src]
        P = rng.choice(cands) if cands else self.sizes[0]
        S = max(32, min(src, int(round(P / scale))))
        B = self.bs
        if ocn:
            k = torch.randint(0, self.ocn_img.shape[0], (B,))
            x, y = self._gather(self.ocn_img, self.ocn_lab, k, S)
        else:
            k = torch.multinomial(self.w, B, replacement=True)
            comp = torch.rand(B) < self.p_comp
            if comp.any():
                k[comp] = self.clear_pool[torch.randint(0, len(self.clear_pool), (int(comp.sum()),))]
            x, y = self._gather(self.l8_img, self.l8_lab, k, S)
            x = self.brighten_clear(x, y)
            if comp.any():
                x, y = self.composite(x, y, comp.to(self.dev))
        if P != S:
            mode = rng.choice(["bilinear", "nearest"] + (["area"] if P < S else []))
            if mode == "bilinear":
                x = F.interpolate(x, size=(P, P), mode="bilinear", align_corners=False, antialias=P < S)
            else:
                x = F.interpolate(x, size=(P, P), mode=mode)
            y = F.interpolate(y[:, None].float(), size=(P, P), mode="nearest")[:, 0].long()
        x = self.photometric(x)
        z = zscore_torch(x)
        if rng.random() < 0.5:
            z = z + torch.randn_like(z) * rng.uniform(0.0, 0.15)
        if rng.random() < 0.5:
            z, y = z.flip(-1), y.flip(-1)
        if rng.random() < 0.5:
            z, y = z.flip(-2), y.flip(-2)
        r = rng.randrange(4)
        if r:
            z, y = torch.rot90(z, r, (-2, -1)), torch.rot90(y, r, (-2, -1))
        return z.contiguous(), y.contiguous(), ocn

    def brighten_clear(self, x, y, p=0.3):
        """Bright-ground hard negatives: clear L8 ground brightened by 1-1.8
        with a +-10 % spectral tilt (per sample with probability p)."""
        B = x.shape[0]
        d = self.dev
        sel = (torch.rand(B, 1, 1, 1, device=d) < p).float()
        f = torch.empty(B, 1, 1, 1, device=d).uniform_(1.0, 1.8)
        tilt = torch.empty(B, 3, 1, 1, device=d).uniform_(0.9, 1.1)
        m = (y == 0).float()[:, None]
        return x.clamp(min=0) * (1 + sel * m * (f * tilt - 1))

    def composite(self, x, y, sel):
        """Synthetic cloud and shadow on mostly clear crops (>= 90 % clear)."""
        d = self.dev
        B, _, S, _ = x.shape
        sel = sel & ((y == 0).float().mean(dim=(1, 2)) >= 0.9)
        if not bool(sel.any()):
            return x, y
        idx = torch.nonzero(sel)[:, 0]
        n = len(idx)
        xs, ys = x[idx], y[idx]
        noise = torch.zeros(n, 1, S, S, device=d)
        for c, a in ((4, 1.0), (8, 0.5), (16, 0.25), (32, 0.125)):
            noise += a * F.interpolate(torch.rand(n, 1, c, c, device=d), size=(S, S), mode="bicubic", align_corners=False)
        flat = noise.view(n, -1)
        mn, mx = flat.min(1)[0].view(n, 1, 1, 1), flat.max(1)[0].view(n, 1, 1, 1)
        noise = (noise - mn) / (mx - mn + 1e-6)
        cover = torch.empty(n, device=d).uniform_(0.05, 0.6)
        thr = torch.stack([torch.quantile(noise[i].flatten(), 1 - cover[i]) for i in range(n)]).view(n, 1, 1, 1)
        ramp = torch.empty(n, 1, 1, 1, device=d).uniform_(0.05, 0.25)
        alpha = ((noise - thr) / ramp).clamp(0, 1)
        p99 = torch.stack([torch.quantile(torch.nan_to_num(xs[i]).flatten(1), 0.99, dim=1) for i in range(n)])
        cloud = p99.view(n, 3, 1, 1) * torch.empty(n, 1, 1, 1, device=d).uniform_(1.0, 1.8) \
            * torch.empty(n, 3, 1, 1, device=d).uniform_(0.96, 1.04)
        # floor: a cloud is never dimmer than ~0.25-0.5 reflectance, even over dark water
        cloud = torch.maximum(cloud, torch.empty(n, 1, 1, 1, device=d).uniform_(0.25, 0.5).expand_as(cloud))
        pad = 40
        ap = F.pad(alpha, (pad, pad, pad, pad))
        shifted = torch.empty_like(alpha)
        for i in range(n):
            dy, dx = self.rng.randint(-pad, pad), self.rng.randint(-pad, pad)
            shifted[i] = ap[i, :, pad - dy:pad - dy + S, pad - dx:pad - dx + S]
        dark = 1 - torch.empty(n, 1, 1, 1, device=d).uniform_(0.4, 0.75) * (shifted > 0.5).float()
        xs = xs * dark * (1 - alpha) + cloud * alpha
        a = alpha[:, 0]
        sh = (shifted[:, 0] > 0.5) & (a < 0.2)
        ys = torch.where(sh & (ys != IGNORE), torch.full_like(ys, 3), ys)
        ys = torch.where(a >= 0.2, torch.full_like(ys, 2), ys)
        ys = torch.where(a >= 0.6, torch.full_like(ys, 1), ys)
        x = x.clone()
        y = y.clone()
        x[idx] = xs
        y[idx] = ys
        return x, y

    def photometric(self, x):
        rng = self.rng
        d = self.dev
        n = x.shape[0]
        x = x.clamp(min=0)
        if rng.random() < 0.7:
            gam = torch.exp(torch.empty(n, 3, 1, 1, device=d).uniform_(math.log(0.7), math.log(1.4)))
            x = (x + 1e-3) ** gam
        if rng.random() < 0.3:
            off = torch.empty(n, 1, 1, 1, device=d).uniform_(0, 0.08) * torch.tensor([1.0, 1.1, 0.8], device=d).view(1, 3, 1, 1)
            x = x + off
        return x


@torch.no_grad()
def ema_update(ema, model, ep, mp, it):
    """One step of the weights' exponential moving average: ema's parameters
    ep move towards the model's mp with decay min(0.995, (1+it)/(10+it));
    buffers (batch-norm statistics) are copied."""
    dcy = min(0.995, (1 + it) / (10 + it))
    torch._foreach_mul_(ep, dcy)
    torch._foreach_add_(ep, mp, alpha=1 - dcy)
    for be, bm in zip(ema.buffers(), model.buffers()):
        be.copy_(bm)


def loss_fn(logits, y, ocn):
    lsm = F.log_softmax(logits.float(), 1)
    if ocn:
        lp_cloud = torch.logsumexp(lsm[:, 1:3], 1)
        lp_not = torch.logsumexp(lsm[:, [0, 3]], 1)
        m = y != IGNORE
        nll = torch.where(y == OCN_CLOUD, -lp_cloud, -lp_not)
        return nll[m].mean() if bool(m.any()) else logits.sum() * 0
    d = logits.device
    ce4 = F.nll_loss(lsm, y, weight=torch.tensor(W4, device=d), ignore_index=IGNORE)
    l3 = torch.stack([lsm[:, 0], torch.logsumexp(lsm[:, 1:3], 1), lsm[:, 3]], 1)
    y3 = y.clone()
    y3[y == 2] = 1
    y3[y == 3] = 2
    ce3 = F.nll_loss(l3, y3, weight=torch.tensor(W3, device=d), ignore_index=IGNORE)
    p = lsm[:, 3].exp()
    m = (y != IGNORE).float()
    t = (y == 3).float()
    dice = 1 - (2 * (p * t * m).sum() + 1) / ((p * m).sum() + (t * m).sum() + 1)
    return 0.5 * ce4 + ce3 + 0.3 * dice


# ---------------------------------------------------------------- eval

@torch.no_grad()
def predict(model, img, dev, multiple=32):
    c, h, w = img.shape
    H = (h + multiple - 1) // multiple * multiple
    W = (w + multiple - 1) // multiple * multiple
    x = np.full((c, H, W), np.nan, np.float32)
    x[:, :h, :w] = img
    z = zscore_torch(torch.from_numpy(x)[None].to(dev))
    lg = model(z.contiguous(memory_format=torch.channels_last)).float()
    return lg[0, :, :h, :w].argmax(0).cpu().numpy().astype(np.uint8)


def cm_of(model, img, lab, dev, down, binary):
    x = area_down(img, down) if down > 1 else img
    p = predict(model, x, dev)
    if down > 1:
        p = upsample_to(p, down, lab.shape)
    s = Scores(binary=binary)
    s.add(p, lab)
    return s.cm.tolist()


def result_of(cms, binary=False):
    s = Scores(binary=binary)
    for cm in cms:
        s.cm += np.array(cm, np.int64)
    return s.result()


# ---------------------------------------------------------------- worker

def train_one(recipe, l8i, l8l, oi, ol, dev, budget, args, log, tag=""):
    arch, lr, p_comp = RECIPES[recipe]
    seed = args.seed
    random.seed(seed)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = build(arch, args.pretrained if arch == "mnv2" else None).to(dev)
    model = model.to(memory_format=torch.channels_last)
    ema = copy.deepcopy(model).eval()
    kw = {"fused": True} if dev.type == "cuda" else {}
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4, **kw)
    sampler = Sampler(l8i, l8l, oi, ol, dev, rng, args.bs, p_comp, args.smoke)
    amp = dev.type == "cuda"
    ep = list(ema.parameters())
    mp = list(model.parameters())
    # untimed warm-up: one forward + backward per crop size, no update, so that
    # CUDA kernel loading and cuDNN autotuning (per process and shape) are not
    # charged to the first recipe's budget (run 5's recipe B got ~100
    # iterations where C, same network, later got ~1800)
    tw = time.time()
    model.train()
    for P in sampler.sizes:
        x = torch.randn(args.bs, 3, P, P, device=dev).contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=amp):
            model(x).float().mean().backward()
    opt.zero_grad(set_to_none=True)
    if dev.type == "cuda":
        torch.cuda.synchronize()
    log("  %s warm-up %.1fs (not in the budget)" % (recipe, time.time() - tw))
    t0 = time.time()
    it, run = 0, 0.0
    ck_path, ck_key, last_ck = "", None, time.time()
    if args.ckpt_seconds > 0:
        ck_path = os.path.join(args.work, "ckpt_%s_%s.pt" % (recipe, tag))
        ck_key = {"recipe": recipe, "tag": tag, "iters": args.iters, "bs": args.bs, "seed": seed,
                  "smoke": args.smoke}
        if os.path.exists(ck_path):
            ck = torch.load(ck_path, map_location="cpu")
            if ck["key"] != ck_key:
                raise SystemExit("%s was written by another run (%s, now %s); remove it or use another --work" % (
                    ck_path, ck["key"], ck_key))
            model.load_state_dict(ck["model"])
            ema.load_state_dict(ck["ema"])
            opt.load_state_dict(ck["opt"])
            it, run = ck["it"], ck["run"]
            t0 -= ck["secs"]
            rng.setstate(ck["py_rng"])
            torch.set_rng_state(ck["torch_rng"])
            if dev.type == "cuda" and ck.get("cuda_rng") is not None:
                torch.cuda.set_rng_state(ck["cuda_rng"])
            log("  %s resumed at it %d (%.0fs trained)" % (recipe, it, ck["secs"]))

    def checkpoint():
        tmp = ck_path + ".tmp"
        torch.save({"key": ck_key, "model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(),
                    "it": it, "run": run, "secs": time.time() - t0, "py_rng": rng.getstate(),
                    "torch_rng": torch.get_rng_state(),
                    "cuda_rng": torch.cuda.get_rng_state() if dev.type == "cuda" else None}, tmp)
        os.replace(tmp, ck_path)

    while True:
        if args.iters > 0:
            f = it / args.iters
        else:
            f = (time.time() - t0) / budget
        if f >= 1.0:
            break
        it += 1
        cur = lr * (0.04 + 0.96 * f / 0.05) if f < 0.05 else \
            lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * (f - 0.05) / 0.95)))
        for g in opt.param_groups:
            g["lr"] = cur
        model.train()
        x, y, is_ocn = sampler.batch()
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=amp):
            lg = model(x)
        loss = loss_fn(lg, y, is_ocn)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        ema_update(ema, model, ep, mp, it)
        if it % 50 == 0 or it == 1:
            lv = loss.item()
            run = lv if it == 1 else 0.9 * run + 0.1 * lv
            if it % 500 == 0 or it == 1 or (args.iters and it % 50 == 0 and dev.type == "cpu"):
                log("  %s it %d loss %.4f lr %.2e %.0fs" % (recipe, it, run, cur, time.time() - t0))
        if ck_path and time.time() - last_ck > args.ckpt_seconds:
            checkpoint()
            last_ck = time.time()
    if ck_path:
        checkpoint()
    return ema, it, time.time() - t0


def worker(args):
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.set_num_threads(args.threads)
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    fold = -1 if args.worker == "all" else int(args.worker)
    tag = "all" if fold < 0 else "f%d" % fold
    logf = open(os.path.join(args.work, "log_%s.txt" % tag), "a")

    def log(s):
        line = "[%s %6.1fs] %s" % (tag, time.time() - args.t0, s)
        logf.write(line + "\n")
        logf.flush()

    D = np.load(args.data)
    names = [str(n) for n in D["l8_names"]]
    splits = [str(s) for s in D["l8_splits"]]
    l8i, l8l = D["l8_img"], D["l8_lab"]
    oi, ol = D["ocn_img"], D["ocn_lab"]
    onames = [str(n) for n in D["ocn_names"]]
    folds = make_folds(names, list(l8l))
    tr = [i for i, n in enumerate(names) if folds[n] != fold]
    te = [i for i, n in enumerate(names) if folds[n] == fold]
    chip_no = [int(n.split("_")[1]) for n in onames]
    otr = [i for i, c in enumerate(chip_no) if OCN_FOLD[c] != fold]
    ote = [i for i, c in enumerate(chip_no) if OCN_FOLD[c] == fold]
    log("device %s, train %d L8 + %d OCN, held out %s %s" % (
        dev, len(tr), len(otr), [names[i] for i in te], [onames[i] for i in ote]))
    recipes = [r for r in args.recipes.split(",") if r]
    for j, rec in enumerate(recipes):
        if args.iters > 0:
            budget = float("inf")
        else:
            left = args.t0 + args.deadline - time.time() - 10.0 * (len(recipes) - j)
            budget = min(args.job_seconds, left / (len(recipes) - j))
            if budget < 5:
                log("%s skipped: deadline" % rec)
                continue
        model, iters, secs = train_one(rec, l8i[tr], l8l[tr], oi[otr], ol[otr], dev, budget, args, log, tag)
        model.eval()
        res = {"recipe": rec, "fold": fold, "iters": iters, "train_s": round(secs, 1),
               "budget_s": round(budget, 1) if args.iters <= 0 else None}
        if fold >= 0:
            t1 = time.time()
            res["patches"] = {}
            for i in te:
                img = l8i[i].astype(np.float32)
                res["patches"][names[i]] = {"split": splits[i],
                                            "cm30": cm_of(model, img, l8l[i], dev, 1, False),
                                            "cm60": cm_of(model, img, l8l[i], dev, 2, False)}
            res["ocn"] = {}
            for i in ote:
                img = oi[i].astype(np.float32)
                res["ocn"][onames[i]] = {"cm10": cm_of(model, img, ol[i], dev, 1, True),
                                         "cm30": cm_of(model, img, ol[i], dev, 3, True)}
            res["eval_s"] = round(time.time() - t1, 1)
            r30 = result_of([p["cm30"] for p in res["patches"].values()])
            log("%s done: %d it in %.0fs; fold cloud BOA 30m %.1f clear %.1f shadow %.1f" % (
                rec, iters, secs, r30["cloud_boa"], r30["clear_boa"], r30["shadow_boa"]))
        else:
            log("%s done: %d it in %.0fs (all data)" % (rec, iters, secs))
        sd = {k: (v.half() if v.is_floating_point() else v).cpu() for k, v in model.state_dict().items()}
        torch.save({"state": sd, "arch": RECIPES[rec][0], "recipe": rec, "fold": fold, "iters": iters},
                   os.path.join(args.work, "%s_%s.pt" % (rec, tag)))
        with open(os.path.join(args.work, "res_%s.jsonl" % tag), "a") as f:
            f.write(json.dumps(res) + "\n")
    log("worker done")


# ---------------------------------------------------------------- main

def summarise(results):
    """Protocol scores per recipe from the per-patch confusion matrices."""
    out = {}
    for rec in ORDER:
        rs = [r for r in results if r["recipe"] == rec and r["fold"] >= 0]
        folds = sorted(r["fold"] for r in rs)
        s = {"folds_done": folds, "iters": {str(r["fold"]): r["iters"] for r in rs}}
        per = {}
        for r in rs:
            r30 = result_of([p["cm30"] for p in r["patches"].values()])
            r60 = result_of([p["cm60"] for p in r["patches"].values()])
            per[str(r["fold"])] = {"30m": r30, "60m": r60}
        s["per_fold"] = per
        if per:
            terms = {}
            for gsd in ("30m", "60m"):
                for c in ("clear", "cloud", "shadow"):
                    v = [per[k][gsd][c + "_boa"] for k in per]
                    terms["%s_%s" % (c, gsd)] = float(np.nanmean(v))
            cl = [per[k]["30m"]["cloud_boa"] for k in per]
            s["fold_cloud30"] = cl
            s["spread_cloud30"] = float(max(cl) - min(cl))
            ocms = [o["cm10"] for r in rs for o in r["ocn"].values()]
            ocms30 = [o["cm30"] for r in rs for o in r["ocn"].values()]
            s["ocn_oof_10m"] = result_of(ocms, True) if ocms else None
            s["ocn_oof_30m"] = result_of(ocms30, True) if ocms30 else None
            terms["ocn_cloud_10m"] = s["ocn_oof_10m"]["cloud_boa"] if ocms else float("nan")
            s["terms"] = terms
            s["cv_score"] = float(np.nanmean(list(terms.values())))
            ex30 = [p["cm30"] for r in rs for p in r["patches"].values() if p["split"] == "extra"]
            ex60 = [p["cm60"] for r in rs for p in r["patches"].values() if p["split"] == "extra"]
            if ex30:
                e30, e60 = result_of(ex30), result_of(ex60)
                s["extra_oof_30m"], s["extra_oof_60m"] = e30, e60
                s["extra_oof_score"] = float(np.mean([e30["clear_boa"], e30["cloud_boa"], e30["shadow_boa"],
                                                      e60["clear_boa"], e60["cloud_boa"], e60["shadow_boa"]]))
            s["gap_cloud_30_60"] = terms["cloud_60m"] - terms["cloud_30m"]
        s["eligible"] = len(folds) == NFOLD
        out[rec] = s
    elig = [r for r in ORDER if out[r]["eligible"]]
    winner, note = None, ""
    if elig:
        ok = [r for r in elig if out[r]["spread_cloud30"] <= 8.0]
        pool = ok or elig
        if not ok:
            note = "no recipe meets the fold spread <= 8; highest CV score taken"
        best = max(out[r]["cv_score"] for r in pool)
        near = [r for r in pool if out[r]["cv_score"] >= best - 0.5]
        winner = "A" if "A" in near else max(near, key=lambda r: out[r]["cv_score"])
    return {"recipes": out, "winner": winner, "note": note}


def main():
    args = parse()
    if args.worker:
        worker(args)
        return
    t0 = time.time()
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.work, exist_ok=True)
    resume = args.ckpt_seconds > 0
    if resume:
        # keep the checkpoints; results and models of an earlier, finished
        # attempt are written again by the resumed workers
        for f in os.listdir(args.work):
            if f.startswith("res_") or (f.endswith(".pt") and not f.startswith("ckpt_")):
                os.remove(os.path.join(args.work, f))
    else:
        for f in os.listdir(args.work):
            os.remove(os.path.join(args.work, f))
    mainlog = open(os.path.join(args.out, "log.txt"), "a" if resume else "w")

    def log(s):
        line = "[main %6.1fs] %s" % (time.time() - t0, s)
        print(line, flush=True)
        mainlog.write(line + "\n")
        mainlog.flush()

    log("torch %s cuda %s %s" % (torch.__version__, torch.cuda.is_available(),
                                 torch.cuda.get_device_name(0) if torch.cuda.is_available() else ""))
    tags = [t for t in args.tags.split(",") if t]
    D = np.load(args.data)
    fold_of = make_folds([str(n) for n in D["l8_names"]], list(D["l8_lab"]))
    del D
    procs = {}
    for t in tags:
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", t, "--t0", str(t0)] + \
              [a for a in sys.argv[1:]]
        procs[t] = subprocess.Popen(cmd, stdout=open(os.path.join(args.work, "stdout_%s.txt" % t), "w"),
                                    stderr=subprocess.STDOUT)
    seen = 0
    hard = t0 + args.deadline + 45 if args.iters <= 0 else float("inf")
    while True:
        time.sleep(2 if args.smoke else 5)
        results = []
        for t in tags:
            p = os.path.join(args.work, "res_%s.jsonl" % ("all" if t == "all" else "f" + t))
            if os.path.exists(p):
                results += [json.loads(line) for line in open(p) if line.strip()]
        if len(results) != seen:
            seen = len(results)
            summ = summarise(results)
            summ["runs"] = [{k: v for k, v in r.items() if k not in ("patches", "ocn")} for r in results]
            summ["folds"] = fold_of
            with open(os.path.join(args.out, "cv_metrics.json"), "w") as f:
                json.dump({"summary": summ, "results": results}, f)
            for rec, s in summ["recipes"].items():
                if "cv_score" in s:
                    log("%s: folds %s CV score %.2f spread %.1f" % (rec, s["folds_done"], s["cv_score"], s["spread_cloud30"]))
        alive = [t for t, p in procs.items() if p.poll() is None]
        if not alive:
            break
        if time.time() > hard:
            log("hard deadline: killing %s" % alive)
            for t in alive:
                procs[t].kill()
            break
    for t in tags:
        rc = procs[t].poll()
        if rc:
            log("worker %s rc %s; tail:\n%s" % (t, rc, open(os.path.join(args.work, "stdout_%s.txt" % t)).read()[-3000:]))
    summ = summarise(results)
    summ["folds"] = fold_of
    w = summ["winner"]
    log("winner %s %s" % (w, summ["note"]))
    for rec, s in summ["recipes"].items():
        if "cv_score" in s:
            log("%s: CV %.2f terms %s spread %.1f fold cloud30 %s extra-oof %.2f iters %s" % (
                rec, s["cv_score"], {k: round(v, 1) for k, v in s["terms"].items()}, s["spread_cloud30"],
                [round(v, 1) for v in s["fold_cloud30"]], s.get("extra_oof_score", float("nan")), s["iters"]))
    # models: all-data model of every recipe, the winner's fold models in two files
    for rec in ORDER:
        p = os.path.join(args.work, "%s_all.pt" % rec)
        if os.path.exists(p):
            os.replace(p, os.path.join(args.out, "final_%s.pt" % rec))
    if w:
        packs = [(0, 1, 2), (3, 4)]
        for j, pk in enumerate(packs):
            d = {}
            for k in pk:
                p = os.path.join(args.work, "%s_f%d.pt" % (w, k))
                if os.path.exists(p):
                    d[k] = torch.load(p)
            torch.save(d, os.path.join(args.out, "folds_%s_%d.pt" % (w, j)))
    logs = ""
    for t in tags:
        p = os.path.join(args.work, "log_%s.txt" % ("all" if t == "all" else "f" + t))
        if os.path.exists(p):
            logs += open(p).read()
    mainlog.write(logs)
    mainlog.close()
    with open(os.path.join(args.out, "cv_metrics.json"), "w") as f:
        json.dump({"summary": summ, "results": results}, f)
    print("done in %.0fs" % (time.time() - t0), flush=True)


if __name__ == "__main__":
    main()

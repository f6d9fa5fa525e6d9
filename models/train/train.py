"""Train the omnicloud-rgn model (red, green, nir; dynamic z-score; mixed
resolution 10..60 m) on L8 Biome train + On Cloud N chips 1-3, select the
checkpoint on L8 Biome val, export ONNX + TorchScript. This is the recipe of
omnicloud-v1 (the default before run 6); `make train-model-v1` runs it into
out/train-model-v1 as omnicloud-v1.onnx. The defaults below (--out
models/builtin, omnicloud.onnx) date from when it was the default's recipe and
replace today's default `omnicloud` 2.0.0: pass --out and --onnx-name.

    /usr/bin/python3 models/train/train.py --data /work/shared/data --out out/train-model-v1 \
        --onnx-name omnicloud-v1.onnx --torchscript out/train-model-v1/omnicloud-v1.torchscript.pt
"""
import argparse
import copy
import json
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import DEFAULT_DATA, IGNORE, OCN_CLOUD, REPO, eval_l8, eval_ocn, load_l8, load_ocn  # noqa: E402
from model import STRIDE, CloudUNet  # noqa: E402
from zscore import zscore_torch  # noqa: E402


def parse():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--out", default=os.path.join(REPO, "models", "builtin"))
    ap.add_argument("--torchscript", default=os.path.join(REPO, "models", "omnicloud.torchscript.pt"))
    ap.add_argument("--onnx-name", default="omnicloud.onnx",
                    help="ONNX file name in --out (`make train-model-v1`: omnicloud-v1.onnx, as shipped)")
    ap.add_argument("--ckpt", default="/tmp/omnicloud_train")
    ap.add_argument("--iters", type=int, default=900)
    ap.add_argument("--bs", type=int, default=8)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--val-every", type=int, default=50)
    ap.add_argument("--p-ocn", type=float, default=0.3)
    ap.add_argument("--p-mosaic", type=float, default=0.3)
    ap.add_argument("--w-shadow", type=float, default=6.0)
    ap.add_argument("--w-thin", type=float, default=1.0)
    ap.add_argument("--w-clear", type=float, default=1.0)
    ap.add_argument("--p-native", type=float, default=0.25, help="share of batches at native GSD")
    ap.add_argument("--p-60", type=float, default=0.2, help="share of L8 batches at exactly 60 m")
    ap.add_argument("--ocn-gmax", type=float, default=60.0,
                    help="coarsest GSD (m) On Cloud N batches are resampled to (run 4: 30)")
    ap.add_argument("--ocn-train", default="1,2,3", help="On Cloud N chips used for training")
    ap.add_argument("--ocn-val", default="", help="On Cloud N chips used for validation (run 3: 3)")
    ap.add_argument("--gap-weight", type=float, default=0.0,
                    help="val score penalty per point of |cloud BOA 30 m - 60 m| on L8 val")
    ap.add_argument("--p-bright", type=float, default=0.0, help="prob. of brightening clear ground (L8)")
    ap.add_argument("--sel-window", type=int, default=1, help="checkpoint selection: centred window of val evals")
    ap.add_argument("--bias-max", type=float, default=1.0)
    ap.add_argument("--bias-shadow-min", type=float, default=-0.5)
    ap.add_argument("--bias-shadow-max", type=float, default=3.0)
    ap.add_argument("--width", default="12,24,48,96,112")
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--no-calibrate", action="store_true")
    ap.add_argument("--max-minutes", type=float, default=0, help="safety stop (0 = none)")
    return ap.parse_args()


class Sampler:
    """Builds mixed-resolution batches. Ground sampling distance g (m) is
    drawn per batch; images are resampled by native_res / g."""

    def __init__(self, l8, ocn, rng, args):
        self.l8 = [(torch.from_numpy(i), torch.from_numpy(l.astype(np.int64))) for _, i, l in l8]
        self.ocn = [(torch.from_numpy(np.nan_to_num(i, nan=0.0)), torch.from_numpy(l.astype(np.int64))) for _, i, l in ocn]
        shadow = np.array([(l == 3).mean() for _, _, l in l8])
        w = 1.0 + 30.0 * shadow
        self.l8_w = w / w.sum()
        self.rng = rng
        self.args = args

    def crop(self, img, lab, s):
        h, w = lab.shape
        y = self.rng.randint(0, h - s)
        x = self.rng.randint(0, w - s)
        return img[:, y:y + s, x:x + s], lab[y:y + s, x:x + s]

    def draw_g(self, native):
        r = self.rng.random()
        pn = self.args.p_native
        if r < pn:
            return native
        if native == 30 and r < pn + self.args.p_60:
            return 60.0
        gmax = 60.0 if native == 30 else self.args.ocn_gmax
        return math.exp(self.rng.uniform(math.log(10), math.log(gmax)))

    def batch(self):
        rng = self.rng
        ocn = rng.random() < self.args.p_ocn
        native, src_max = (10.0, 512) if ocn else (30.0, 256)
        g = self.draw_g(native)
        scale = native / g
        pmax = min(256, int(src_max * scale) // STRIDE * STRIDE)
        P = rng.choice([p for p in (128, 160, 192, 224, 256) if p <= pmax] or [pmax])
        S = min(src_max, int(round(P / scale)) // 2 * 2)
        xs, ys = [], []
        for _ in range(self.args.bs):
            if ocn:
                img, lab = self.crop(*self.ocn[rng.randrange(len(self.ocn))], S)
            elif rng.random() < self.args.p_mosaic and S >= 64:
                # 2x2 mosaic of crops from different scenes
                h = S // 2
                img = torch.zeros(3, 2 * h, 2 * h)
                lab = torch.zeros(2 * h, 2 * h, dtype=torch.int64)
                for qy in range(2):
                    for qx in range(2):
                        k = int(np.searchsorted(np.cumsum(self.l8_w), rng.random()))
                        k = min(k, len(self.l8) - 1)
                        i, l = self.crop(*self.l8[k], h)
                        img[:, qy * h:(qy + 1) * h, qx * h:(qx + 1) * h] = i
                        lab[qy * h:(qy + 1) * h, qx * h:(qx + 1) * h] = l
            else:
                k = int(np.searchsorted(np.cumsum(self.l8_w), rng.random()))
                k = min(k, len(self.l8) - 1)
                img, lab = self.crop(*self.l8[k], S)
            xs.append(img)
            ys.append(lab)
        x = torch.stack(xs)
        y = torch.stack(ys)
        sz = img.shape[-1]
        if P != sz:
            mode = rng.choice(["bilinear", "nearest"] + (["area"] if P < sz else []))
            if mode == "bilinear":
                x = F.interpolate(x, size=(P, P), mode="bilinear", align_corners=False, antialias=P < sz)
            else:
                x = F.interpolate(x, size=(P, P), mode=mode)
            y = F.interpolate(y[:, None].float(), size=(P, P), mode="nearest")[:, 0].long()
        if not ocn and self.args.p_bright > 0:
            x = self.brighten_clear(x, y)
        x = self.photometric(x)
        z = zscore_torch(x)
        # noise after normalisation
        if rng.random() < 0.5:
            z = z + torch.randn_like(z) * rng.uniform(0.0, 0.15)
        # geometric
        if rng.random() < 0.5:
            z, y = z.flip(-1), y.flip(-1)
        if rng.random() < 0.5:
            z, y = z.flip(-2), y.flip(-2)
        k = rng.randrange(4)
        if k:
            z, y = torch.rot90(z, k, (-2, -1)), torch.rot90(y, k, (-2, -1))
        return z.contiguous(), y.contiguous(), ocn

    def brighten_clear(self, x, y):
        """Label-aware: make clear ground brighter (per-sample factor 1-1.8,
        slightly spectrally tilted) so that bright soil / sand / urban is
        seen as clear, not cloud. Applied per sample with prob. p_bright."""
        rng = self.rng
        x = x.clamp(min=0)
        for i in range(x.shape[0]):
            if rng.random() < self.args.p_bright:
                f = rng.uniform(1.0, 1.8)
                tilt = torch.tensor([rng.uniform(0.9, 1.1), rng.uniform(0.9, 1.1), rng.uniform(0.9, 1.1)]).view(3, 1, 1)
                m = (y[i] == 0).float()[None]
                x[i] = x[i] * (1 + m * (f * tilt - 1))
        return x

    def photometric(self, x):
        rng = self.rng
        x = x.clamp(min=0)
        n = x.shape[0]
        # per-sample, per-channel gamma (a per-channel gain/offset would be
        # removed by the z-score, a gamma is not) and a little blur-free haze
        if rng.random() < 0.7:
            gam = torch.exp(torch.empty(n, 3, 1, 1).uniform_(math.log(0.7), math.log(1.4)))
            x = (x + 1e-3) ** gam
        if rng.random() < 0.3:
            # additive haze with a per-sample, spectrally tilted offset
            off = torch.empty(n, 1, 1, 1).uniform_(0, 0.08) * torch.tensor([1.0, 1.1, 0.8]).view(1, 3, 1, 1)
            x = x + off
        return x


def loss_fn(logits, y, ocn, args):
    lsm = F.log_softmax(logits, 1)
    if ocn:
        lp_cloud = torch.logsumexp(lsm[:, 1:3], 1)
        lp_not = torch.logsumexp(lsm[:, [0, 3]], 1)
        m = y != IGNORE
        nll = torch.where(y == OCN_CLOUD, -lp_cloud, -lp_not)
        return nll[m].mean() if m.any() else logits.sum() * 0
    w4 = torch.tensor([args.w_clear, 1.0, args.w_thin, args.w_shadow])
    ce4 = F.nll_loss(lsm, y, weight=w4, ignore_index=IGNORE)
    # merged 3-class term (clear / cloud / shadow), what the evaluation scores
    l3 = torch.stack([lsm[:, 0], torch.logsumexp(lsm[:, 1:3], 1), lsm[:, 3]], 1)
    y3 = y.clone()
    y3[y == 2] = 1
    y3[y == 3] = 2
    ce3 = F.nll_loss(l3, y3, weight=torch.tensor([args.w_clear, 1.0, args.w_shadow]), ignore_index=IGNORE)
    # soft dice on shadow (rare class)
    p = lsm[:, 3].exp()
    m = (y != IGNORE).float()
    t = (y == 3).float()
    dice = 1 - (2 * (p * t * m).sum() + 1) / ((p * m).sum() + (t * m).sum() + 1)
    return 0.5 * ce4 + ce3 + 0.3 * dice


def val_score(r30, r60, o10=None, o30=None, gap_weight=0.0):
    """Mean of clear / cloud / shadow BOA on L8 val at 30 m AND 60 m (run 2's
    6-term criterion); with a held-out On Cloud N validation chip (run 3) its
    cloud BOA at 10 m and 30 m join the mean (8 terms), and gap_weight
    subtracts that many points per point of |cloud BOA 30 m - 60 m| on L8 val.
    (Run 1 used the mean of 5 terms without clear at 60 m.)"""
    terms = [r30["clear_boa"], r30["cloud_boa"], r30["shadow_boa"],
             r60["clear_boa"], r60["cloud_boa"], r60["shadow_boa"]]
    if o10 is not None:
        terms += [o10["cloud_boa"], o30["cloud_boa"]]
    return sum(terms) / len(terms) - gap_weight * abs(r30["cloud_boa"] - r60["cloud_boa"])


def evaluate_val(model, val, oval, gap_weight):
    """Validation metrics and score (see val_score)."""
    r30 = eval_l8(model, val)
    r60 = eval_l8(model, val, down=2)
    o10 = o30 = None
    if oval:
        o10 = eval_ocn(model, oval)
        o30 = eval_ocn(model, oval, down=3)
    sc = val_score(r30, r60, o10, o30, gap_weight)
    line = ("score %.2f | 30m clear %.1f cloud %.1f shadow %.1f | 60m clear %.1f cloud %.1f shadow %.1f"
            % (sc, r30["clear_boa"], r30["cloud_boa"], r30["shadow_boa"],
               r60["clear_boa"], r60["cloud_boa"], r60["shadow_boa"]))
    if oval:
        line += " | ocn-val cloud 10m %.1f 30m %.1f" % (o10["cloud_boa"], o30["cloud_boa"])
    return sc, line


@torch.no_grad()
def calibrate(model, val, oval=(), gap_weight=0.0, step=0.25, bmax=1.0, smin=-0.5, smax=3.0):
    """Choose additive logit biases for cloud (thick+thin) and shadow that
    maximise the val score (L8 val at 30 and 60 m, plus the On Cloud N
    validation chips at 10 and 30 m when given); fold them into the head."""
    from common import Scores, area_down, upsample_to
    from zscore import zscore_torch as zt
    model.eval()
    cache = []
    sets = [("l8", 1, val), ("l8", 2, val)]
    if oval:
        sets += [("ocn", 1, oval), ("ocn", 3, oval)]
    for kind, down, items in sets:
        for _, img, lab in items:
            x = area_down(img, down) if down > 1 else img
            c, h, w = x.shape
            H, W = (h + 15) // 16 * 16, (w + 15) // 16 * 16
            xp = np.full((c, H, W), np.nan, np.float32)
            xp[:, :h, :w] = x
            lg = model(zt(torch.from_numpy(xp)[None]))[0, :, :h, :w]
            cache.append((kind, down, lg, lab))

    def score(bc, bs):
        res = {}
        for kind, down, _ in sets:
            s = Scores(binary=kind == "ocn")
            for k, d, lg, lab in cache:
                if k != kind or d != down:
                    continue
                b = torch.tensor([0.0, bc, bc, bs]).view(4, 1, 1)
                p = (lg + b).argmax(0).numpy().astype(np.uint8)
                if d > 1:
                    p = upsample_to(p, d, lab.shape)
                s.add(p, lab)
            res[(kind, down)] = s.result()
        return val_score(res[("l8", 1)], res[("l8", 2)], res.get(("ocn", 1)), res.get(("ocn", 3)), gap_weight), res

    base, _ = score(0.0, 0.0)
    best = (base, 0.0, 0.0)
    for bc in np.arange(-bmax, bmax + 1e-4, step):
        for bs in np.arange(max(smin, -bmax), min(smax, bmax) + 1e-4, step):
            sc, _ = score(float(bc), float(bs))
            if sc > best[0] + 1e-9:
                best = (sc, float(bc), float(bs))
    print("calibration: val score %.2f -> %.2f with cloud bias %+.2f shadow bias %+.2f"
          % (base, best[0], best[1], best[2]), flush=True)
    if best[0] - base < 0.5:
        print("calibration gain < 0.5, not applied", flush=True)
        return 0.0, 0.0
    model.head.bias[1:3] += best[1]
    model.head.bias[3] += best[2]
    return best[1], best[2]


def main():
    args = parse()
    torch.set_num_threads(args.threads)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    os.makedirs(args.ckpt, exist_ok=True)

    l8 = load_l8(args.data, "train")
    val = load_l8(args.data, "val")
    chips = lambda spec: [int(v) for v in spec.split(",") if v.strip()]  # noqa: E731
    ocn = [load_ocn(args.data, n) for n in chips(args.ocn_train)]
    oval = [load_ocn(args.data, n) for n in chips(args.ocn_val)]
    if set(chips(args.ocn_train) + chips(args.ocn_val)) & {4, 5}:
        sys.exit("train.py: On Cloud N chips 4-5 are the held-out test set")
    print("train l8 %d, ocn %d, val l8 %d, ocn %d" % (len(l8), len(ocn), len(val), len(oval)), flush=True)

    width = tuple(int(v) for v in args.width.split(","))
    model = CloudUNet(w=width)
    print("params", sum(p.numel() for p in model.parameters()), flush=True)
    ema = copy.deepcopy(model).eval()
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.wd)

    def lr_at(f):
        # 10 % linear warm-up, then cosine decay to 1 % of the peak
        if f < 0.1:
            return args.lr * (0.04 + 0.96 * f / 0.1)
        return args.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1.0, (f - 0.1) / 0.9))))
    sampler = Sampler(l8, ocn, rng, args)

    best, best_it = -1.0, -1
    hist = []
    t0 = time.time()
    run = 0.0
    for it in range(1, args.iters + 1):
        # schedule progress: by iteration, or by wall-clock when a time budget
        # is given and the machine is slower than planned (then training stops
        # when the budget is spent, with the LR fully annealed)
        f = (it - 1) / args.iters
        if args.max_minutes:
            f = max(f, (time.time() - t0) / (60 * args.max_minutes))
        capped = f >= 1.0
        if capped:
            print("time budget reached at it %d" % it, flush=True)
        for gr in opt.param_groups:
            gr["lr"] = lr_at(min(f, 1.0))
        if not capped:
            model.train()
            x, y, is_ocn = sampler.batch()
            loss = loss_fn(model(x), y, is_ocn, args)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                d = min(0.99, (1 + it) / (10 + it))
                for pe, pm in zip(ema.parameters(), model.parameters()):
                    pe.mul_(d).add_(pm.detach(), alpha=1 - d)
                for be, bm in zip(ema.buffers(), model.buffers()):
                    be.copy_(bm)
            run = 0.95 * run + 0.05 * loss.item() if it > 1 else loss.item()
        if it % 20 == 0:
            print("it %d loss %.4f lr %.2e %.0fs" % (it, run, opt.param_groups[0]["lr"], time.time() - t0), flush=True)
        if it % args.val_every == 0 or it == args.iters or capped:
            sc, line = evaluate_val(ema, val, oval, args.gap_weight)
            print("VAL it %d %s" % (it, line), flush=True)
            hist.append((it, sc))
            torch.save({"state": ema.state_dict(), "width": width, "it": it, "score": sc},
                       os.path.join(args.ckpt, "val_%05d.pt" % it))
            if sc > best:
                best, best_it = sc, it
        if capped:
            break
    print("best val score %.2f at it %d, train time %.0fs" % (best, best_it, time.time() - t0), flush=True)
    # checkpoint selection: highest mean val score over a centred window of
    # val evaluations (reduces the noise of 8 val images)
    hw = args.sel_window // 2
    sm = []
    for j in range(len(hist)):
        win = [s for _, s in hist[max(0, j - hw):j + hw + 1]]
        sm.append(sum(win) / len(win))
    j = int(np.argmax(sm))
    print("selection (window %d): it %d smoothed val %.2f (raw %.2f)" % (args.sel_window, hist[j][0], sm[j], hist[j][1]), flush=True)
    ck = torch.load(os.path.join(args.ckpt, "val_%05d.pt" % hist[j][0]))
    torch.save(ck, os.path.join(args.ckpt, "best.pt"))
    torch.save({"state": ema.state_dict(), "width": width, "it": args.iters}, os.path.join(args.ckpt, "last.pt"))
    if not args.no_export:
        from export import export
        ck = torch.load(os.path.join(args.ckpt, "best.pt"))
        m = CloudUNet(w=ck["width"])
        m.load_state_dict(ck["state"])
        bc, bs = (0.0, 0.0) if args.no_calibrate else calibrate(
            m, val, oval, args.gap_weight, bmax=args.bias_max, smin=args.bias_shadow_min, smax=args.bias_shadow_max)
        _, line = evaluate_val(m, val, oval, args.gap_weight)
        print("FINAL val %s" % line, flush=True)
        torch.save({"state": m.state_dict(), "width": ck["width"], "it": ck["it"], "score": ck["score"],
                    "bias_cloud": bc, "bias_shadow": bs}, os.path.join(args.ckpt, "final.pt"))
        export(m, args.out, args.torchscript,
               extra={"train_iters": args.iters, "best_iter": ck["it"], "val_score": round(ck["score"], 2),
                      "bias_cloud": bc, "bias_shadow": bs}, onnx_name=args.onnx_name)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""PyTorch reference of leukograph's analysis chain, for bench/run.ts (Debian's python3-torch,
python3-torchvision, python3-sklearn; run with /usr/bin/python3).

The same chain on the same images: decode + resize (PIL, longer side = the detector's input size),
the same Mask R-CNN weights (the training checkpoint through training/detector/model.py), masks pasted
into the image (torchvision), the 256x14x14 instance features min-max scaled per cell and encoded by the
AE-CFE encoder of a leukograph preset (its layer plan is passed in as JSON, so the network mirrors
src/engine/autoencoder/presets.ts; weights are untrained: timing only), then scikit-learn's
RandomForestClassifier(100, max_depth=16) predict_proba. Per image, like leukograph's analyze job; no
database (leukograph's figure includes PostgreSQL, this one does not).

Speaks one JSON line per request on stdin, one JSON line per answer on stdout:
  {"cmd":"init","ckpt":PATH,"plan":PATH,"preset":"cpu","threads":2}
  {"cmd":"run","files":[...],"minCells":N}
  {"cmd":"ae_train","preset":"cpu","batch":64,"steps":5,"align":1}
  {"cmd":"ae_init","plan":PATH,"threads":2}   the autoencoder only (no detector): for ae_train alone
  {"cmd":"flops","file":PATH}        detector conv/linear FLOPs for one image, and torch's sgemm GFLOP/s
"""
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "training", "detector"))

STATE = {}


# ---------------------------------------------------------------------------------------------------
# AE-CFE autoencoder from a leukograph preset's layer plan

class GroupNormRef(nn.Module):
    """The reference GroupNorm: x.view(N, G, -1), variance with Bessel's correction, per-channel affine."""

    def __init__(self, groups, channels, eps, unbiased):
        super().__init__()
        self.g, self.eps, self.unbiased = groups, eps, unbiased
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        n, c, h, w = x.shape
        r = x.reshape(n, self.g, -1)
        mean = r.mean(2, keepdim=True)
        var = r.var(2, keepdim=True, unbiased=self.unbiased)
        r = (r - mean) / torch.sqrt(var + self.eps)
        return r.reshape(n, c, h, w) * self.weight.view(1, c, 1, 1) + self.bias.view(1, c, 1, 1)


ACTS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "linear": nn.Identity}


def stage(layers, gn):
    mods = []
    for L in layers:
        pad = 0 if L["pad"] == "valid" else L["k"] // 2
        if L["kind"] == "conv":
            mods.append(nn.Conv2d(L["cin"], L["cout"], L["k"], L["stride"], pad))
        else:
            mods.append(nn.ConvTranspose2d(L["cin"], L["cout"], L["k"], L["stride"], pad))
        mods.append(ACTS[L["act"]]())
        if L.get("groupNorm") is not None:
            mods.append(GroupNormRef(L["groupNorm"], L["cout"], gn["eps"], gn["unbiased"]))
    return nn.Sequential(*mods)


class Autoencoder(nn.Module):
    def __init__(self, plan):
        super().__init__()
        p = plan["preset"]
        self.p = p
        self.encoder = stage(plan["encoder"], p["groupNorm"])
        self.feature_decoder = stage(plan["featureDecoder"], p["groupNorm"])
        self.image_decoder = stage(plan["imageDecoder"], p["groupNorm"])

    def forward(self, x):
        z = self.encoder(x)
        f = self.feature_decoder(z)
        return z, f, self.image_decoder(f)


def scale_minmax(x):
    """Per sample 2 (f - min) / (max - min) - 1, as leukograph's scaleFeaturesMinMax."""
    n = x.shape[0]
    flat = x.reshape(n, -1)
    lo = flat.min(1, keepdim=True).values
    hi = flat.max(1, keepdim=True).values
    return (2 * (flat - lo) / (hi - lo).clamp_min(1e-12) - 1).reshape(x.shape)


def gaussian_window(window, sigma, channels):
    g = torch.tensor([math.exp(-((i - window // 2) ** 2) / (2 * sigma * sigma)) for i in range(window)])
    g = g / g.sum()
    w2 = (g[:, None] @ g[None, :]).float()
    return w2.expand(channels, 1, window, window).contiguous()


def ssim(a, b, win, pad, c1, c2):
    ch = a.shape[1]
    mu1 = F.conv2d(a, win, padding=pad, groups=ch)
    mu2 = F.conv2d(b, win, padding=pad, groups=ch)
    s11 = F.conv2d(a * a, win, padding=pad, groups=ch) - mu1 * mu1
    s22 = F.conv2d(b * b, win, padding=pad, groups=ch) - mu2 * mu2
    s12 = F.conv2d(a * b, win, padding=pad, groups=ch) - mu1 * mu2
    m = ((2 * mu1 * mu2 + c1) * (2 * s12 + c2)) / ((mu1 * mu1 + mu2 * mu2 + c1) * (s11 + s22 + c2))
    return m.mean()


def alignment(zs, zt):
    mean = ((zs.mean(0) - zt.mean(0)) ** 2).mean()
    ls = torch.log_softmax(torch.cov(zs.T), 1)
    lt = torch.log_softmax(torch.cov(zt.T), 1)
    return mean + 0.5 * ((lt.exp() - ls.exp()) * (lt - ls)).mean()


# ---------------------------------------------------------------------------------------------------
# Requests

def cmd_init(m):
    torch.set_num_threads(int(m.get("threads", 2)))
    from model import build_model, DetectorExport
    from sklearn.ensemble import RandomForestClassifier
    ck = torch.load(m["ckpt"], map_location="cpu")
    size = ck.get("size", 256)
    det = build_model(size)
    det.load_state_dict(ck["model"])
    det.eval()
    STATE["size"] = size
    STATE["det"] = DetectorExport(det).eval()
    plans = json.load(open(m["plan"]))
    STATE["plans"] = plans
    torch.manual_seed(0)
    STATE["ae"] = Autoencoder(plans[m.get("preset", "cpu")]).eval()
    # The forest: fitted on random latents (setup, untimed); predict cost does not depend on the values.
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2000, 50)).astype(np.float32)
    y = rng.integers(0, 5, 2000)
    STATE["rf"] = RandomForestClassifier(n_estimators=100, max_depth=16, max_features="sqrt", n_jobs=1, random_state=0).fit(x, y)
    import sklearn
    return {"torch": torch.__version__, "sklearn": sklearn.__version__, "threads": torch.get_num_threads(),
            "checkpoint_iter": ck.get("iter"), "input_size": size}


def load_image(path):
    from PIL import Image
    img = Image.open(path).convert("RGB")
    w, h = img.size
    s = STATE["size"] / max(w, h)
    small = img.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BILINEAR)
    x = torch.from_numpy(np.asarray(small, dtype=np.float32).transpose(2, 0, 1).copy())
    return x, w, h


def analyze(path):
    from torchvision.models.detection.roi_heads import paste_masks_in_image
    from model import suppress_contained
    x, w, h = load_image(path)
    with torch.no_grad():
        boxes, scores, masks, feats = STATE["det"](x)
        keep = suppress_contained(boxes, scores)  # as the engine does (model card: containment_suppression)
        boxes, scores, masks, feats = boxes[keep], scores[keep], masks[keep], feats[keep]
        n = boxes.shape[0]
        if n:
            sx, sy = w / x.shape[2], h / x.shape[1]
            ob = boxes * torch.tensor([sx, sy, sx, sy])
            ob[:, 0::2] = ob[:, 0::2].clamp(0, w)
            ob[:, 1::2] = ob[:, 1::2].clamp(0, h)
            pasted = paste_masks_in_image(masks, ob, (h, w), padding=1)[:, 0] > 0.5
            # COCO-style run lengths (column-major), as leukograph stores them.
            for k in range(n):
                flat = pasted[k].T.reshape(-1).numpy().astype(np.int8)
                np.flatnonzero(np.diff(flat))
            z = STATE["ae"].encoder(scale_minmax(feats)).reshape(n, -1).numpy()
            STATE["rf"].predict_proba(z)
    return n


def cmd_run(m):
    files = m["files"]
    min_cells = m.get("minCells") or 0
    cells = images = 0
    t0, c0 = time.perf_counter(), time.process_time()
    while True:
        for f in files:
            cells += analyze(f)
            images += 1
            if min_cells and cells >= min_cells:
                break
        if not min_cells or cells >= min_cells or not files:
            break
    return {"images": images, "cells": cells, "wallS": time.perf_counter() - t0, "cpuS": time.process_time() - c0}


def cmd_ae_init(m):
    torch.set_num_threads(int(m.get("threads", 2)))
    STATE["plans"] = json.load(open(m["plan"]))
    return {"torch": torch.__version__, "threads": torch.get_num_threads()}


def cmd_ae_train(m):
    p = STATE["plans"][m["preset"]]
    pr = p["preset"]
    torch.manual_seed(1)
    ae = Autoencoder(p).train()
    opt = torch.optim.Adam(ae.parameters(), lr=pr["learningRate"], betas=(pr["adam"]["beta1"], pr["adam"]["beta2"]), eps=pr["adam"]["eps"])
    b, S, C, I = m["batch"], pr["inputSize"], pr["inputChannels"], pr["imageSize"]
    xs = torch.randn(b, C, S, S)
    img = torch.rand(b, 3, I, I)
    others = [torch.randn(b, C, S, S) + 0.3 for _ in range(m.get("align", 1))]
    win = gaussian_window(pr["ssim"]["window"], pr["ssim"]["sigma"], 3)
    s = pr["ssim"]

    def step():
        opt.zero_grad()
        x = scale_minmax(xs)
        z, f, im = ae(x)
        loss = (1 - ssim(im, img, win, s["padding"], s["c1"], s["c2"])) + F.mse_loss(f, x)
        for o in others:
            zt = ae.encoder(scale_minmax(o)).reshape(b, -1)
            loss = loss + pr["alignWeight"] * alignment(z.reshape(b, -1), zt)
        loss.backward()
        opt.step()
        return float(loss)

    step()  # warm-up
    ms = []
    for _ in range(m["steps"]):
        t = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t) * 1000)
    med = float(np.median(ms))
    return {"preset": m["preset"], "backend": "pytorch-cpu", "threads": torch.get_num_threads(), "batch": b,
            "alignDomains": len(others), "steps": len(ms), "msPerStep": med, "msPerStepRuns": ms,
            "sourceSamplesPerSec": b * 1000 / med}


def cmd_flops(m):
    """Multiply-adds x2 of the detector's convolutions and linear layers for one image (what bounds it),
    and the rate torch's sgemm reaches on this machine with the set threads."""
    x, _, _ = load_image(m["file"])
    total = [0]

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            total[0] += 2 * out.numel() * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]
        elif isinstance(mod, nn.ConvTranspose2d):
            total[0] += 2 * inp[0].numel() * mod.out_channels * mod.kernel_size[0] * mod.kernel_size[1] // mod.groups
        elif isinstance(mod, nn.Linear):
            total[0] += 2 * out.numel() * mod.in_features

    hs = [mm.register_forward_hook(hook) for mm in STATE["det"].modules() if isinstance(mm, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))]
    with torch.no_grad():
        t = time.perf_counter()
        out = STATE["det"](x)
        det_ms = (time.perf_counter() - t) * 1000
    for hh in hs:
        hh.remove()
    def det_ms(threads):
        torch.set_num_threads(threads)
        with torch.no_grad():
            STATE["det"](x)
            ts = []
            for _ in range(3):
                t = time.perf_counter()
                STATE["det"](x)
                ts.append((time.perf_counter() - t) * 1000)
        return float(np.median(ts))

    # The set thread count, and 1 thread: when 1 thread is faster, another process holds a core and
    # OpenMP's barriers wait for it (the figures at the set count are then pessimistic for PyTorch).
    threads = torch.get_num_threads()
    one = det_ms(1)
    ts = [det_ms(threads)]
    n = 1024
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(5):  # best of 5: the machine's rate, not its load
        t = time.perf_counter()
        for _ in range(4):
            a @ b
        best = min(best, (time.perf_counter() - t) / 4)
    sgemm = 2 * n ** 3 / best / 1e9
    return {"detectorGflop": total[0] / 1e9, "detections": int(out[0].shape[0]), "torchDetectorMs": float(np.median(ts)), "torchDetectorMs1Thread": one,
            "sgemmGflops": sgemm, "threads": torch.get_num_threads(), "inputShape": list(x.shape)}


CMDS = {"init": cmd_init, "ae_init": cmd_ae_init, "run": cmd_run, "ae_train": cmd_ae_train, "flops": cmd_flops}


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            m = json.loads(line)
            out = CMDS[m["cmd"]](m)
        except Exception as e:  # answer, do not die: the bench reports the error
            import traceback
            out = {"error": f"{type(e).__name__}: {e}\n{traceback.format_exc()[-1500:]}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

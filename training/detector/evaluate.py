"""Measure the WBC detector on the held-out splits (splits.json).

  /usr/bin/python3 training/detector/evaluate.py --ckpt training/detector/runs/r18gn256/best.pt --threads 1

Runs exactly what the ONNX graph runs (model.DetectorExport, eager PyTorch, CPU): each image is resized
(PIL bilinear) so its longer side is the model input size, boxes are scaled back to the original image
and the 28x28 mask probabilities are pasted into the box at the original resolution (threshold 0.5).
  - TXL-PBC test split: WBC recall / precision at IoU 0.5 (greedy one-to-one matching in score order),
    overall and per source.
  - BCCD / Zheng DS2 held-out 20 %: whole-cell mask IoU; per annotated cell, the IoU of the best-matching
    predicted mask (0 when nothing was found); also the IoU of the union of predicted masks with the union
    of annotated cells per image.
  - Acevedo-20 held-out sample (splits.json acevedo_test, images neither trained on nor in TXL-PBC):
    fraction of images where exactly one WBC is found.
  - Timing: forward ms/image at the input size (torch CPU, --threads).
"""
import argparse
import json
import os
import sys
import time
from collections import defaultdict

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data as D  # noqa: E402
from model import build_model, DetectorExport, paste_masks, suppress_contained, CONTAINMENT, SCORE_THRESH  # noqa: E402
from train import match_counts  # noqa: E402


class Runner:
    def __init__(self, ckpt, device):
        ck = torch.load(ckpt, map_location="cpu")
        self.size = ck.get("size", 256)
        m = build_model(self.size)
        m.load_state_dict(ck["model"])
        m.eval()
        self.exp = DetectorExport(m).to(device).eval()
        self.device = device
        self.iter = ck.get("iter")
        self.times = []
        self.containment = CONTAINMENT

    @torch.no_grad()
    def __call__(self, img):
        h, w = img.shape[:2]
        r = D.resize_record(dict(img=img, boxes=np.zeros((0, 4), np.float32), masks=None), self.size)
        sx, sy = r["scale"]
        x = torch.from_numpy(r["img"].transpose(2, 0, 1).copy()).float().to(self.device)
        t0 = time.perf_counter()
        b, s, m, f = self.exp(x)
        self.times.append(time.perf_counter() - t0)
        if self.containment:
            keep = suppress_contained(b, s, self.containment)
            b, s, m = b[keep], s[keep], m[keep]
        b = b.cpu() / torch.tensor([sx, sy, sx, sy])
        masks = paste_masks(m.cpu(), b, h, w).numpy()
        return b.numpy(), s.cpu().numpy(), masks


def mask_iou(a, b):
    u = (a | b).sum()
    return float((a & b).sum() / u) if u else 1.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "runs", "r18gn256", "best.pt"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n-acevedo", type=int, default=600)
    ap.add_argument("--out", default=None)
    ap.add_argument("--containment", type=float, default=CONTAINMENT, help="containment suppression (0 = off: the raw model)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    run = Runner(args.ckpt, device)
    run.containment = args.containment
    sp = D.load_splits()
    res = {"ckpt": os.path.relpath(args.ckpt, os.path.join(HERE, "../..")), "iter": run.iter,
           "input_size": run.size, "score_thresh": SCORE_THRESH, "containment_suppression": args.containment, "threads": args.threads, "device": str(device)}

    # TXL-PBC test
    meta = {r["New_Image_Name"]: r for r in D.txl_meta()}
    per = defaultdict(lambda: [0, 0, 0, 0])
    for n in sp["txl_test"]:
        rec = D.txl_record(n, meta, with_masks=False)
        b, s, _ = run(rec["img"])
        tp, npred, ngt = match_counts(b, rec["boxes"])
        for k in ("all", meta[n]["Source_Dataset"]):
            per[k][0] += tp
            per[k][1] += npred
            per[k][2] += ngt
            per[k][3] += 1
    res["txl_test"] = {k: {"images": v[3], "gt": v[2], "pred": v[1], "tp": v[0],
                           "recall": v[0] / max(1, v[2]), "precision": v[0] / max(1, v[1])} for k, v in per.items()}
    print("TXL", json.dumps(res["txl_test"]), flush=True)

    # mask IoU
    for key, names, loader in (("bccd_test", sp["bccd_test"], D.bccd_record), ("zheng_test", sp["zheng_test"], D.zheng_record)):
        inst, union, top = [], [], []
        nimg = 0
        for n in names:
            rec = loader(n)
            if len(rec["boxes"]) == 0:
                continue
            nimg += 1
            b, s, pm = run(rec["img"])
            for g in rec["masks"]:
                inst.append(max([mask_iou(p, g) for p in pm], default=0.0))
            gu = rec["cell"] if key == "zheng_test" else rec["masks"].any(0)
            union.append(mask_iou(pm.any(0) if len(pm) else np.zeros_like(gu), gu))
            if len(rec["masks"]) == 1:
                top.append(mask_iou(pm[0], rec["masks"][0]) if len(pm) else 0.0)
        res[key] = {"images": nimg, "cells": len(inst), "mean_instance_iou": float(np.mean(inst)),
                    "median_instance_iou": float(np.median(inst)),
                    "frac_instance_iou_ge_0.85": float(np.mean(np.array(inst) >= 0.85)),
                    "mean_union_iou": float(np.mean(union)),
                    "mean_top_detection_iou_single_cell_images": float(np.mean(top)) if top else None}
        print(key, json.dumps(res[key]), flush=True)

    # Acevedo-20 exactly one
    counts = defaultdict(lambda: [0, 0])
    complete = defaultdict(lambda: [0, 0])
    hist = defaultdict(int)
    failures = []
    ace = list(sp["acevedo_test"])
    if args.n_acevedo < len(ace):
        import random
        ace = sorted(random.Random(0).sample(ace, args.n_acevedo))
    res["acevedo_images_evaluated"] = len(ace)
    for p in ace:
        rec = D.acevedo_record(p, with_masks=False)
        b, s, _ = run(rec["img"])
        h, w = rec["img"].shape[:2]
        # A second figure: counting only cells not cut by the image border (box edge >= 2 px inside),
        # the counting-frame rule of manual differentials; a border-cut central cell counts as missing.
        inside = [bool(x1 >= 2 and y1 >= 2 and x2 <= w - 2 and y2 <= h - 2) for x1, y1, x2, y2 in b.tolist()]
        cls = p.split("/")[0]
        for k in ("all", cls):
            counts[k][0] += int(len(b) == 1)
            counts[k][1] += 1
            complete[k][0] += int(sum(inside) == 1)
            complete[k][1] += 1
        hist[min(len(b), 3)] += 1
        if len(b) != 1 or sum(inside) != 1:
            failures.append({"image": p, "boxes": [[round(v, 1) for v in bb] for bb in b.tolist()],
                             "scores": [round(float(v), 3) for v in s], "cut_by_border": [not i for i in inside]})
    res["acevedo_exactly_one"] = {k: {"images": v[1], "exactly_one": v[0] / v[1]} for k, v in counts.items()}
    res["acevedo_count_hist"] = {("3+" if k == 3 else str(k)): v for k, v in sorted(hist.items())}
    res["acevedo_exactly_one_complete_cell"] = {k: {"images": v[1], "exactly_one": v[0] / v[1]} for k, v in complete.items()}
    res["acevedo_failures"] = failures
    print("ACEVEDO", json.dumps(res["acevedo_exactly_one"]), res["acevedo_count_hist"], flush=True)
    print("ACEVEDO complete cells", json.dumps(res["acevedo_exactly_one_complete_cell"]["all"]), flush=True)
    t = np.array(run.times[5:])
    res["forward_ms_per_image"] = {"mean": float(t.mean() * 1000), "median": float(np.median(t) * 1000), "n": len(t)}
    print("timing", res["forward_ms_per_image"])
    out = args.out or os.path.join(HERE, "runs", "eval.json")
    json.dump(res, open(out, "w"), indent=1)
    print("wrote", out)


if __name__ == "__main__":
    main()

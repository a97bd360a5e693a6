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

Threshold sweep (no retraining; mask IoU skipped):

  /usr/bin/python3 training/detector/evaluate.py --ckpt ... --threads 1 --sweep 0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9

runs the model once per TXL-PBC test / Acevedo-20 image with the box score threshold set to the lowest
value of the sweep, then, for every threshold t, keeps the detections with score > t (torchvision's
strict rule), applies the same containment suppression and computes the TXL-PBC and Acevedo-20 metrics
above. This equals running the model at t: NMS (one class) and containment suppression drop a box only
because of a kept higher-scoring box, the RPN and the box scores do not depend on the threshold, and the
per-image cap (100 detections) never binds (the RPN passes at most 100 proposals per image at test time).
The raw detections are kept (--raw-out) so that --from-raw can recompute the sweep without the model.
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
from train import box_iou, match_counts, match_pairs  # noqa: E402


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
    def forward_raw(self, img):
        """Model outputs before containment suppression: boxes (input pixels), scores, mask probabilities,
        resize factors (sx, sy)."""
        r = D.resize_record(dict(img=img, boxes=np.zeros((0, 4), np.float32), masks=None), self.size)
        x = torch.from_numpy(r["img"].transpose(2, 0, 1).copy()).float().to(self.device)
        t0 = time.perf_counter()
        b, s, m, f = self.exp(x)
        self.times.append(time.perf_counter() - t0)
        return b.cpu(), s.cpu(), m.cpu(), r["scale"]

    def __call__(self, img):
        h, w = img.shape[:2]
        return postprocess(*self.forward_raw(img), h, w, self.containment)


class OnnxEval(Runner):
    """--onnx: the ONNX model through onnxruntime-node (the engine's runtime; onnx_runner.py), same metrics."""

    def __init__(self, onnx_path, threads):
        from onnx_runner import OnnxRunner
        self.inner = OnnxRunner(onnx_path, threads)
        self.size = self.inner.size
        self.iter = None
        self.containment = CONTAINMENT
        self.device = "onnxruntime-node cpu"

    @property
    def times(self):
        return self.inner.times

    def forward_raw(self, img):
        return self.inner.forward_raw(img)


def postprocess(b, s, m, scale, h, w, containment, score_thresh=None, with_masks=True):
    """Model outputs (input pixels) -> score filter (score > score_thresh, torchvision's rule; None: no
    filter), containment suppression, boxes in image pixels, masks pasted (with_masks; m may be None)."""
    if score_thresh is not None:
        keep = s > score_thresh
        b, s = b[keep], s[keep]
        m = m[keep] if m is not None else None
    if containment:
        keep = suppress_contained(b, s, containment)
        b, s = b[keep], s[keep]
        m = m[keep] if m is not None else None
    sx, sy = scale
    b = b / torch.tensor([sx, sy, sx, sy])
    masks = paste_masks(m, b, h, w).numpy() if with_masks else None
    return b.numpy(), s.numpy(), masks


def txl_add(per, source, b, gt):
    """Accumulate TXL-PBC counts [tp, n_pred, n_gt, images] for 'all' and the source."""
    tp, npred, ngt = match_counts(b, gt)
    for k in ("all", source):
        per[k][0] += tp
        per[k][1] += npred
        per[k][2] += ngt
        per[k][3] += 1


def txl_summary(per):
    return {k: {"images": v[3], "gt": v[2], "pred": v[1], "tp": v[0],
                "recall": v[0] / max(1, v[2]), "precision": v[0] / max(1, v[1])} for k, v in per.items()}


def acevedo_add(counts, complete, hist, cls, b, h, w):
    """Accumulate the Acevedo-20 exactly-one counts; returns the per-box 'not cut by the border' flags."""
    # A second figure: counting only cells not cut by the image border (box edge >= 2 px inside),
    # the counting-frame rule of manual differentials; a border-cut central cell counts as missing.
    inside = [bool(x1 >= 2 and y1 >= 2 and x2 <= w - 2 and y2 <= h - 2) for x1, y1, x2, y2 in b.tolist()]
    for k in ("all", cls):
        counts[k][0] += int(len(b) == 1)
        counts[k][1] += 1
        complete[k][0] += int(sum(inside) == 1)
        complete[k][1] += 1
    hist[min(len(b), 3)] += 1
    return inside


def acevedo_summary(v):
    return {k: {"images": c[1], "exactly_one": c[0] / c[1]} for k, c in v.items()}


def acevedo_sample(sp, n):
    ace = list(sp["acevedo_test"])
    if n < len(ace):
        import random
        ace = sorted(random.Random(0).sample(ace, n))
    return ace


def mask_iou(a, b):
    u = (a | b).sum()
    return float((a & b).sum() / u) if u else 1.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "runs", "r18gn256", "best.pt"))
    ap.add_argument("--onnx", default=None, help="evaluate this ONNX model through onnxruntime-node instead of --ckpt (e.g. models/detector-int8.onnx)")
    ap.add_argument("--skip-acevedo", action="store_true", help="leave out the Acevedo-20 exactly-one figures")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--n-acevedo", type=int, default=600)
    ap.add_argument("--out", default=None)
    ap.add_argument("--containment", type=float, default=CONTAINMENT, help="containment suppression (0 = off: the raw model)")
    ap.add_argument("--sweep", default=None, help="comma-separated score thresholds: threshold sweep (see the docstring)")
    ap.add_argument("--raw-out", default=None, help="sweep: where to keep the raw detections (default runs/sweep_raw.json)")
    ap.add_argument("--from-raw", default=None, help="sweep: recompute from these raw detections, without the model")
    args = ap.parse_args()
    if args.sweep:
        return sweep(args)
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    run = OnnxEval(args.onnx, args.threads) if args.onnx else Runner(args.ckpt, device)
    run.containment = args.containment
    sp = D.load_splits()
    res = {"ckpt": os.path.relpath(args.onnx or args.ckpt, os.path.join(HERE, "../..")), "iter": run.iter,
           "input_size": run.size, "score_thresh": SCORE_THRESH, "containment_suppression": args.containment, "threads": args.threads, "device": str(device)}

    # TXL-PBC test
    meta = {r["New_Image_Name"]: r for r in D.txl_meta()}
    per = defaultdict(lambda: [0, 0, 0, 0])
    for n in sp["txl_test"]:
        rec = D.txl_record(n, meta, with_masks=False)
        b, s, _ = run(rec["img"])
        txl_add(per, meta[n]["Source_Dataset"], b, rec["boxes"])
    res["txl_test"] = txl_summary(per)
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
    ace = [] if args.skip_acevedo else acevedo_sample(sp, args.n_acevedo)
    res["acevedo_images_evaluated"] = len(ace)
    for p in ace:
        rec = D.acevedo_record(p, with_masks=False)
        b, s, _ = run(rec["img"])
        h, w = rec["img"].shape[:2]
        inside = acevedo_add(counts, complete, hist, p.split("/")[0], b, h, w)
        if len(b) != 1 or sum(inside) != 1:
            failures.append({"image": p, "boxes": [[round(v, 1) for v in bb] for bb in b.tolist()],
                             "scores": [round(float(v), 3) for v in s], "cut_by_border": [not i for i in inside]})
    res["acevedo_exactly_one"] = acevedo_summary(counts)
    res["acevedo_count_hist"] = {("3+" if k == 3 else str(k)): v for k, v in sorted(hist.items())}
    res["acevedo_exactly_one_complete_cell"] = acevedo_summary(complete)
    res["acevedo_failures"] = failures
    if ace:
        print("ACEVEDO", json.dumps(res["acevedo_exactly_one"]), res["acevedo_count_hist"], flush=True)
        print("ACEVEDO complete cells", json.dumps(res["acevedo_exactly_one_complete_cell"]["all"]), flush=True)
    if args.onnx:
        run.inner.close()
    t = np.array(run.times[5:])
    res["forward_ms_per_image_runtime"] = "onnxruntime-node cpu" if args.onnx else "torch"
    res["forward_ms_per_image"] = {"mean": float(t.mean() * 1000), "median": float(np.median(t) * 1000), "n": len(t)}
    print("timing", res["forward_ms_per_image"])
    out = args.out or os.path.join(HERE, "runs", "eval.json")
    json.dump(res, open(out, "w"), indent=1)
    print("wrote", out)


def sweep_raw(args):
    """Run the model once per TXL-PBC test / Acevedo-20 image at the lowest sweep threshold; raw detections
    (input pixels, before containment suppression), resize factors and TXL ground truth."""
    ths = sorted(float(t) for t in args.sweep.split(","))
    torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    run = Runner(args.ckpt, device)
    run.exp.model.roi_heads.score_thresh = ths[0]
    sp = D.load_splits()
    raw = {"ckpt": os.path.relpath(args.ckpt, os.path.join(HERE, "../..")), "low_score_thresh": ths[0],
           "txl_test": [], "acevedo": []}

    def det(img):
        b, s, _, scale = run.forward_raw(img)
        return {"h": img.shape[0], "w": img.shape[1], "scale": [float(v) for v in scale],
                "boxes": b.tolist(), "scores": s.tolist()}

    meta = {r["New_Image_Name"]: r for r in D.txl_meta()}
    for i, n in enumerate(sp["txl_test"]):
        rec = D.txl_record(n, meta, with_masks=False)
        raw["txl_test"].append(dict(det(rec["img"]), name=n, source=meta[n]["Source_Dataset"],
                                    gt=rec["boxes"].tolist()))
        if i % 25 == 0:
            print("txl", i, flush=True)
    for i, p in enumerate(acevedo_sample(sp, args.n_acevedo)):
        rec = D.acevedo_record(p, with_masks=False)
        raw["acevedo"].append(dict(det(rec["img"]), name=p))
        if i % 100 == 0:
            print("acevedo", i, flush=True)
    t = np.array(run.times[5:])
    raw["forward_ms_per_image"] = {"mean": float(t.mean() * 1000), "median": float(np.median(t) * 1000), "n": len(t)}
    raw["device"] = str(device)
    return raw


def sweep(args):
    ths = sorted(float(t) for t in args.sweep.split(","))
    raw_out = args.raw_out or os.path.join(HERE, "runs", "sweep_raw.json")
    if args.from_raw:
        raw = json.load(open(args.from_raw))
        assert raw["low_score_thresh"] <= ths[0], "raw detections were kept above a higher threshold"
    else:
        raw = sweep_raw(args)
        os.makedirs(os.path.dirname(os.path.abspath(raw_out)), exist_ok=True)
        json.dump(raw, open(raw_out, "w"))
        print("wrote", raw_out, flush=True)
    cont = args.containment

    def tens(r):
        return (torch.tensor(r["boxes"], dtype=torch.float32).reshape(-1, 4),
                torch.tensor(r["scores"], dtype=torch.float32).reshape(-1))

    rows = []
    matched = {}   # (image index, gt index) -> thresholds at which it is matched
    for t in ths:
        per = defaultdict(lambda: [0, 0, 0, 0])
        per_dedup = defaultdict(lambda: [0, 0, 0, 0])
        for ii, r in enumerate(raw["txl_test"]):
            b, s = tens(r)
            b, s, _ = postprocess(b, s, None, r["scale"], r["h"], r["w"], cont, score_thresh=t, with_masks=False)
            gt = np.array(r["gt"], np.float32).reshape(-1, 4)
            txl_add(per, r["source"], b, gt)
            # a second figure: identical ground-truth boxes counted once (a TXL-PBC test label file lists
            # its annotations three times; one cell cannot be matched three times)
            _, first = np.unique(gt, axis=0, return_index=True)
            txl_add(per_dedup, r["source"], b, gt[np.sort(first)])
            for j in match_pairs(b, gt):
                if j >= 0:
                    matched.setdefault((ii, j), []).append(t)
        counts, complete, hist = (defaultdict(lambda: [0, 0]), defaultdict(lambda: [0, 0]), defaultdict(int))
        for r in raw["acevedo"]:
            b, s = tens(r)
            b, s, _ = postprocess(b, s, None, r["scale"], r["h"], r["w"], cont, score_thresh=t, with_masks=False)
            acevedo_add(counts, complete, hist, r["name"].split("/")[0], b, r["h"], r["w"])
        row = {"score_thresh": t, "txl_test": txl_summary(per), "txl_test_duplicate_gt_boxes_once": txl_summary(per_dedup),
               "acevedo_exactly_one": acevedo_summary(counts),
               "acevedo_count_hist": {("3+" if k == 3 else str(k)): v for k, v in sorted(hist.items())},
               "acevedo_exactly_one_complete_cell": acevedo_summary(complete)}
        a = row["txl_test"]["all"]
        d = row["txl_test_duplicate_gt_boxes_once"]["all"]
        print(f"t={t:.2f}  TXL recall {a['recall']:.3f} ({a['tp']}/{a['gt']})  precision {a['precision']:.3f} "
              f"({a['tp']}/{a['pred']})  dedup-GT recall {d['recall']:.3f} ({d['tp']}/{d['gt']})  Acevedo exactly one {row['acevedo_exactly_one']['all']['exactly_one']:.3f}  "
              f"complete cell {row['acevedo_exactly_one_complete_cell']['all']['exactly_one']:.3f}", flush=True)
        rows.append(row)

    # TXL-PBC cells missed at the model's threshold: the detections around them at the lowest threshold
    ref = SCORE_THRESH
    missed = []
    for ii, r in enumerate(raw["txl_test"]):
        gt = np.array(r["gt"], np.float32).reshape(-1, 4)
        b, s = tens(r)
        braw, sraw, _ = postprocess(b, s, None, r["scale"], r["h"], r["w"], 0, score_thresh=ths[0], with_masks=False)
        bcon, scon, _ = postprocess(b, s, None, r["scale"], r["h"], r["w"], cont, score_thresh=ths[0], with_masks=False)
        bref, sref, _ = postprocess(b, s, None, r["scale"], r["h"], r["w"], cont, score_thresh=ref, with_masks=False)
        for j in range(len(gt)):
            if ref in matched.get((ii, j), []):
                continue
            item = {"image": r["name"], "source": r["source"], "gt_box": [round(v, 1) for v in gt[j].tolist()],
                    "matched_at_thresholds": matched.get((ii, j), [])}
            for key, bb, ss in (("best_raw", braw, sraw), ("best_after_containment", bcon, scon),
                                ("best_at_ref_thresh", bref, sref)):
                if len(bb):
                    iou = box_iou(bb, gt[j:j + 1]).numpy()[:, 0]
                    k = int(np.argmax(iou))
                    item[key] = {"iou": round(float(iou[k]), 3), "score": round(float(ss[k]), 4),
                                 "box": [round(v, 1) for v in bb[k].tolist()]}
                    # the best-scoring detection that would match (IoU >= 0.5), if any
                    ok = np.nonzero(iou >= 0.5)[0]
                    if key == "best_raw":
                        item["top_score_iou_ge_0.5_raw"] = (None if len(ok) == 0 else
                                                            {"score": round(float(ss[ok].max()), 4),
                                                             "iou": round(float(iou[ok[np.argmax(ss[ok])]]), 3)})
                else:
                    item[key] = None
            item["image_detections_at_low_thresh"] = [{"box": [round(v, 1) for v in bb.tolist()], "score": round(float(sv), 4)}
                                                      for bb, sv in zip(bcon, scon)]
            missed.append(item)
    res = {"ckpt": raw["ckpt"], "low_score_thresh": raw["low_score_thresh"], "containment_suppression": cont,
           "note": "score > t, then containment suppression; equals running the model at t (see evaluate.py)",
           "reference_thresh": ref, "thresholds": rows, "txl_missed_at_reference_thresh": missed,
           "forward_ms_per_image": raw.get("forward_ms_per_image"), "device": raw.get("device"),
           "threads": args.threads}
    for m in missed:
        print("missed", json.dumps({k: m[k] for k in m if k != "image_detections_at_low_thresh"}), flush=True)
    out = args.out or os.path.join(HERE, "runs", "sweep.json")
    json.dump(res, open(out, "w"), indent=1)
    print("wrote", out)


if __name__ == "__main__":
    main()

"""Train the WBC Mask R-CNN from scratch.

  /usr/bin/python3 training/detector/train.py --minutes 75 --threads 1          # CPU, time-budgeted
  python3 training/detector/train.py --iters 20000 --batch 8                     # GPU (CUDA picked automatically)

The learning-rate schedule (linear warm-up, cosine decay) runs over `--iters` iterations, or, with
`--minutes`, over the wall-clock budget (progress = elapsed / budget), so a CPU run always finishes its
decay by the deadline. Checkpoints: runs/<name>/last.pt every `--ckpt-every` iterations, best.pt by F1 on
the TXL-PBC selection subset (80 val images).
"""
import argparse
import math
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, os.environ.get("TRAIN_THREADS", "1"))
import pickle
import random
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import build_model, DetectorExport, INPUT_SIZE  # noqa: E402
import data as D  # noqa: E402


def build_cache(size, path):
    if os.path.exists(path):
        return pickle.load(open(path, "rb"))
    sp = D.load_splits()
    meta = {r["New_Image_Name"]: r for r in D.txl_meta()}
    recs, sel = [], []
    t0 = time.time()
    for n in sp["txl_train"]:
        recs.append(D.resize_record(D.txl_record(n, meta), size))
    for n in sp["txl_select"]:
        sel.append(D.resize_record(D.txl_record(n, meta, with_masks=False), size))
    for n in sp["bccd_train"]:
        r = D.bccd_record(n)
        if len(r["boxes"]):
            recs.append(D.resize_record(r, size))
    for n in sp["zheng_train"]:
        recs.append(D.resize_record(D.zheng_record(n), size))
    n_ace_fail = 0
    for p in sp["acevedo_train"]:
        r = D.acevedo_record(p)
        if r is None:
            n_ace_fail += 1
            continue
        recs.append(D.resize_record(r, size))
    print(f"cache: {len(recs)} train records, {len(sel)} select, acevedo pseudo-mask failures {n_ace_fail}, "
          f"{time.time() - t0:.0f}s", flush=True)
    for r in recs + sel:
        r["img"] = np.ascontiguousarray(r["img"])
    pickle.dump((recs, sel), open(path, "wb"), protocol=4)
    return recs, sel


SOURCE_WEIGHT = {"bccd": 1.5, "zheng": 3.0, "acevedo": 0.5}


def augment(rec, rng):
    img = rec["img"].astype(np.float32)
    boxes = rec["boxes"].copy()
    masks = rec["masks"].copy()
    h, w = img.shape[:2]
    # random crop (zoom-in scale jitter) that keeps every box whole
    if rng.random() < 0.3 and len(boxes):
        ux1, uy1 = boxes[:, 0].min(), boxes[:, 1].min()
        ux2, uy2 = boxes[:, 2].max(), boxes[:, 3].max()
        cw = rng.uniform(max(ux2 - ux1, 0.6 * w), w)
        chh = rng.uniform(max(uy2 - uy1, 0.6 * h), h)
        x0 = rng.uniform(max(0, ux2 - cw), min(ux1, w - cw)) if min(ux1, w - cw) > max(0, ux2 - cw) else 0
        y0 = rng.uniform(max(0, uy2 - chh), min(uy1, h - chh)) if min(uy1, h - chh) > max(0, uy2 - chh) else 0
        x0, y0, x1, y1 = int(x0), int(y0), int(min(w, x0 + cw)), int(min(h, y0 + chh))
        img = img[y0:y1, x0:x1]
        masks = masks[:, y0:y1, x0:x1]
        boxes = boxes - np.array([x0, y0, x0, y0], np.float32)
        boxes = np.clip(boxes, 0, [x1 - x0, y1 - y0, x1 - x0, y1 - y0])
        h, w = img.shape[:2]
    # flips / 90-degree rotations (cells have no orientation)
    if rng.random() < 0.5:
        img = img[:, ::-1]
        masks = masks[:, :, ::-1]
        boxes = np.stack([w - boxes[:, 2], boxes[:, 1], w - boxes[:, 0], boxes[:, 3]], 1)
    if rng.random() < 0.5:
        img = img[::-1]
        masks = masks[:, ::-1]
        boxes = np.stack([boxes[:, 0], h - boxes[:, 3], boxes[:, 2], h - boxes[:, 1]], 1)
    if rng.random() < 0.5:  # transpose
        img = img.transpose(1, 0, 2)
        masks = masks.transpose(0, 2, 1)
        boxes = boxes[:, [1, 0, 3, 2]]
    # colour jitter: stain colour differs between labs
    gains = np.array([rng.uniform(0.8, 1.2) for _ in range(3)], np.float32)
    img = img * gains
    mean = img.mean()
    img = (img - mean) * rng.uniform(0.75, 1.25) + mean * rng.uniform(0.8, 1.2)
    gray = img.mean(-1, keepdims=True)
    img = gray + (img - gray) * rng.uniform(0.6, 1.4)
    if rng.random() < 0.2:
        img = img + np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(1, 6), img.shape)
    img = np.clip(img, 0, 255) / 255.0
    t = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))).float()
    keep = (boxes[:, 2] - boxes[:, 0] > 2) & (boxes[:, 3] - boxes[:, 1] > 2)
    tgt = {
        "boxes": torch.from_numpy(np.ascontiguousarray(boxes[keep])).float().reshape(-1, 4),
        "labels": torch.ones(int(keep.sum()), dtype=torch.int64),
        "masks": torch.from_numpy(np.ascontiguousarray(masks[keep])).to(torch.uint8),
    }
    return t, tgt


def box_iou(a, b):
    import torchvision
    return torchvision.ops.box_iou(torch.as_tensor(a, dtype=torch.float32).reshape(-1, 4),
                                   torch.as_tensor(b, dtype=torch.float32).reshape(-1, 4))


def match_pairs(pred, gt, thr=0.5):
    """Greedy one-to-one matching by score order (pred sorted by score). Returns, per prediction, the index
    of the ground-truth box it matched, or -1."""
    if len(pred) == 0 or len(gt) == 0:
        return [-1] * len(pred)
    iou = box_iou(pred, gt).numpy()
    used = set()
    out = []
    for i in range(len(pred)):
        j = int(np.argmax(np.where([k in used for k in range(len(gt))], -1, iou[i])))
        if iou[i, j] >= thr and j not in used:
            used.add(j)
            out.append(j)
        else:
            out.append(-1)
    return out


def match_counts(pred, gt, thr=0.5):
    """Greedy one-to-one matching by score order. Returns (tp, n_pred, n_gt)."""
    tp = sum(j >= 0 for j in match_pairs(pred, gt, thr))
    return tp, len(pred), len(gt)


@torch.no_grad()
def validate(model, sel, device):
    model.eval()
    exp = DetectorExport(model).to(device).eval()
    tp = npred = ngt = 0
    for r in sel:
        x = torch.from_numpy(r["img"].transpose(2, 0, 1).copy()).float().to(device)
        b, s, m, f = exp(x)
        a, p, g = match_counts(b.cpu().numpy(), r["boxes"])
        tp, npred, ngt = tp + a, npred + p, ngt + g
    model.train()
    rec = tp / max(1, ngt)
    prec = tp / max(1, npred)
    return rec, prec, 2 * rec * prec / max(1e-9, rec + prec)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=INPUT_SIZE)
    ap.add_argument("--iters", type=int, default=3000)
    ap.add_argument("--minutes", type=float, default=0, help="wall-clock budget; overrides --iters for the schedule")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--name", default="r18gn256")
    ap.add_argument("--ckpt-every", type=int, default=200)
    ap.add_argument("--val-every", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", default="", help="start from this checkpoint's weights (fine-tuning; e.g. runs/recovered/best.pt)")
    ap.add_argument("--warmup", type=int, default=150)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    out = os.path.join(HERE, "runs", args.name)
    os.makedirs(out, exist_ok=True)
    recs, sel = build_cache(args.size, os.path.join(HERE, "runs", f"cache_{args.size}.pkl"))
    weights = [SOURCE_WEIGHT.get(r["source"], 1.0) for r in recs]
    sizes = tuple(range(int(args.size * 0.7) // 16 * 16, args.size + 1, 16))
    model = build_model(args.size, train_min_sizes=sizes).to(device)
    init_iter = 0
    if args.init:
        ck = torch.load(args.init, map_location="cpu")
        model.load_state_dict(ck["model"])
        init_iter = ck.get("iter") or 0
        print(f"initialised from {args.init} (iteration {ck.get('iter')})", flush=True)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    start = time.time()
    warm = args.warmup
    best = -1
    it = 0
    log = open(os.path.join(out, "train.log"), "a")

    def progress():
        if args.minutes > 0:
            return (time.time() - start) / (args.minutes * 60)
        return it / args.iters

    def save(name, extra):
        # "iter" counts every iteration the weights have seen, the fine-tuning's start included.
        torch.save({"model": model.state_dict(), "iter": init_iter + it, "iter_this_run": it, "init": args.init or None,
                    "size": args.size, "args": vars(args), **extra},
                   os.path.join(out, name))

    run_loss = {}
    while progress() < 1.0:
        p = progress()
        lr = args.lr * min(1.0, (it + 1) / warm) * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, p))))
        for g in opt.param_groups:
            g["lr"] = lr
        batch = [augment(r, rng) for r in rng.choices(recs, weights=weights, k=args.batch)]
        ims = [b[0].to(device) for b in batch]
        tgts = [{k: v.to(device) for k, v in b[1].items()} for b in batch]
        losses = model(ims, tgts)
        loss = sum(losses.values())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 10.0)
        opt.step()
        it += 1
        for k, v in losses.items():
            run_loss[k] = 0.95 * run_loss.get(k, v.item()) + 0.05 * v.item()
        if it % 20 == 0:
            msg = (f"it {it} t {time.time() - start:.0f}s prog {p:.3f} lr {lr:.2e} "
                   + " ".join(f"{k[5:]} {v:.3f}" for k, v in run_loss.items()))
            print(msg, flush=True)
            log.write(msg + "\n")
            log.flush()
        if it % args.ckpt_every == 0:
            save("last.pt", {})
        if it % args.val_every == 0:
            r, pr, f1 = validate(model, sel, device)
            msg = f"VAL it {it} recall {r:.3f} precision {pr:.3f} f1 {f1:.3f}"
            print(msg, flush=True)
            log.write(msg + "\n")
            if f1 >= best:
                best = f1
                save("best.pt", {"val": [r, pr, f1]})
    save("last.pt", {})
    r, pr, f1 = validate(model, sel, device)
    msg = f"VAL final it {it} recall {r:.3f} precision {pr:.3f} f1 {f1:.3f} time {time.time() - start:.0f}s"
    print(msg, flush=True)
    log.write(msg + "\n")
    if f1 >= best:
        save("best.pt", {"val": [r, pr, f1]})
    log.close()


if __name__ == "__main__":
    main()

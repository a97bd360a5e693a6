"""Dataset records, splits and the training cache for the WBC detector.

Every record: image path, source, WBC boxes (x1,y1,x2,y2, original pixels) and one mask per box
(bool HxW, original pixels). Mask sources:
  txl-pbc   YOLO boxes (class 0 = WBC); mask = ellipse inscribed in the box (box-only data)
  bccd      masks_nucleus_cytoplasm (whole cell = grey > 40) inside each VOC WBC box
  zheng-ds2 masks (128 cytoplasm + 255 nucleus = cell); box = mask bounding box
  acevedo20 pseudo-mask from stainseg.segment_cell (classical stain segmentation); box = its bounding box
"""
import csv
import json
import os
import random
import xml.etree.ElementTree as ET

import numpy as np
from PIL import Image

DATA = os.environ.get("WBC_DATA", os.path.join(os.path.dirname(__file__), "../../../shared/data"))
HERE = os.path.dirname(os.path.abspath(__file__))
SPLIT_FILE = os.path.join(HERE, "splits.json")
SEED = 20261126


def _p(*a):
    return os.path.join(DATA, *a)


def txl_meta():
    return list(csv.DictReader(open(_p("txl-pbc", "metadata.csv"))))


def make_splits(n_acevedo_train=400, n_acevedo_test=600, n_txl_val_select=80):
    """Deterministic splits (seeded); written to splits.json."""
    rng = random.Random(SEED)
    meta = txl_meta()
    txl = {"train": [], "val": [], "test": []}
    for r in meta:
        txl[r["split"]].append(r["New_Image_Name"])
    for k in txl:
        txl[k].sort()
    # a fixed subset of TXL val for checkpoint selection; the rest of val is used for training
    val = list(txl["val"])
    rng.shuffle(val)
    txl_select = sorted(val[:n_txl_val_select])
    txl_train = sorted(txl["train"] + val[n_txl_val_select:])

    bccd_rows = list(csv.DictReader(open(_p("bccd", "labels.csv"))))
    names = sorted(os.path.basename(r["image"]) for r in bccd_rows)
    shuf = list(names)
    rng.shuffle(shuf)
    bccd_test = sorted(shuf[: round(0.2 * len(shuf))])
    bccd_txl_test = sorted(r["Original_Image_Name"] for r in meta if r["Source_Dataset"] == "BCCD" and r["split"] == "test")
    bccd_train = sorted(set(names) - set(bccd_test) - set(bccd_txl_test))
    # TXL-PBC's BCCD fields that are BCCD held-out images stay out of training
    bccd_test_set = set(bccd_test)
    txl_train = [n for n in txl_train
                 if not any(r["New_Image_Name"] == n and r["Source_Dataset"] == "BCCD" and r["Original_Image_Name"] in bccd_test_set
                            for r in meta)]

    z = sorted(os.path.basename(r["image"]) for r in csv.DictReader(open(_p("zheng-ds2", "labels.csv"))))
    zs = list(z)
    rng.shuffle(zs)
    zheng_test = sorted(zs[: round(0.2 * len(zs))])
    zheng_train = sorted(set(z) - set(zheng_test))

    in_txl = {r["Original_Image_Name"] for r in meta if r["Source_Dataset"] == "PBC"}
    ace = [r["path"] for r in csv.DictReader(open(_p("acevedo20", "labels.csv")))]
    ace_free = sorted(p for p in ace if os.path.basename(p) not in in_txl)
    ace_in_txl = sorted(p for p in ace if os.path.basename(p) in in_txl)
    shuf = list(ace_free)
    rng.shuffle(shuf)
    ace_train = sorted(shuf[:n_acevedo_train])
    ace_test = sorted(shuf[n_acevedo_train:n_acevedo_train + n_acevedo_test])
    sp = {
        "seed": SEED,
        "txl_train": txl_train, "txl_select": txl_select, "txl_test": txl["test"],
        "bccd_train": bccd_train, "bccd_test": bccd_test, "bccd_excluded_in_txl_test": bccd_txl_test,
        "zheng_train": zheng_train, "zheng_test": zheng_test,
        "acevedo_train": ace_train, "acevedo_test": ace_test,
        "acevedo_in_txl_excluded": ace_in_txl,
        "notes": "txl_* are TXL-PBC New_Image_Name (txl_test = metadata split 'test'; txl_select = 80 val images for "
                 "checkpoint selection, the other val images are trained on); bccd/zheng = 20% seeded held-out; "
                 "acevedo_test = a seeded sample of Acevedo-20 images neither trained on nor in TXL-PBC.",
    }
    json.dump(sp, open(SPLIT_FILE, "w"), indent=1)
    return sp


def load_splits():
    if not os.path.exists(SPLIT_FILE):
        return make_splits()
    return json.load(open(SPLIT_FILE))


def read_rgb(path):
    return np.array(Image.open(path).convert("RGB"))


def _txl_split_of(name, meta_by_name):
    return meta_by_name[name]["split"]


def txl_record(name, meta_by_name, with_masks=True):
    r = meta_by_name[name]
    split = r["split"]
    img = read_rgb(_p("txl-pbc", "images", split, name))
    h, w = img.shape[:2]
    boxes = []
    seen = set()
    lab = _p("txl-pbc", "labels", split, name[:-4] + ".txt")
    if os.path.exists(lab):
        for line in open(lab):
            t = line.split()
            # 5 of the 1,260 label files list their boxes more than once (identical lines): one cell is one
            # box, or a detected cell would count as found once and missed twice.
            if len(t) >= 5 and int(t[0]) == 0 and tuple(t[1:5]) not in seen:
                seen.add(tuple(t[1:5]))
                cx, cy, bw, bh = [float(v) for v in t[1:5]]
                boxes.append([(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h])
    boxes = np.clip(np.array(boxes, np.float32).reshape(-1, 4), 0, [w, h, w, h])
    masks = None
    if with_masks:
        from stainseg import ellipse_mask
        masks = np.stack([ellipse_mask(h, w, b) for b in boxes]) if len(boxes) else np.zeros((0, h, w), bool)
    return dict(img=img, boxes=boxes, masks=masks, source="txl-" + r["Source_Dataset"], name=name)


_BCCD = None


def _bccd_rows():
    """labels.csv rows by image file name (wbc_boxes_xyxy = the VOC WBC boxes; some fields lack an XML)."""
    global _BCCD
    if _BCCD is None:
        _BCCD = {os.path.basename(r["image"]): r for r in csv.DictReader(open(_p("bccd", "labels.csv")))}
    return _BCCD


def bccd_record(name):
    img = read_rgb(_p("bccd", "images", name))
    h, w = img.shape[:2]
    mname = name.replace("BloodImage_", "BloodImage_Mask_").replace(".jpg", ".png")
    m = np.array(Image.open(_p("bccd", "masks_nucleus_cytoplasm", mname)).convert("L"))
    cell = m > 40
    if cell.shape != (h, w):
        cell = np.array(Image.fromarray(cell.astype(np.uint8) * 255).resize((w, h), Image.NEAREST)) > 127
    boxes = []
    row = _bccd_rows().get(name)
    if row and row["wbc_boxes_xyxy"].strip():
        v = [float(t) for t in row["wbc_boxes_xyxy"].replace("|", " ").replace(";", " ").replace(",", " ").split()]
        boxes = [v[i:i + 4] for i in range(0, len(v) - 3, 4)]
    boxes = np.clip(np.array(boxes, np.float32).reshape(-1, 4), 0, [w, h, w, h])
    masks = []
    for b in boxes:
        mb = np.zeros((h, w), bool)
        x1, y1, x2, y2 = [int(round(v)) for v in b]
        mb[y1:y2, x1:x2] = cell[y1:y2, x1:x2]
        masks.append(mb)
    masks = np.stack(masks) if masks else np.zeros((0, h, w), bool)
    return dict(img=img, boxes=boxes, masks=masks, source="bccd", name=name, cell=cell)


def zheng_record(name):
    img = read_rgb(_p("zheng-ds2", "images", name))
    m = np.array(Image.open(_p("zheng-ds2", "masks", name)).convert("L")) > 64
    ys, xs = np.nonzero(m)
    boxes = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32)
    return dict(img=img, boxes=boxes, masks=m[None], source="zheng", name=name, cell=m)


def acevedo_record(path, with_masks=True):
    img = read_rgb(_p("acevedo20", path))
    h, w = img.shape[:2]
    if not with_masks:
        return dict(img=img, boxes=np.zeros((0, 4), np.float32), masks=None, source="acevedo", name=path)
    from stainseg import segment_cell
    m, ok = segment_cell(img)
    if not ok or m.sum() < 200:
        return None
    ys, xs = np.nonzero(m)
    boxes = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32)
    return dict(img=img, boxes=boxes, masks=m[None], source="acevedo", name=path)


def resize_record(rec, longer):
    """Resize image (bilinear), boxes and masks so the longer side is `longer`."""
    img = rec["img"]
    h, w = img.shape[:2]
    s = longer / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    out = dict(rec)
    out["img"] = np.array(Image.fromarray(img).resize((nw, nh), Image.BILINEAR))
    out["boxes"] = rec["boxes"] * np.array([nw / w, nh / h, nw / w, nh / h], np.float32)
    if rec.get("masks") is not None:
        out["masks"] = np.stack([np.array(Image.fromarray(m.astype(np.uint8) * 255).resize((nw, nh), Image.BILINEAR)) > 127
                                 for m in rec["masks"]]) if len(rec["masks"]) else np.zeros((0, nh, nw), bool)
    out.pop("cell", None)
    out["scale"] = (nw / w, nh / h)
    return out

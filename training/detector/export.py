"""Export the trained detector to ONNX and write models/detector.json; dump torch reference outputs.

  /usr/bin/python3 training/detector/export.py --ckpt training/detector/runs/r18gn256/best.pt

Writes models/detector.onnx (opset 13, dynamic H, W and number of detections), models/detector.json,
and training/detector/runs/onnx_check/ (inputs and PyTorch outputs for check_onnx.mjs).
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../.."))
sys.path.insert(0, HERE)
import data as D  # noqa: E402
from model import build_model, DetectorExport, MEAN, STD, SCORE_THRESH, CONTAINMENT, MAX_DETS, VERSION  # noqa: E402


def load_images(size, n=6):
    """A few held-out images of several labs, resized (longer side = size), plus one blank image."""
    sp = D.load_splits()
    meta = {r["New_Image_Name"]: r for r in D.txl_meta()}
    recs = []
    by_src = {}
    for n_ in sp["txl_test"]:
        by_src.setdefault(meta[n_]["Source_Dataset"], n_)
    for src, n_ in sorted(by_src.items()):
        recs.append(("txl-" + src, D.txl_record(n_, meta, with_masks=False)["img"]))
    recs.append(("bccd", D.bccd_record(sp["bccd_test"][0])["img"]))
    recs.append(("zheng", D.zheng_record(sp["zheng_test"][0])["img"]))
    recs.append(("acevedo", D.acevedo_record(sp["acevedo_test"][0], with_masks=False)["img"]))
    out = []
    for name, img in recs:
        r = D.resize_record(dict(img=img, boxes=np.zeros((0, 4), np.float32), masks=None), size)
        out.append((name, r["img"].transpose(2, 0, 1).astype(np.float32)))
    out.append(("blank", np.full((3, size, size), 235.0, np.float32)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", default=os.path.join(HERE, "runs", "r18gn256", "best.pt"))
    ap.add_argument("--out", default=os.path.join(ROOT, "models", "detector.onnx"))
    ap.add_argument("--opset", type=int, default=13)
    ap.add_argument("--eval-json", default=os.path.join(HERE, "runs", "eval.json"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    ck = torch.load(args.ckpt, map_location="cpu")
    size = ck.get("size", 256)
    m = build_model(size)
    m.load_state_dict(ck["model"])
    m.eval()
    exp = DetectorExport(m).eval()
    imgs = load_images(size)
    # trace with an image that has detections
    x0 = torch.from_numpy(imgs[0][1])
    with torch.no_grad():
        ref0 = exp(x0)
    print("trace image detections:", ref0[0].shape[0])
    torch.onnx.export(
        exp, (x0,), args.out, opset_version=args.opset,
        input_names=["image"], output_names=["boxes", "scores", "masks", "features"],
        dynamic_axes={"image": {1: "height", 2: "width"}, "boxes": {0: "n"}, "scores": {0: "n"},
                      "masks": {0: "n"}, "features": {0: "n"}},
        do_constant_folding=True,
    )
    import onnx
    mo = onnx.load(args.out)
    onnx.checker.check_model(mo)
    print("onnx.checker OK;", os.path.getsize(args.out) / 1e6, "MB")
    for o in mo.graph.output:
        print(" output", o.name, [d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim])

    # torch reference outputs for check_onnx.mjs
    cdir = os.path.join(HERE, "runs", "onnx_check")
    os.makedirs(cdir, exist_ok=True)
    manifest = []
    for name, arr in imgs:
        with torch.no_grad():
            b, s, mk, f = exp(torch.from_numpy(arr))
        entry = {"name": name, "shape": list(arr.shape)}
        for key, t in (("image", torch.from_numpy(arr)), ("boxes", b), ("scores", s), ("masks", mk), ("features", f)):
            fn = f"{name}.{key}.f32"
            t.numpy().astype("<f4").tofile(os.path.join(cdir, fn))
            entry[key] = {"file": fn, "shape": list(t.shape)}
        manifest.append(entry)
        print(f" {name}: {b.shape[0]} detections, scores {[round(float(v), 3) for v in s[:3]]}")
    json.dump(manifest, open(os.path.join(cdir, "manifest.json"), "w"), indent=1)

    sha = hashlib.sha256(open(args.out, "rb").read()).hexdigest()
    metrics = None
    if os.path.exists(args.eval_json):
        metrics = json.load(open(args.eval_json))
    meta = {
        "name": "wbc-detector",
        "version": VERSION,
        "file": "detector.onnx",
        "sha256": sha,
        "bytes": os.path.getsize(args.out),
        "opset": args.opset,
        "architecture": "Mask R-CNN (torchvision 0.14), ResNet-18 layout at half width (32-64-128-256) with "
                        "GroupNorm, FPN 256 channels (P2-P6), 1 foreground class (white blood cell), trained from scratch",
        "input": {
            "name": "image", "dtype": "float32", "shape": [3, "height", "width"], "layout": "CHW, RGB",
            "range": "0..255 (not divided by 255; the model subtracts mean and divides by std itself)",
            "mean": MEAN, "std": STD,
            "size": f"resize (bilinear, keep aspect ratio) so that the LONGER side is {size}; the other side is "
                    f"whatever the aspect ratio gives (any value; the graph pads to a multiple of 32 internally); "
                    f"evaluation used PIL bilinear with shorter side = round(short * {size} / long)",
            "input_size": size,
            "batch": "one image per call (no batch axis)",
        },
        "outputs": {
            "boxes": {"dtype": "float32", "shape": ["n", 4],
                      "meaning": "x1, y1, x2, y2 in input-tensor pixels (divide by the resize scale for original "
                                 "image pixels); sorted by score, descending"},
            "scores": {"dtype": "float32", "shape": ["n"], "meaning": "WBC confidence, already >= score_threshold"},
            "masks": {"dtype": "float32", "shape": ["n", 1, 28, 28],
                      "meaning": "mask probabilities (sigmoid, 0..1) on a 28x28 grid covering the box; NOT pasted: "
                                 "resize the 28x28 grid to the box (torchvision pastes with 1 px padding: the grid "
                                 "is expanded by 30/28 around the box centre, bilinear) and threshold at 0.5"},
            "features": {"dtype": "float32", "shape": ["n", 256, 14, 14],
                         "meaning": "AE-CFE instance features: model.roi_heads.mask_roi_pool (MultiScaleRoIAlign, "
                                    "sampling_ratio 2, output 14x14, levels chosen by box size as in the FPN paper) "
                                    "over FPN levels P2-P5 for the output boxes - exactly the tensor the mask head "
                                    "receives"},
        },
        "score_threshold": SCORE_THRESH,
        "containment_suppression": CONTAINMENT,
        "nms_iou": 0.5,
        "max_detections": MAX_DETS,
        "trained_iterations": ck.get("iter"),
        "checkpoint_val_txl_select": ck.get("val"),
        "metrics": metrics,
    }
    json.dump(meta, open(os.path.join(os.path.dirname(args.out), "detector.json"), "w"), indent=1)
    print("wrote", args.out, "and detector.json; sha256", sha)


if __name__ == "__main__":
    main()

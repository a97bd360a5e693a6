"""How far int8 files' top boxes lie from the float model's, on the first 60 BCCD and 40 Zheng DS2 images (input pixels,
longer side 256, resized as quantize.py and evaluate.py resize), through onnxruntime in Python, 1 thread:

  /tmp/q/bin/python training/detector/int8-agreement.py models/detector-int8.onnx [other int8 files ...]

(the venv of quantize.py's header). 2026-12-08, 2-core AMD EPYC (Zen 3, AVX2 without VNNI), models/detector.md:
  the 8-bit file (quantize.py --full-range): up to 11.60 px (mean 2.06), top-box IoU 0.953 on average, 0.820 at worst
  the 7-bit file (models/detector-int8.onnx): up to 11.09 px (mean 1.48), IoU 0.965, 0.853 at worst
"""
import glob
import os
import sys

import numpy as np
import onnxruntime as ort

from quantize import DATA, ROOT, load_input


def session(path):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def iou(a, b):
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def main():
    files = sorted(glob.glob(os.path.join(DATA, "bccd/images/*.jpg")))[:60] + sorted(glob.glob(os.path.join(DATA, "zheng-ds2/images/*.png")))[:40]
    ref = session(os.path.join(ROOT, "models/detector.onnx"))
    at = [o.name for o in ref.get_outputs()].index("boxes")
    inputs = [load_input(f) for f in files]
    base = [ref.run(None, {"image": x})[at] for x in inputs]
    for path in sys.argv[1:]:
        s = session(path)
        diffs, ious, counts = [], [], 0
        for x, p in zip(inputs, base):
            q = s.run(None, {"image": x})[at]
            counts += len(p) != len(q)
            if len(p) and len(q):
                diffs.append(float(np.abs(p[0] - q[0]).max()))
                ious.append(iou(p[0], q[0]))
        print(f"{path} vs float on {len(files)} images: top box up to {max(diffs):.2f} px (mean {np.mean(diffs):.2f}), "
              f"top-box IoU {np.mean(ious):.3f} on average, {min(ious):.3f} at worst; another cell count on {counts} images")


if __name__ == "__main__":
    main()

"""Static int8 quantisation of models/detector.onnx (QDQ format, issue 23).

Needs onnxruntime's Python quantisation tool, which Debian does not package: a virtual environment
with the same onnxruntime as the engine (onnxruntime-node 1.30):

  python3 -m venv /tmp/q && /tmp/q/bin/pip install onnxruntime==1.30.0 onnx numpy pillow
  /tmp/q/bin/python training/detector/quantize.py --out models/detector-int8.onnx

Calibration: Acevedo-20 training images (splits.json `acevedo_train`, never in any evaluation split),
resized exactly as the engine and evaluate.py do (PIL bilinear, longer side 256, values 0..255, CHW).
What is quantised: the convolutions and the box head's Gemm layers (weights int8 per output channel, in
7 bits: [-64, 63], see below; activations uint8 per tensor, MinMax ranges over 40 images; QDQ pairs that onnxruntime's CPU provider
fuses into integer kernels; --no-gemm leaves the Gemm layers in float: 11.1 MB instead of 8.5 MB, same
accuracy). Everything else (GroupNorm as InstanceNormalization, RoIAlign, NMS, the mask sigmoid) stays
float. Accuracy is checked by evaluate.py --onnx on the held-out splits (see models/detector.md).

Why 7-bit weights (reduce_range, the default since 2026-12-08): on x86 CPUs without VNNI (AVX2, or AVX-512
without VNNI) onnxruntime multiplies uint8 activations by int8 weights with VPMADDUBSW, which adds each pair of
products into a signed 16-bit integer and saturates there: 255 x 127 x 2 = 64,770 does not fit, 255 x 63 x 2 does.
With full-range weights the same model computed other boxes on such CPUs than on VNNI ones (up to 14 px on BCCD and
Zheng DS2 images); with 7-bit weights no pair can overflow, so every CPU computes the same integer sums.
saturation-check.py shows the overflow on one convolution. --full-range makes the earlier file (sha256 a49e1e57...).
"""
import argparse
import json
import os
import random
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "../.."))
DATA = os.environ.get("WBC_DATA", os.path.join(ROOT, "../shared/data"))
if not os.path.isdir(DATA):
    DATA = "/work/shared/data"


def load_input(path, longer=256):
    img = Image.open(path).convert("RGB")
    w, h = img.size
    s = longer / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    x = np.asarray(img.resize((nw, nh), Image.BILINEAR), dtype=np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))


def calibration_files(n, seed=23):
    sp = json.load(open(os.path.join(HERE, "splits.json")))
    names = sorted(sp["acevedo_train"])
    random.Random(seed).shuffle(names)
    return [os.path.join(DATA, "acevedo20", p) for p in names[:n]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=os.path.join(ROOT, "models/detector.onnx"))
    ap.add_argument("--out", default=os.path.join(ROOT, "models/detector-int8.onnx"))
    ap.add_argument("--n-calib", type=int, default=40)
    ap.add_argument("--method", default="minmax", choices=["minmax", "percentile", "entropy"])
    ap.add_argument("--no-gemm", dest="gemm", action="store_false", help="leave the box head's Gemm layers in float")
    ap.add_argument("--exclude", default="", help="comma-separated node names left in float")
    ap.add_argument("--full-range", dest="reduce_range", action="store_false",
                    help="8-bit weights (the file before 2026-12-08): saturates on CPUs without VNNI (see the header)")
    args = ap.parse_args()

    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)

    files = calibration_files(args.n_calib)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter(files)

        def get_next(self):
            f = next(self.it, None)
            return None if f is None else {"image": load_input(f)}

    ops = ["Conv"] + (["Gemm"] if args.gemm else [])
    method = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
              "entropy": CalibrationMethod.Entropy}[args.method]
    quantize_static(
        args.model, args.out, Reader(),
        quant_format=QuantFormat.QDQ,
        op_types_to_quantize=ops,
        per_channel=True,
        reduce_range=args.reduce_range,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        nodes_to_exclude=[n for n in args.exclude.split(",") if n],
        calibrate_method=method,
        extra_options={"CalibMovingAverage": False, "ActivationSymmetric": False, "WeightSymmetric": True},
    )
    print(json.dumps({"out": args.out, "bytes": os.path.getsize(args.out), "calibration_images": len(files),
                      "method": args.method, "ops": ops, "calibration_files": [os.path.relpath(f, DATA) for f in files]}))


if __name__ == "__main__":
    sys.exit(main())

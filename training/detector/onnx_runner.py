"""evaluate.py --onnx: the same evaluation with the detector run by onnxruntime-node (ort_worker.mjs), the
engine's runtime, instead of eager PyTorch; used to compare the float and int8 ONNX models (issue 23)."""
import base64
import json
import os
import subprocess
import time

import numpy as np
import torch

import data as D

HERE = os.path.dirname(os.path.abspath(__file__))


class OnnxRunner:
    def __init__(self, onnx_path, threads=1, size=256, node="node"):
        self.size = size
        self.iter = None
        self.times = []
        self.proc = subprocess.Popen([node, os.path.join(HERE, "ort_worker.mjs"), onnx_path, str(threads)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        assert json.loads(self.proc.stdout.readline()).get("ready")

    def forward_raw(self, img):
        r = D.resize_record(dict(img=img, boxes=np.zeros((0, 4), np.float32), masks=None), self.size)
        x = np.ascontiguousarray(r["img"].transpose(2, 0, 1), dtype=np.float32)
        self.proc.stdin.write(json.dumps({"dims": list(x.shape), "data": base64.b64encode(x.tobytes()).decode()}) + "\n")
        ans = json.loads(self.proc.stdout.readline())
        self.times.append(ans["ms"] / 1000)
        n = ans["n"]
        f = lambda k: np.frombuffer(base64.b64decode(ans[k]), np.float32).copy()
        b = torch.from_numpy(f("boxes").reshape(n, 4))
        s = torch.from_numpy(f("scores").reshape(n))
        m = torch.from_numpy(f("masks").reshape(n, 1, 28, 28))
        return b, s, m, r["scale"]

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)

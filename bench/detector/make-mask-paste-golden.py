"""Golden outputs of torchvision's paste_masks_in_image for src/engine/detector/mask-paste.test.ts.

  /usr/bin/python3 bench/detector/make-mask-paste-golden.py > src/engine/detector/mask-paste.golden.json

The 28x28 probabilities are a formula the test recomputes: p = 0.5 + 0.45 sin(0.37 x + 0.23 y + k) cos(0.19 y - 0.11 x).
"""
import json
import numpy as np
import torch
from torchvision.models.detection.roi_heads import paste_masks_in_image

M = 28
CASES = [  # (k, box [x1,y1,x2,y2], image h, w)
    (0.0, [10.3, 12.7, 60.2, 71.9], 90, 80),
    (1.0, [-5.5, -3.2, 30.4, 25.1], 40, 50),      # crosses the top-left corner
    (2.0, [40.0, 20.0, 79.9, 59.99], 60, 80),     # touches the bottom-right border
    (3.0, [5.0, 5.0, 7.5, 6.2], 12, 12),          # smaller than the grid
    (0.5, [100.25, 30.75, 331.6, 299.4], 320, 400),  # larger than the grid
]


def probs(k):
    y, x = np.mgrid[0:M, 0:M].astype(np.float64)
    return (0.5 + 0.45 * np.sin(0.37 * x + 0.23 * y + k) * np.cos(0.19 * y - 0.11 * x)).astype(np.float32)


def rle(mask):
    flat = mask.T.reshape(-1).astype(np.uint8)  # column-major
    counts, cur, run = [], 0, 0
    for v in flat:
        if v != cur:
            counts.append(run)
            run, cur = 0, v
        run += 1
    counts.append(run)
    return counts


out = []
for k, box, h, w in CASES:
    m = torch.from_numpy(probs(k))[None, None]
    b = torch.tensor([box], dtype=torch.float32)
    pasted = paste_masks_in_image(m, b, (h, w), padding=1)[0, 0] > 0.5
    out.append({"k": k, "box": box, "height": h, "width": w, "counts": rle(pasted.numpy())})
print(json.dumps(out))

"""Rebuild a PyTorch checkpoint from models/detector.onnx (the ONNX file keeps every trained weight).

Why: training checkpoints live in the git-ignored runs/ folder and do not outlast a machine, while the
shipped ONNX model does. Named initializers map straight onto the state dict; GroupNorm's affine
parameters became anonymous Mul/Add constants of nodes named after their module. The result is checked against the committed torch reference outputs
(test/fixtures/detector-onnx-check) before it is saved.

    /usr/bin/python3 recover_from_onnx.py [--onnx ../../models/detector.onnx] [--out runs/recovered/best.pt]
"""
import argparse
import json
import os

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from model import INPUT_SIZE, DetectorExport, build_model

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", default=os.path.join(REPO, "models", "detector.onnx"))
    ap.add_argument("--check", default=os.path.join(REPO, "test", "fixtures", "detector-onnx-check"),
                    help="torch reference outputs exported with this model ('' skips the check)")
    ap.add_argument("--out", default=os.path.join(HERE, "runs", "recovered", "best.pt"))
    args = ap.parse_args()
    mo = onnx.load(args.onnx)
    inits = {i.name: numpy_helper.to_array(i) for i in mo.graph.initializer}
    model = build_model(INPUT_SIZE)
    sd = model.state_dict()
    new = {}
    for k in sd:
        if "model." + k in inits:
            new[k] = torch.from_numpy(inits["model." + k].copy()).reshape(sd[k].shape)
    # GroupNorm gamma/beta: the exporter turned them into anonymous Mul/Add constants of nodes named
    # after the module (/backbone/body/layer2/layer2.0/n1/Mul). Identical constants were merged and
    # reached through Identity nodes: a block's n2 bias equals its downsample GN's bias, since both
    # start at zero and always receive the same gradient (they are summed in y + idt).
    alias = {n.output[0]: n.input[0] for n in mo.graph.node if n.op_type == "Identity"}
    by_name = {n.name: n for n in mo.graph.node}
    gn = [n for n, mod in model.named_modules() if isinstance(mod, torch.nn.GroupNorm)]

    def const(node_name):
        node = by_name[node_name]
        for inp in node.input:
            inp = alias.get(inp, inp)
            if inp in inits:
                return inits[inp]
        raise KeyError(node_name)

    for n in gn:
        parts = n.split(".")  # backbone.body.layer2.0.n1 -> /backbone/body/layer2/layer2.0/n1
        path, prev = [], None
        for p in parts:
            path.append(f"{prev}.{p}" if p.isdigit() and prev is not None else p)
            prev = path[-1]
        base = "/" + "/".join(path)
        new[n + ".weight"] = torch.from_numpy(const(base + "/Mul").copy()).reshape(-1)
        new[n + ".bias"] = torch.from_numpy(const(base + "/Add").copy()).reshape(-1)
    print(f"{len(new)} named tensors of {len(sd)} after {len(gn)} GroupNorm modules")
    missing = [k for k in sd if k not in new]
    assert not missing, missing
    model.load_state_dict(new)
    model.eval()
    exp = DetectorExport(model).eval()
    worst = 0.0
    for e in (json.load(open(os.path.join(args.check, "manifest.json"))) if args.check else []):
        rd = lambda key: np.fromfile(os.path.join(args.check, e[key]["file"]), "<f4").reshape(e[key]["shape"])
        with torch.no_grad():
            b, s, mk, f = exp(torch.from_numpy(rd("image")))
        for key, t in (("boxes", b), ("scores", s), ("masks", mk), ("features", f)):
            ref = rd(key)
            assert ref.shape == tuple(t.shape), (e["name"], key, ref.shape, t.shape)
            if ref.size:
                worst = max(worst, float(np.abs(ref - t.numpy()).max()))
        print(f" {e['name']}: {b.shape[0]} detections match the reference")
    if args.check:
        print(f"max abs difference to the torch reference outputs: {worst:.2e}")
        assert worst < 1e-3, "these weights do not reproduce the reference outputs"
    card = os.path.splitext(args.onnx)[0] + ".json"
    iters = json.load(open(card)).get("trained_iterations") if os.path.exists(card) else None
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    torch.save({"model": model.state_dict(), "iter": iters, "size": INPUT_SIZE, "recovered_from": os.path.basename(args.onnx)}, args.out)
    print("wrote", args.out)


if __name__ == "__main__":
    main()

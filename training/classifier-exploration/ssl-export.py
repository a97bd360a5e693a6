"""Issue 17 exploration (not product code): a multilab-ssl.py encoder (its `embed`: the 192-d pooled output, BatchNorm
with its training statistics) exported to ONNX for ssl-view.mjs, so that the learnt view can be measured inside the
product's own evaluation (scripts/unseen.sh with EXTRA_VIEW). Input: the normalised 64 px crop (optical density over
its own 99th percentile, minus 0.5, as multilab-ssl.py's `norm`; ssl-view.mjs computes it), NCHW float32.

    /usr/bin/python3 training/classifier-exploration/ssl-export.py ssl-seed0-long     # -> /tmp/ssl-study/ssl-seed0-long.onnx
    /usr/bin/python3 training/classifier-exploration/ssl-export.py random-0           # the same encoder untrained (a floor)

Also writes <name>.check.f32 (one 128 px crop of a real cell cut and normalised as multilab-ssl.py does, then its
embedding) so that ssl-view.mjs can check that its crop cut, normalisation and ONNX run give the same embedding.
"""
import sys, importlib.util, numpy as np, torch
spec = importlib.util.spec_from_file_location('M', __file__.replace('ssl-export.py', 'multilab-ssl.py'))
M = importlib.util.module_from_spec(spec); spec.loader.exec_module(M)
name = sys.argv[1]
if name.startswith('random-'):  # an untrained encoder as a floor, built as multilab-ssl.py's `eval` builds random-SEED
    torch.manual_seed(int(name.split('-')[1])); net = M.Enc()
else:
    net = M.Enc(); net.load_state_dict(torch.load(f'{M.CACHE}/{name}.pt'))
net.eval()


class Embed(torch.nn.Module):
    def __init__(s, n):
        super().__init__(); s.n = n
    def forward(s, x):
        return s.n.embed(x)


# the wrapper in eval mode: export restores the module's mode afterwards, and a new module is in training mode
torch.onnx.export(Embed(net).eval(), torch.zeros(2, 3, M.S, M.S), f'{M.CACHE}/{name}.onnx', input_names=['x'], output_names=['embedding'],
                  dynamic_axes={'x': {0: 'n'}, 'embedding': {0: 'n'}}, opset_version=13)
# A check cell: a 128 px crop with a box (pixels) made from a BCCD image, cut and embedded the python way.
from PIL import Image
img = np.array(Image.open(M.D + 'bccd/images/' + sorted(__import__('os').listdir(M.D + 'bccd/images'))[0]).convert('RGB'))
crop128 = np.array(Image.fromarray(img[100:300, 200:400]).resize((128, 128), Image.BILINEAR))
box = (30.0, 22.0, 95.0, 101.0)  # pixels in the 128 px crop
x64 = M.crop(crop128, box)
with torch.no_grad():
    e = net.embed(M.norm(torch.tensor(x64).permute(2, 0, 1)[None].float() / 255.))[0].numpy()
with open(f'{M.CACHE}/{name}.check.f32', 'wb') as f:
    f.write(np.array(box, np.float32).tobytes()); f.write(crop128.astype(np.float32).tobytes()); f.write(e.astype(np.float32).tobytes())
print('exported', name, 'embedding norm', float(np.linalg.norm(e)))

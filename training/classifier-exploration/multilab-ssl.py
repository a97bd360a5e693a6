"""Issue 17 experiment: a representation learnt from every lab's *unlabelled* cells (SimCLR-style contrastive
learning with strong stain / colour / scale / blur augmentation), then a logistic regression fitted on the source
lab's labelled embeddings and scored on the target lab. Not product code.

Command (from the repository root; CPU, Debian's python3-torch 1.13, one thread):
    /usr/bin/python3 training/classifier-exploration/multilab-ssl.py prep          # crops -> /tmp/ssl-study/cells.npz
    S=training/classifier-exploration/multilab-ssl.py
    /usr/bin/python3 $S ssl 0 2040 & /usr/bin/python3 $S ssl 1 2040     # SimCLR, 34 min each -> ssl-seed{0,1}.pt
    /usr/bin/python3 $S ssl 0 1380 ssl-seed0 ssl-seed0-long               # 23 min more on seed 0 (cosine restarted)
    /usr/bin/python3 $S joint 0 1380 ssl-seed0 joint-seed0                # + Acevedo-20 cross-entropy, 23 min
    /usr/bin/python3 $S eval ssl-seed0 ssl-seed1 random-0 ssl-seed0-long joint-seed0   # the table

Crops (64 px): a square around the cell's box, side 1.2 x the box's longer side, padded with the image's edge
colour. Boxes: BCCD wbc_boxes_xyxy; Zheng DS2 bounding box of mask>64; TXL-PBC YOLO class 0; Acevedo-20 the
connected component nearest the centre of an Otsu threshold on (blue - red) (the purple cell against pink red
cells and cream background), closed and filled, falling back to the central 0.75 square when it looks wrong.
Acevedo-20: 600 images a class (5 classes, ig dropped), stratified 50/50 with seed 0 (train / held-out).
SSL pool (no labels): those 3,000 Acevedo-20 cells, BCCD's 341 cells, Zheng's 100, every TXL-PBC WBC box.
Every SSL batch is drawn from ONE lab (so the loss never rewards telling labs apart, and BatchNorm sees one lab
at a time); labs are drawn with probability proportional to sqrt(number of cells).
Fixed in advance (nothing tuned on a target): ResNet-ish encoder (~0.7 M weights), 128-d projection head,
NT-Xent temperature 0.2, 96 cells (192 views) a batch, AdamW 2e-3 cosine over a wall-clock budget; embeddings =
the 192-d global-average-pooled encoder output; sklearn logistic regression C=0.1 on z-scored embeddings.
B->A and Z->A are scored on Acevedo-20's held-out half (1,500 cells), like A->Ah.
'joint' = the same SimCLR loss plus cross-entropy of a linear head on 64 augmented Acevedo-20 training cells a step.
Variants scored: (a) encoder with training BatchNorm statistics, embeddings z-scored on the source's statistics;
(b) the same embeddings, each lab z-scored on its own unlabelled cells; (c) AdaBN (each lab's BatchNorm statistics
re-estimated on its own unlabelled cells) + (b). The same three with an untrained (random) encoder as a floor.
"""
import sys, os, csv, time, math, glob
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
from PIL import Image
from scipy import ndimage
torch.set_num_threads(1)
D = '/work/shared/data/'
CACHE = '/tmp/ssl-study'
S = 64
CL = ['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil']
os.makedirs(CACHE, exist_ok=True)


def rd(f):
    return list(csv.DictReader(open(D + f)))


def crop(img, box):
    x0, y0, x1, y1 = box
    side = 1.2 * max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    m = int(side) + 2
    p = np.pad(img, ((m, m), (m, m), (0, 0)), mode='edge')
    a, b = int(round(cx - side / 2)) + m, int(round(cy - side / 2)) + m
    s = int(round(side))
    return np.array(Image.fromarray(p[b:b + s, a:a + s]).resize((S, S), Image.LANCZOS))


def otsu(v):
    h, e = np.histogram(v, 256)
    c = (e[:-1] + e[1:]) / 2
    w0 = np.cumsum(h); w1 = w0[-1] - w0
    m0 = np.cumsum(h * c) / np.maximum(w0, 1); m1 = (np.sum(h * c) - np.cumsum(h * c)) / np.maximum(w1, 1)
    return c[np.argmax(w0 * w1 * (m0 - m1) ** 2)]


def ace_box(img):
    f = img.astype(float)
    v = ndimage.gaussian_filter(f[..., 2] - f[..., 0], 2)
    m = v > otsu(v)
    m = ndimage.binary_fill_holes(ndimage.binary_closing(m, iterations=3))
    lab, n = ndimage.label(m)
    H, W = m.shape
    if n:
        sizes = ndimage.sum(m, lab, range(1, n + 1))
        yy, xx = np.mgrid[:H, :W]
        best, bd = 0, 1e9
        for i in range(1, n + 1):
            if sizes[i - 1] < 300: continue
            ys, xs = np.where(lab == i)
            d = math.hypot(ys.mean() - H / 2, xs.mean() - W / 2)
            if d < bd: best, bd = i, d
        if best and bd < 60:
            ys, xs = np.where(lab == best)
            box = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
            if 40 < max(box[2] - box[0], box[3] - box[1]) < 0.9 * W:
                return box, True
    s = 0.75 * min(H, W) / 1.2
    return (W / 2 - s / 2, H / 2 - s / 2, W / 2 + s / 2, H / 2 + s / 2), False


def prep():
    X, dom, y, split = [], [], [], []
    a = [r for r in rd('acevedo20/labels.csv') if r['class'] in CL]
    rng = np.random.RandomState(0)
    fb = 0
    for c in CL:
        rows = [r for r in a if r['class'] == c]
        idx = rng.permutation(len(rows))[:600]
        for k, i in enumerate(idx):
            img = np.array(Image.open(D + 'acevedo20/' + rows[i]['path']).convert('RGB'))
            box, ok = ace_box(img); fb += not ok
            X.append(crop(img, box)); dom.append('acevedo20'); y.append(CL.index(c)); split.append(k % 2)
    print('acevedo fallback boxes', fb, flush=True)
    for r in rd('bccd/labels.csv'):
        if r['label_kind'] == 'single' and r['n_wbc_boxes'] == '1' and r['category'] in CL:
            img = np.array(Image.open(D + 'bccd/' + r['image']).convert('RGB'))
            X.append(crop(img, list(map(int, r['wbc_boxes_xyxy'].split())))); dom.append('bccd')
            y.append(CL.index(r['category'])); split.append(-1)
    for r in rd('zheng-ds2/labels.csv'):
        img = np.array(Image.open(D + 'zheng-ds2/' + r['image']).convert('RGB'))
        mk = np.array(Image.open(D + 'zheng-ds2/' + r['mask'])); mk = mk if mk.ndim == 2 else mk[..., 0]
        ys, xs = np.where(mk > 64)
        X.append(crop(img, (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))); dom.append('zheng')
        y.append(CL.index(r['class'])); split.append(-1)
    src = {r['New_Image_Name']: r['Source_Dataset'] for r in rd('txl-pbc/metadata.csv')}
    for p in sorted(glob.glob(D + 'txl-pbc/images/*/*.png')):
        lp = p.replace('/images/', '/labels/')[:-4] + '.txt'
        if not os.path.exists(lp): continue
        img = None
        for line in open(lp):
            t = line.split()
            if len(t) < 5 or t[0] != '0': continue
            if img is None: img = np.array(Image.open(p).convert('RGB'))
            H, W = img.shape[:2]
            cx, cy, w, h = float(t[1]) * W, float(t[2]) * H, float(t[3]) * W, float(t[4]) * H
            if max(w, h) < 8: continue
            X.append(crop(img, (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)))
            dom.append('txl-' + src.get(os.path.basename(p), 'unknown')); y.append(-1); split.append(-1)
    np.savez(CACHE + '/cells.npz', X=np.stack(X), dom=np.array(dom), y=np.array(y), split=np.array(split))
    u, n = np.unique(dom, return_counts=True); print(dict(zip(u, n)))
    # a montage for a look
    d = np.array(dom); rows = []
    for g in u:
        i = np.where(d == g)[0][:16]; rows.append(np.concatenate([X[j] for j in i] + [np.zeros((S, S, 3), np.uint8)] * (16 - len(i)), 1))
    Image.fromarray(np.concatenate(rows, 0)).save(CACHE + '/montage.png')


# ---------------------------------------------------------------- model and augmentation
class Block(nn.Module):
    def __init__(s, i, o, st):
        super().__init__()
        s.c1 = nn.Conv2d(i, o, 3, st, 1, bias=False); s.b1 = nn.BatchNorm2d(o)
        s.c2 = nn.Conv2d(o, o, 3, 1, 1, bias=False); s.b2 = nn.BatchNorm2d(o)
        s.sc = None if (i == o and st == 1) else nn.Sequential(nn.Conv2d(i, o, 1, st, bias=False), nn.BatchNorm2d(o))
    def forward(s, x):
        r = x if s.sc is None else s.sc(x)
        return F.relu(s.b2(s.c2(F.relu(s.b1(s.c1(x))))) + r)


class Enc(nn.Module):
    FEAT = 192
    def __init__(s):
        super().__init__()
        s.stem = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU())  # 32x32
        s.l = nn.Sequential(Block(32, 32, 1), Block(32, 64, 2), Block(64, 64, 1), Block(64, 128, 2), Block(128, 192, 2))
        s.head = nn.Sequential(nn.Linear(192, 256), nn.BatchNorm1d(256), nn.ReLU(), nn.Linear(256, 128))
    def embed(s, x):
        return s.l(s.stem(x)).mean((2, 3))
    def forward(s, x):
        return s.head(s.embed(x))


def norm(x):
    # per-image optical density divided by its own 99th percentile (stain strength cancels), as cnn.py
    od = -torch.log(x.clamp(1 / 255, 1))
    q = od.flatten(1).quantile(0.99, dim=1).clamp(min=0.05)[:, None, None, None]
    return od / q - 0.5


def aug(x):
    b = x.shape[0]
    # geometry: any rotation, flip, zoom 0.75-1.3, shift +-8 %
    th = torch.rand(b) * 2 * math.pi; sc = torch.exp(torch.empty(b).uniform_(math.log(0.75), math.log(1.3)))
    fl = torch.where(torch.rand(b) < 0.5, -1., 1.)
    A = torch.zeros(b, 2, 3)
    A[:, 0, 0] = torch.cos(th) / sc * fl; A[:, 0, 1] = -torch.sin(th) / sc
    A[:, 1, 0] = torch.sin(th) / sc * fl; A[:, 1, 1] = torch.cos(th) / sc
    A[:, :, 2] = torch.empty(b, 2).uniform_(-0.08, 0.08)
    x = F.grid_sample(x, F.affine_grid(A, x.shape, align_corners=False), padding_mode='border', align_corners=False)
    # stain: optical density mixed by a random matrix near identity, scaled per channel and in strength, tinted
    od = -torch.log(x.clamp(1 / 255, 1))
    M = torch.eye(3) + 0.2 * torch.randn(b, 3, 3)
    od = torch.einsum('bij,bjhw->bihw', M, od).clamp(min=0)
    od = od * (0.5 + torch.rand(b, 1, 1, 1)) * (0.7 + 0.6 * torch.rand(b, 3, 1, 1))
    x = torch.exp(-od) * (0.8 + 0.2 * torch.rand(b, 3, 1, 1))
    g = torch.rand(b) < 0.2
    x[g] = x[g].mean(1, keepdim=True).expand(-1, 3, -1, -1)
    # resolution / focus: half the views down-sampled to 16-48 px and back (BCCD-like), some Gaussian blur
    for i in range(b):
        if torch.rand(1) < 0.5:
            r = int(torch.randint(16, 49, (1,)))
            x[i:i + 1] = F.interpolate(F.interpolate(x[i:i + 1], size=r, mode='area'), size=S, mode='bilinear', align_corners=False)
    if torch.rand(1) < 0.5:
        sg = float(torch.empty(1).uniform_(0.5, 1.5)); k = torch.exp(-torch.arange(-3., 4.) ** 2 / (2 * sg * sg)); k = k / k.sum()
        k2 = (k[:, None] * k[None, :]).expand(3, 1, 7, 7)
        x = F.conv2d(F.pad(x, (3, 3, 3, 3), mode='replicate'), k2, groups=3)
    x = (x + 0.02 * torch.rand(b, 1, 1, 1) * torch.randn_like(x)).clamp(0, 1)
    return x


def load():
    z = np.load(CACHE + '/cells.npz')
    X = torch.tensor(z['X']).permute(0, 3, 1, 2).float() / 255.
    dom = z['dom']; lab = np.where(np.char.startswith(dom, 'txl-BCCD'), 'bccd', dom)  # TXL's BCCD part is BCCD
    return X, dom, lab, z['y'], z['split']


def ssl(seed, secs, init=None, out=None, joint=False):
    torch.manual_seed(seed); np.random.seed(seed)
    X, dom, lab, y, split = load()
    atr = np.where((lab == 'acevedo20') & (split == 0))[0]  # the source's labelled half (joint only)
    yt = torch.tensor(y)
    groups = {g: np.where(lab == g)[0] for g in np.unique(lab)}
    names = list(groups); pw = np.sqrt([len(groups[g]) for g in names]); pw /= pw.sum()
    print({g: len(v) for g, v in groups.items()}, flush=True)
    net = Enc(); print('weights', sum(p.numel() for p in net.parameters()), flush=True)
    if init: net.load_state_dict(torch.load(f'{CACHE}/{init}.pt'))
    cls = nn.Linear(Enc.FEAT, 5)
    opt = torch.optim.AdamW(list(net.parameters()) + list(cls.parameters()), 2e-3, weight_decay=1e-4)
    B, T = 96, 0.2
    t0 = time.time(); step = 0; log = []
    while True:
        el = time.time() - t0
        if el > secs: break
        for gr in opt.param_groups: gr['lr'] = 2e-3 * 0.5 * (1 + math.cos(math.pi * min(1, el / secs)))
        g = names[np.random.choice(len(names), p=pw)]
        idx = np.random.choice(groups[g], B, replace=len(groups[g]) < B)
        xb = X[idx]
        z = F.normalize(net(norm(torch.cat([aug(xb), aug(xb)]))), dim=1)
        sim = z @ z.t() / T; sim.fill_diagonal_(-1e9)
        tgt = torch.cat([torch.arange(B, 2 * B), torch.arange(B)])
        loss = F.cross_entropy(sim, tgt)
        if joint:  # + supervised cross-entropy on 64 augmented Acevedo-20 training cells (its own BatchNorm pass)
            j = np.random.choice(atr, 64)
            loss = loss + F.cross_entropy(cls(net.embed(norm(aug(X[j])))), yt[j], label_smoothing=0.1)
        opt.zero_grad(); loss.backward(); opt.step(); step += 1
        log.append(loss.item())
        if step % 25 == 0: print(f'{step} {el:.0f}s {g} loss {np.mean(log[-25:]):.3f}', flush=True)
    torch.save(net.state_dict(), f'{CACHE}/{out or f"ssl-seed{seed}"}.pt')
    print('steps', step, 'secs', time.time() - t0, flush=True)


# ---------------------------------------------------------------- evaluation
def wilson(k, n, z=1.96):
    p = k / n; d = 1 + z * z / n; c = (p + z * z / (2 * n)) / d; h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return 100 * p, 100 * (c - h), 100 * (c + h)


@torch.no_grad()
def embeds(net, X, lab, adabn):
    out = np.zeros((len(X), Enc.FEAT), np.float32)
    base = {k: v.clone() for k, v in net.state_dict().items()}
    for g in np.unique(lab):
        idx = np.where(lab == g)[0]
        net.load_state_dict(base)
        if adabn:
            for m in net.modules():
                if isinstance(m, nn.BatchNorm2d): m.reset_running_stats(); m.momentum = None
            net.train()
            for i in range(0, len(idx), 128): net.embed(norm(X[idx[i:i + 128]]))
        net.eval()
        for i in range(0, len(idx), 256): out[idx[i:i + 256]] = net.embed(norm(X[idx[i:i + 256]])).numpy()
    net.load_state_dict(base)
    return out


def score(E, lab, y, split, perlab):
    from sklearn.linear_model import LogisticRegression
    ace_pool = (lab == 'acevedo20')
    sets = {'A': (lab == 'acevedo20') & (split == 0), 'Ah': (lab == 'acevedo20') & (split == 1),
            'B': (lab == 'bccd') & (y >= 0), 'Z': (lab == 'zheng') & (y >= 0)}
    pool = {'A': ace_pool, 'Ah': ace_pool, 'B': lab == 'bccd', 'Z': lab == 'zheng'}  # a lab's unlabelled cells
    res = {}
    for s, tlist in (('A', ['Ah', 'B', 'Z']), ('B', ['A', 'Z']), ('Z', ['A', 'B'])):
        def f(k):
            ref = E[pool[k]] if perlab else E[sets[s]]
            return (E[sets[k]] - ref.mean(0)) / (ref.std(0) + 1e-6)
        clf = LogisticRegression(C=0.1, max_iter=3000).fit(f(s), y[sets[s]])
        for t in tlist:
            tt = 'Ah' if t == 'A' and s != 'A' else t  # B->A and Z->A are scored on Acevedo's held-out half
            p = clf.predict(f(tt)); k = int((p == y[sets[tt]]).sum()); res[f'{s}->{t}'] = (k, len(p))
    return res


def evaluate(names):
    X, dom, lab, y, split = load()
    rows = []
    for nm in names:  # checkpoint names under CACHE, or random-SEED for an untrained encoder
        seed = int(nm.split('seed')[-1].split('-')[0]) if 'seed' in nm else int(nm.split('-')[1])
        for enc in (nm,):
            torch.manual_seed(seed); net = Enc()
            if not enc.startswith('random'): net.load_state_dict(torch.load(f'{CACHE}/{enc}.pt'))
            Eg = embeds(net, X, lab, False); Ea = embeds(net, X, lab, True)
            for name, E, pl in (('(a) source z-score', Eg, False), ('(b) per-lab z-score', Eg, True), ('(c) AdaBN + per-lab z-score', Ea, True)):
                rows.append((enc, seed, name, score(E, lab, y, split, pl)))
    order = ['A->Ah', 'A->B', 'A->Z', 'B->A', 'B->Z', 'Z->A', 'Z->B']
    print('| encoder | seed | variant | ' + ' | '.join(order) + ' | worst scoring pair |')
    print('| --- | ---: | --- | ' + ' | '.join(['---:'] * len(order)) + ' | --- |')
    for enc, seed, name, r in rows:
        cells = []
        for k in order:
            p, lo, hi = wilson(*r[k]); cells.append(f'{p:.1f} ({lo:.0f}-{hi:.0f})')
        sc = {k: 100 * r[k][0] / r[k][1] for k in order if k not in ('A->Ah', 'A->B')}
        w = min(sc, key=sc.get)
        print(f'| {enc} | {seed} | {name} | ' + ' | '.join(cells) + f' | {w} {sc[w]:.1f} |')
    print('(n: A->Ah %d, B %d, Z %d; A->B is the selection pair; A->Ah in-domain)' % (rows[0][3]['A->Ah'][1], rows[0][3]['A->B'][1], rows[0][3]['A->Z'][1]))


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'prep': prep()
    elif cmd in ('ssl', 'joint'):
        ssl(int(sys.argv[2]), float(sys.argv[3]), *(sys.argv[4:6] if len(sys.argv) > 5 else [None, None]), joint=cmd == 'joint')
    elif cmd == 'eval': evaluate(sys.argv[2:])

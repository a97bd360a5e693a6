"""Exploration: the red cells' diameter as a size ruler for the white cell (issue 5).

Cells are measured relative to their own box, so a small lymphocyte and a monocyte of the same shape look alike.
Red cells are about 7.5 um across in every lab, so the white cell's size in red-cell diameters is comparable across
labs whatever the magnification. This script estimates each image's red-cell diameter, checks it against BCCD's
annotated red-cell boxes, and prints each class's white-cell size in red-cell diameters per lab.

usage: DUMP=/tmp/dump /usr/bin/python3 training/classifier-exploration/red-cell-ruler.py
(reads $DUMP/cells.csv written by dump-cells.mjs, which has each cell's image and box in image pixels)
"""
import csv
import os
import re
import sys

import numpy as np
from PIL import Image
from scipy import ndimage as ndi
from skimage.feature import peak_local_max
from skimage.filters import threshold_otsu

TOPK = int(os.environ.get("TOPK", "3"))
NORM = float(os.environ.get("NORM", "0"))
DUMP = os.environ.get('DUMP', '/tmp/dump')
DATA = os.environ.get('DATA', os.path.join(os.path.dirname(__file__), '../../../shared/data'))


def red_cell_diameter(rgb, box):
    """Typical diameter (px) of the red cells around the white cell whose box is `box` (x0, y0, x1, y1).

    A circle Hough transform along the boundary's normals: each boundary pixel of the red-cell mask (stained
    pixels, pallor filled) votes for the centre one radius inwards. Red cells cut by the image border or hidden
    behind the white cell still vote with the arc that shows, and touching cells keep their own centres.
    Searched between 0.15 and 0.5 of the white cell's box side (a red cell is 7-8 um, white cells 7-20 um).
    """
    # At most 200 px a side: enough for red cells (20-50 px there in these labs), and fast.
    scale = min(1.0, 200 / max(rgb.shape[:2]))
    if scale < 1:
        im = Image.fromarray(rgb)
        rgb = np.asarray(im.resize((round(im.width * scale), round(im.height * scale)), Image.BILINEAR))
        box = [v * scale for v in box]
    rgb = rgb.astype(np.float64)
    white = np.percentile(rgb.reshape(-1, 3), 97, axis=0) + 1
    od = -np.log10(np.clip((rgb + 1) / white, 1e-3, 1))
    tot = ndi.gaussian_filter(od.sum(axis=2), 1)
    fg = tot > 0.5 * threshold_otsu(tot)
    fg = ndi.binary_closing(fg, iterations=2)
    fg = ndi.binary_fill_holes(fg)
    h, w = fg.shape
    x0, y0, x1, y1 = box
    side = 0.5 * ((x1 - x0) + (y1 - y0))
    rmin, rmax = 0.15 * side / 2 * 2, 0.5 * side
    # Specks (platelets, dirt) are far smaller than a red cell.
    lab, nl = ndi.label(fg)
    if nl:
        sizes = ndi.sum(fg, lab, np.arange(1, nl + 1))
        fg = np.isin(lab, 1 + np.nonzero(sizes >= 0.5 * np.pi * rmin * rmin)[0])
    edge = fg & ~ndi.binary_erosion(fg)
    sm = ndi.gaussian_filter(fg.astype(np.float64), 2)
    gy, gx = np.gradient(sm)
    mx, my = 0.05 * (x1 - x0), 0.05 * (y1 - y0)
    keep = np.zeros_like(edge)
    keep[2:h - 2, 2:w - 2] = True
    keep[max(0, int(y0 - my)):min(h, int(y1 + my) + 1), max(0, int(x0 - mx)):min(w, int(x1 + mx) + 1)] = False
    ys, xs = np.nonzero(edge & keep)
    g = np.hypot(gx[ys, xs], gy[ys, xs])
    ok = g > 1e-3
    ys, xs, nx, ny = ys[ok], xs[ok], gx[ys[ok], xs[ok]] / g[ok], gy[ys[ok], xs[ok]] / g[ok]
    if len(ys) < 20:
        return float('nan'), 0
    best, best_r = -1.0, float('nan')
    for r in np.arange(max(3.0, rmin), rmax + 1e-9, 1.0):
        cx = np.round(xs + r * nx).astype(int)
        cy = np.round(ys + r * ny).astype(int)
        inside = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
        acc = np.zeros((h, w))
        np.add.at(acc, (cy[inside], cx[inside]), 1.0)
        acc = ndi.gaussian_filter(acc, 1.5)
        peaks = acc[(acc == ndi.maximum_filter(acc, size=int(r))) & (acc > 0)]
        score = np.sort(peaks)[-TOPK:].sum() / (2 * np.pi * r) ** NORM
        if score > best:
            best, best_r = score, r
    return 2 * best_r / scale, len(ys)


def voc_rbc(path):
    t = open(path).read()
    ds = []
    for m in re.finditer(r'<name>RBC</name>.*?<xmin>(\d+)</xmin>\s*<ymin>(\d+)</ymin>\s*<xmax>(\d+)</xmax>\s*<ymax>(\d+)</ymax>', t, re.S):
        a, b, c, d = map(int, m.groups())
        ds.append(max(c - a, d - b))
    return float(np.median(ds)) if ds else float('nan')


def main():
    rows = list(csv.DictReader(open(os.path.join(DUMP, 'cells.csv'))))
    roots = {'acevedo20': '/tmp/lg-results-work/acevedo20', 'bccd': '/tmp/lg-results-work/bccd', 'zheng-ds2': os.path.join(DATA, 'zheng-ds2')}
    out = []
    step = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    for i, r in enumerate(rows):
        if r['domain'] == 'acevedo20' and i % step:
            continue
        rel = r['id'].strip('"')
        img = np.asarray(Image.open(os.path.join(roots[r['domain']], rel)).convert('RGB'))
        box = [float(r[k]) for k in ('ib0', 'ib1', 'ib2', 'ib3')]
        d, n = red_cell_diameter(img, box)
        wbc = ((box[2] - box[0]) + (box[3] - box[1])) / 2
        gt = float('nan')
        if r['domain'] == 'bccd':
            base = os.path.basename(rel).replace('.jpg', '.xml')
            p = os.path.join(DATA, 'bccd', 'voc_annotations', base)
            if os.path.exists(p):
                gt = voc_rbc(p)
        out.append((r['domain'], r['label'], wbc, d, n, gt))
    doms = ['acevedo20', 'bccd', 'zheng-ds2']
    print('red-cell diameter (px): median [p10-p90], cells with none found')
    for dom in doms:
        ds = np.array([o[3] for o in out if o[0] == dom])
        ok = ds[np.isfinite(ds)]
        print(f'  {dom}: {np.median(ok):.1f} [{np.percentile(ok, 10):.1f}-{np.percentile(ok, 90):.1f}], none {np.sum(~np.isfinite(ds))}')
    gt = np.array([(o[3], o[5]) for o in out if o[0] == 'bccd' and np.isfinite(o[5]) and np.isfinite(o[3])])
    if len(gt):
        rel = gt[:, 0] / gt[:, 1]
        print(f'  BCCD estimate / annotated box: median {np.median(rel):.2f} [{np.percentile(rel, 10):.2f}-{np.percentile(rel, 90):.2f}]')
    print('white-cell box side in red-cell diameters: median [p25-p75] (n)')
    classes = ['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil']
    print('  class'.ljust(14) + ''.join(d.rjust(22) for d in doms))
    for c in classes:
        line = '  ' + c.ljust(12)
        for dom in doms:
            v = np.array([o[2] / o[3] for o in out if o[0] == dom and o[1] == c and np.isfinite(o[3])])
            line += (f'{np.median(v):.2f} [{np.percentile(v, 25):.2f}-{np.percentile(v, 75):.2f}] ({len(v)})' if len(v) else '-').rjust(22)
        print(line)
    print('white-cell box side in px: median')
    for c in classes:
        line = '  ' + c.ljust(12)
        for dom in doms:
            v = np.array([o[2] for o in out if o[0] == dom and o[1] == c])
            line += (f'{np.median(v):.0f}' if len(v) else '-').rjust(22)
        print(line)
    np.save(os.path.join(DUMP, 'ruler.npy'), np.array([(o[2], o[3]) for o in out]))


if __name__ == '__main__':
    main()

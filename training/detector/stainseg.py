"""Classical stain segmentation of a white blood cell (pseudo-masks for Acevedo-20 and TXL-PBC boxes).

Nucleus = strongly purple pixels (B - G high, Otsu, at least 40); cytoplasm candidates = pixels with
B - G above a low threshold; the cell = the candidate component touching the nucleus, cut from touching
red cells by an opening, holes filled, then its convex hull. Without a nucleus: an ellipse in the box.
"""
import numpy as np
from scipy import ndimage as ndi
from skimage import filters, morphology, measure, draw


def ellipse_mask(h, w, box):
    x1, y1, x2, y2 = box
    m = np.zeros((h, w), bool)
    rr, cc = draw.ellipse((y1 + y2) / 2, (x1 + x2) / 2, max(1, (y2 - y1) / 2), max(1, (x2 - x1) / 2), shape=(h, w))
    m[rr, cc] = True
    return m


def segment_cell(img, box=None, t_cyt=None, open_r=None, cap=1.4, off=10.0):
    """img uint8 HxWx3 RGB; box (x1,y1,x2,y2) to segment in, or None = the cell nearest the centre.
    Returns (mask bool HxW, ok flag)."""
    h, w = img.shape[:2]
    a = img.astype(np.float32)
    d = ndi.gaussian_filter(a[..., 2] - a[..., 1], 1.0)
    region = np.ones((h, w), bool)
    if box is not None:
        x1, y1, x2, y2 = [int(round(v)) for v in box]
        x1, y1 = max(0, x1), max(0, y1)
        x2, y2 = min(w, x2), min(h, y2)
        region[:] = False
        region[y1:y2, x1:x2] = True
        cy, cx = (y1 + y2) / 2, (x1 + x2) / 2
    else:
        cy, cx = h / 2, w / 2
    vals = d[region]
    try:
        t_n = max(40.0, float(filters.threshold_otsu(vals)))
    except ValueError:
        t_n = 40.0
    nuc = (d > t_n) & region
    nuc = morphology.remove_small_objects(nuc, 30)
    lab, n = ndi.label(nuc)
    if n == 0:
        return (ellipse_mask(h, w, box) if box is not None else np.zeros((h, w), bool)), False
    props = measure.regionprops(lab)
    # main nucleus component: large and near the centre
    def score(p):
        y, x = p.centroid
        return p.area / (1.0 + ((y - cy) ** 2 + (x - cx) ** 2) / (0.25 * (h * h + w * w) / 4))
    main = max(props, key=score)
    scale = np.sqrt(main.area)
    keep = np.zeros_like(nuc)
    dist_main = ndi.distance_transform_edt(lab != main.label)
    for p in props:
        if p.label == main.label or (p.area > 30 and dist_main[lab == p.label].min() < 0.6 * scale):
            keep |= lab == p.label
    nuc = keep
    if t_cyt is None:
        # adaptive: above the red-cell level (median B-G of darker-than-background pixels outside the nucleus)
        gray = a.mean(-1)
        tb = filters.threshold_otsu(gray[region])
        rbc = (gray < tb) & ~nuc & region
        t_cyt = (float(np.median(d[rbc])) + off) if rbc.sum() > 50 else 0.0
    cyt = (d > t_cyt) & region
    cand = cyt | nuc
    r = open_r if open_r is not None else max(2, int(0.12 * scale))
    cand = morphology.binary_opening(cand, morphology.disk(r)) | nuc
    lab2, _ = ndi.label(cand)
    ids = np.unique(lab2[nuc])
    ids = ids[ids > 0]
    cell = np.isin(lab2, ids)
    cell = ndi.binary_fill_holes(cell)
    # a cell is not much bigger than its nucleus: cap at a disc around the nucleus
    ys, xs = np.nonzero(nuc)
    ny, nx = ys.mean(), xs.mean()
    rad = np.sqrt(((ys - ny) ** 2 + (xs - nx) ** 2).max()) * cap + 3
    yy, xx = np.mgrid[:h, :w]
    cell &= ((yy - ny) ** 2 + (xx - nx) ** 2) <= rad ** 2
    lab3, n3 = ndi.label(cell)
    if n3 > 1:
        ids = np.unique(lab3[nuc]); ids = ids[ids > 0]
        cell = np.isin(lab3, ids)
    cell = morphology.convex_hull_image(cell) if cell.any() else cell
    return cell & region, True

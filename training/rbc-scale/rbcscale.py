"""Unsupervised red-cell sizing and white-cell segmentation (experiment, not product code).

estimate_rbc(img, exclude) -> dict of per-image RBC diameter estimates in pixels:
  gran : 2 x mode of the granulometric pattern spectrum (openings by discs, via distance transforms)
  peak : 2 x median distance-transform value at local maxima whose disc lies inside the frame
  comp : median equivalent diameter of isolated roundish foreground blobs (not touching frame/WBC)
All three work on the red-cell foreground: pixels darker than the Otsu threshold of the green
channel (computed without the WBC region), holes filled (pale centres), small specks removed.

segment_wbc(img, box=None) -> (cell_mask, nucleus_mask): nucleus = B-G purple threshold, the
component nearest the centre (of the image or of the given box) plus nearby lobes; cell = watershed
basin of the nucleus on the colour gradient, competing with red-cell markers and the background.
"""
import cv2
import numpy as np
from scipy import ndimage as ndi


def _otsu(values):
    v = np.clip(values, 0, 255).astype(np.uint8).reshape(-1, 1)
    t, _ = cv2.threshold(v, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return t


def rbc_foreground(img, exclude=None):
    g = cv2.GaussianBlur(img[..., 1], (5, 5), 0).astype(np.float32)
    sel = np.ones(g.shape, bool) if exclude is None else ~exclude
    t = _otsu(g[sel])
    fg = g < t
    fg = ndi.binary_fill_holes(fg)
    fg = cv2.morphologyEx(fg.astype(np.uint8), cv2.MORPH_OPEN,
                          cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))).astype(bool)
    fg = ndi.binary_fill_holes(fg)
    if exclude is not None:
        fg &= ~exclude
    return fg


def _dt(mask):
    return cv2.distanceTransform(mask.astype(np.uint8), cv2.DIST_L2, 5)


def estimate_rbc(img, exclude=None, min_r=4):
    h, w = img.shape[:2]
    fg = rbc_foreground(img, exclude)
    out = {"fg_frac": float(fg.mean())}
    # pad with zeros so that cells cut by the frame are not treated as extending beyond it
    # (padding makes a cut cell look smaller; 'peak' below avoids cut cells instead)
    dt = _dt(fg)
    rmax = int(min(h, w) / 2)
    # granulometry: area remaining after opening by a disc of radius r
    radii = np.arange(min_r, rmax, 1.0)
    areas = []
    for r in radii:
        core = dt >= r
        if not core.any():
            areas.append(0.0)
            break
        d2 = _dt(~core)
        areas.append(float((d2 <= r).sum()))
    areas = np.array(areas)
    radii = radii[:len(areas)]
    spec = -np.diff(areas)  # area removed between r and r+1
    radii = radii[:-1] if len(radii) > 1 else radii
    if spec.size and areas[0] > 0:
        spec_s = np.convolve(spec, np.ones(3) / 3, mode="same") if spec.size >= 3 else spec
        k = int(np.argmax(spec_s))
        out["gran"] = 2 * (radii[k] + 0.5)
        rc = radii + 0.5
        out["gran_r"] = 2 * rc[int(np.argmax(spec_s / rc))]        # weight 1/r
        out["gran_n"] = 2 * rc[int(np.argmax(spec_s / rc ** 2))]   # ~ number of discs
        # first local maximum that holds >= half the global maximum (skips clump modes)
        thr = 0.5 * spec_s.max()
        cand = [i for i in range(len(spec_s)) if spec_s[i] >= thr and
                spec_s[i] == spec_s[max(0, i - 3):i + 4].max()]
        out["gran_f"] = 2 * rc[cand[0]] if cand else out["gran"]
    else:
        out["gran"] = out["gran_r"] = out["gran_n"] = out["gran_f"] = np.nan
    # distance-transform peaks whose inscribed disc stays inside the frame
    r0 = out["gran"] / 2 if np.isfinite(out["gran"]) else 10
    size = max(3, int(r0))
    mx = ndi.maximum_filter(dt, size=size)
    yy, xx = np.nonzero((dt == mx) & (dt >= max(min_r, 0.4 * r0)))
    vals = []
    for y, x in zip(yy, xx):
        r = dt[y, x]
        if y - r < 1 or x - r < 1 or y + r > h - 2 or x + r > w - 2:
            continue
        vals.append(r)
    vals = np.array(vals)
    out["n_peak"] = int(vals.size)
    out["peak"] = float(2 * np.median(vals)) if vals.size >= 2 else np.nan
    # isolated roundish components
    lab, n = ndi.label(fg)
    diam = []
    if n:
        objs = ndi.find_objects(lab)
        for i, sl in enumerate(objs, 1):
            ys, xs = sl
            if ys.start == 0 or xs.start == 0 or ys.stop >= h or xs.stop >= w:
                continue
            m = lab[sl] == i
            a = m.sum()
            if a < np.pi * max(min_r, 0.25 * r0) ** 2:
                continue
            if exclude is not None:
                ex = cv2.dilate(exclude[sl].astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
                if (ex & m).any():
                    continue
            cnt, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
            hull = cv2.convexHull(cnt[0])
            ha = cv2.contourArea(hull)
            per = cv2.arcLength(cnt[0], True)
            if ha <= 0 or per <= 0:
                continue
            solidity = a / ha
            circ = 4 * np.pi * a / per ** 2
            if solidity > 0.9 and circ > 0.7:
                diam.append(2 * np.sqrt(a / np.pi))
    diam = np.array(diam)
    out["n_comp"] = int(diam.size)
    out["comp"] = float(np.median(diam)) if diam.size >= 2 else np.nan
    return out


FG_K = 0.4
OPEN_K = 0.3


def segment_wbc(img, box=None, rbc_d=None):
    """box = (x0, y0, x1, y1) to look in; None -> the cell nearest the image centre."""
    h, w = img.shape[:2]
    f = cv2.GaussianBlur(img, (5, 5), 0).astype(np.float32)
    s = f[..., 0] - f[..., 1]  # B - G: purple nucleus
    nuc = s > 45
    nuc &= f[..., 1] < np.percentile(f[..., 1], 90) - 50
    nuc = cv2.morphologyEx(nuc.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    nuc = cv2.morphologyEx(nuc, cv2.MORPH_CLOSE,
                           cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))).astype(bool)
    nuc = ndi.binary_fill_holes(nuc)
    lab, n = ndi.label(nuc)
    if n == 0:
        return None, None
    if box is None:
        cx, cy = w / 2, h / 2
    else:
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    sizes = ndi.sum(nuc, lab, range(1, n + 1))
    coms = ndi.center_of_mass(nuc, lab, range(1, n + 1))
    # prefer big components near the centre
    score = [np.hypot(c[1] - cx, c[0] - cy) - 0.02 * sz for c, sz in zip(coms, sizes)]
    main = int(np.argmin(score)) + 1
    if sizes[main - 1] < 30:
        return None, None
    reach = 0.6 * (rbc_d if rbc_d and np.isfinite(rbc_d) else 0.15 * min(h, w))
    dmain = _dt(lab != main)
    keep = np.zeros_like(nuc)
    for i in range(1, n + 1):
        m = lab == i
        if i == main or (dmain[m].min() < reach and sizes[i - 1] > 15):
            keep |= m
    # cell: watershed on the colour gradient
    bg_col = np.median(f[f[..., 1] > np.percentile(f[..., 1], 90)], axis=0)
    dist = np.sqrt(((f - bg_col) ** 2).sum(-1))
    t = _otsu(dist)
    fgc = dist > FG_K * t
    fgc = ndi.binary_fill_holes(fgc)
    # split the cell foreground between the nucleus and red-cell centres: watershed on -DT
    dtc = _dt(fgc)
    r0 = (rbc_d / 2) if rbc_d and np.isfinite(rbc_d) else 0.08 * min(h, w)
    pk = (dtc == ndi.maximum_filter(dtc, size=max(3, int(r0)))) & (dtc > 0.5 * r0)
    pk &= _dt(~keep) > 0.5 * r0
    markers, npk = ndi.label(cv2.dilate(pk.astype(np.uint8), np.ones((3, 3), np.uint8)))
    markers = markers.astype(np.int32)
    markers[markers > 0] += 2
    markers[keep] = 2
    from skimage.segmentation import watershed
    ws = watershed(-dtc, markers, mask=fgc | keep)
    cell = ws == 2
    # cut off red cells attached through a neck
    k = max(3, int(2 * OPEN_K * r0) | 1)
    op = cv2.morphologyEx(cell.astype(np.uint8), cv2.MORPH_OPEN,
                          cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))).astype(bool)
    l3, n3 = ndi.label(op)
    if n3:
        ids = np.unique(l3[keep & op])
        ids = ids[ids > 0]
        if ids.size:
            cell = np.isin(l3, ids) | keep
    cell = ndi.binary_fill_holes(cell)
    lab2, n2 = ndi.label(cell)
    if n2 > 1:
        sz = ndi.sum(cell, lab2, range(1, n2 + 1))
        cell = lab2 == (int(np.argmax(sz)) + 1)
    return cell, keep


def _ws(grad8, markers):
    from skimage.segmentation import watershed
    return watershed(grad8, markers)


def eqd(mask):
    return float(2 * np.sqrt(mask.sum() / np.pi))

// Binary-mask operations (row-major Uint8Array, 1 = set) for cell morphology: disk erosion and opening,
// connected components, region properties and the convex-hull area, each following scikit-image's
// definition so that features measured in the Python experiments and here agree.

/** Offsets of a disk of radius r (dx^2 + dy^2 <= r^2), scikit-image's `disk(r)`. */
function diskOffsets(r: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= r * r) out.push([dx, dy]);
  return out;
}

/** Erosion by disk(r); outside the image counts as set (scikit-image's binary_erosion). */
export function erode(mask: Uint8Array, width: number, height: number, r: number): Uint8Array {
  const offs = diskOffsets(r);
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      let keep = 1;
      for (const [dx, dy] of offs) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
        if (!mask[yy * width + xx]) {
          keep = 0;
          break;
        }
      }
      out[y * width + x] = keep;
    }
  }
  return out;
}

/** Dilation by disk(r); outside the image counts as unset. */
export function dilate(mask: Uint8Array, width: number, height: number, r: number): Uint8Array {
  const offs = diskOffsets(r);
  const out = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!mask[y * width + x]) continue;
      for (const [dx, dy] of offs) {
        const xx = x + dx;
        const yy = y + dy;
        if (xx >= 0 && yy >= 0 && xx < width && yy < height) out[yy * width + xx] = 1;
      }
    }
  }
  return out;
}

/** Opening (erosion then dilation) by disk(r): removes specks and thin bridges narrower than the disk. */
export function open(mask: Uint8Array, width: number, height: number, r: number): Uint8Array {
  return dilate(erode(mask, width, height, r), width, height, r);
}

/** 8-connected components: labels (0 = unset, 1..count) and the pixel count of each (index = label). */
export function components(mask: Uint8Array, width: number, height: number): { labels: Int32Array; count: number; areas: number[] } {
  const labels = new Int32Array(mask.length);
  const areas = [0];
  const stack: number[] = [];
  let count = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || labels[start]) continue;
    count++;
    let area = 0;
    labels[start] = count;
    stack.push(start);
    while (stack.length) {
      const p = stack.pop()!;
      area++;
      const x = p % width;
      const y = (p - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= width || yy >= height) continue;
          const q = yy * width + xx;
          if (mask[q] && !labels[q]) {
            labels[q] = count;
            stack.push(q);
          }
        }
      }
    }
    areas.push(area);
  }
  return { labels, count, areas };
}

/** The pixels of one label as a mask. */
export function labelMask(labels: Int32Array, label: number): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) if (labels[i] === label) out[i] = 1;
  return out;
}

export interface RegionShape {
  area: number;
  centroid: [number, number];
  /** scikit-image's axis lengths: 4 sqrt of the eigenvalues of the (pixel-count normalised) inertia tensor. */
  majorAxis: number;
  minorAxis: number;
  /** sqrt(1 - minor^2 / major^2): 0 for a disc, towards 1 for a line. */
  eccentricity: number;
  /** scikit-image's `perimeter` (4-connected boundary, weighted by the local boundary configuration). */
  perimeter: number;
  /** Pixels whose centres lie inside the convex hull of the region's pixel squares. */
  convexArea: number;
}

/** Shape of the set pixels of `mask` (one region or several together); null when empty. */
export function regionShape(mask: Uint8Array, width: number, height: number): RegionShape | null {
  let area = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const x = i % width;
    area++;
    sx += x;
    sy += (i - x) / width;
  }
  if (area === 0) return null;
  const cx = sx / area;
  const cy = sy / area;
  let mxx = 0;
  let myy = 0;
  let mxy = 0;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const x = i % width;
    const dx = x - cx;
    const dy = (i - x) / width - cy;
    mxx += dx * dx;
    myy += dy * dy;
    mxy += dx * dy;
  }
  mxx /= area;
  myy /= area;
  mxy /= area;
  const tr = mxx + myy;
  const disc = Math.sqrt(Math.max(0, ((mxx - myy) * (mxx - myy)) / 4 + mxy * mxy));
  const l1 = tr / 2 + disc;
  const l2 = Math.max(0, tr / 2 - disc);
  return {
    area,
    centroid: [cx, cy],
    majorAxis: 4 * Math.sqrt(l1),
    minorAxis: 4 * Math.sqrt(l2),
    eccentricity: l1 > 0 ? Math.sqrt(1 - l2 / l1) : 0,
    perimeter: perimeter(mask, width, height),
    convexArea: convexArea(mask, width, height),
  };
}

// scikit-image measure.perimeter (neighbourhood 4): weights of the boundary configurations.
const PERIMETER_WEIGHTS = (() => {
  const w = new Float64Array(50);
  for (const i of [5, 7, 15, 17, 25, 27]) w[i] = 1;
  for (const i of [21, 33]) w[i] = Math.SQRT2;
  for (const i of [13, 23]) w[i] = (1 + Math.SQRT2) / 2;
  return w;
})();

function perimeter(mask: Uint8Array, width: number, height: number): number {
  const at = (x: number, y: number) => (x >= 0 && y >= 0 && x < width && y < height ? mask[y * width + x]! : 0);
  // The boundary: set pixels with an unset 4-neighbour (erosion by a cross, outside unset).
  const border = new Uint8Array(mask.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (at(x, y) && !(at(x - 1, y) && at(x + 1, y) && at(x, y - 1) && at(x, y + 1))) border[y * width + x] = 1;
    }
  }
  const b = (x: number, y: number) => (x >= 0 && y >= 0 && x < width && y < height ? border[y * width + x]! : 0);
  let total = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const code =
        b(x, y) +
        2 * (b(x - 1, y) + b(x + 1, y) + b(x, y - 1) + b(x, y + 1)) +
        10 * (b(x - 1, y - 1) + b(x + 1, y - 1) + b(x - 1, y + 1) + b(x + 1, y + 1));
      if (code < 50) total += PERIMETER_WEIGHTS[code]!;
    }
  }
  return total;
}

function cross(o: [number, number], a: [number, number], b: [number, number]): number {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/** Convex hull (counter-clockwise, Andrew's monotone chain) of points. */
function hull(points: Array<[number, number]>): Array<[number, number]> {
  const p = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const lower: Array<[number, number]> = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2]!, lower[lower.length - 1]!, q) <= 0) lower.pop();
    lower.push(q);
  }
  const upper: Array<[number, number]> = [];
  for (let i = p.length - 1; i >= 0; i--) {
    const q = p[i]!;
    while (upper.length >= 2 && cross(upper[upper.length - 2]!, upper[upper.length - 1]!, q) <= 0) upper.pop();
    upper.push(q);
  }
  return [...lower.slice(0, -1), ...upper.slice(0, -1)];
}

/**
 * Pixel count of the convex hull image (scikit-image's convex_hull_image): the hull of the edge midpoints of every
 * set pixel, and the pixels whose centres lie in it.
 */
export function convexArea(mask: Uint8Array, width: number, height: number): number {
  const pts: Array<[number, number]> = [];
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let i = 0; i < mask.length; i++) {
    if (!mask[i]) continue;
    const x = i % width;
    const y = (i - x) / width;
    // Corners of boundary pixels suffice: interior pixels never lie on the hull.
    const inner = x > 0 && y > 0 && x < width - 1 && y < height - 1 && mask[i - 1] && mask[i + 1] && mask[i - width] && mask[i + width];
    if (!inner) pts.push([x - 0.5, y], [x + 0.5, y], [x, y - 0.5], [x, y + 0.5]);
    if (x < x0) x0 = x;
    if (y < y0) y0 = y;
    if (x > x1) x1 = x;
    if (y > y1) y1 = y;
  }
  if (pts.length === 0) return 0;
  const h = hull(pts);
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      let inside = true;
      for (let k = 0; k < h.length; k++) {
        if (cross(h[k]!, h[(k + 1) % h.length]!, [x, y]) < -1e-9) {
          inside = false;
          break;
        }
      }
      if (inside) n++;
    }
  }
  return n;
}

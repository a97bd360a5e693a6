// Stain-normalised morphology of a cell crop (issue 5's cross-lab question). What a haematologist reads
// off a smear, measured so that the lab's stain strength, white balance and magnification matter less:
// the crop is turned into optical density relative to its own brightest pixels (white balance and
// illumination cancel), the nucleus is the azure-stained part (optical density of the red channel, which
// methylene blue / azure absorb), the cell is the ellipse inscribed in the detector's box (the crop is
// scaled to the box, so sizes are relative to the cell), and colours are chromaticities (shares of the
// optical density, independent of stain strength), also relative to the red cells around the cell
// (eosin-stained in every lab), with the granularity of nucleus and cytoplasm and the spread of the
// cytoplasm's colours. Measured on real crops (docs/results.md): it carries the five classes
// across labs better than colour histograms, pooled instance features or the autoencoder's latents.
import { cropBoxWithMargin } from './crop-geometry.js';
import { components, erode, labelMask, open, regionShape } from './binary-masks.js';
import { gaussianBlur, otsuFloat, percentile } from './plane-filters.js';

/** Number of values morphologyFeatures() writes. */
export const MORPHOLOGY_LENGTH = 59;

/** The crop side the features are computed at (crops of other sizes are resized by the caller). */
export const MORPHOLOGY_SIZE = 128;

/**
 * Where the detector's box lies in a crop made by cropBoxWithMargin (AECFE_CROP_MARGINS, clipped to
 * the image) and stretched to a square: [x0, y0, x1, y1] as fractions of the crop side.
 */
export type BoxInCrop = readonly [number, number, number, number];

/** The box of a typical Acevedo-20 cell in its crop: used when a cell comes without its box. */
export const DEFAULT_BOX_IN_CROP: BoxInCrop = [0.07, 0.07, 0.86, 0.86];

const NAMES = [
  'nucleus_fraction', 'cell_aspect', 'nucleus_parts', 'largest_part_share', 'lobes_after_erosion', 'eroded_share',
  'nucleus_hull_fill', 'nucleus_eccentricity', 'nucleus_roundness_inv', 'nucleus_solidity', 'nucleus_axis_ratio',
  ...['nucleus', 'cytoplasm'].flatMap((r) => [
    `${r}_chroma_r`, `${r}_chroma_g`, `${r}_chroma_b`, `${r}_density`, `${r}_density_cv`, `${r}_density_p90_ratio`,
    `${r}_texture`, `${r}_median_chroma_r`, `${r}_median_chroma_g`,
  ]),
  'cytoplasm_to_nucleus_density',
  'cytoplasm_chroma_r_vs_red_cells', 'cytoplasm_chroma_g_vs_red_cells', 'cytoplasm_chroma_b_vs_red_cells',
  'nucleus_chroma_r_vs_red_cells', 'nucleus_chroma_g_vs_red_cells', 'nucleus_chroma_b_vs_red_cells',
  'cytoplasm_density_vs_red_cells', 'nucleus_density_vs_red_cells',
  'nucleus_spread', 'nucleus_spread_sd', 'nucleus_offset',
  // Granularity: band-pass (difference of Gaussians) energy of the density, fine (0.7-1.5 px) and coarse (1.5-3 px).
  ...['nucleus', 'cytoplasm'].flatMap((r) => [`${r}_texture_fine`, `${r}_texture_fine_share`, `${r}_texture_coarse`, `${r}_texture_coarse_share`]),
  // Cytoplasm colour distribution: 3 x 3 histogram of the red and blue shares of its optical density.
  ...[0, 1, 2].flatMap((r) => [0, 1, 2].map((b) => `cytoplasm_chroma_hist_r${r}_b${b}`)),
  'cytoplasm_density_dense_share',
] as const;

/** Names of the values, in order (for reports and feature importances). */
export const MORPHOLOGY_NAMES: readonly string[] = NAMES;

/**
 * The columns that carry the lab's stain (chromaticity, density, texture) rather than the cell's shape:
 * what a per-lab centring shifts (the evaluation's morphology_lab_centred method).
 */
export const MORPHOLOGY_COLOUR_COLUMNS: readonly number[] = NAMES.flatMap((n, i) => (/chroma|density|texture/.test(n) ? [i] : []));

/** The crop's box as fractions, from the detector box and the image size (cropBoxWithMargin's rectangle). */
export function boxInCrop(box: readonly [number, number, number, number], imageWidth: number, imageHeight: number): BoxInCrop {
  const [x0, y0, x1, y1] = cropBoxWithMargin(box, imageWidth, imageHeight);
  const w = x1 - x0;
  const h = y1 - y0;
  return [(box[0] - x0) / w, (box[1] - y0) / h, (box[2] - x0) / w, (box[3] - y0) / h];
}

/**
 * The MORPHOLOGY_LENGTH values of one square RGB crop (size x size, uint8, row-major) whose detector box is
 * `box` (fractions of the side; DEFAULT_BOX_IN_CROP when unknown), written into `out` at `offset`.
 */
export function morphologyFeatures(
  rgb: Uint8Array,
  size: number,
  box: BoxInCrop = DEFAULT_BOX_IN_CROP,
  out: Float64Array | Float32Array = new Float64Array(MORPHOLOGY_LENGTH),
  offset = 0,
): Float64Array | Float32Array {
  const n = size * size;
  if (rgb.length !== n * 3) throw new Error(`morphologyFeatures: ${rgb.length} values for a ${size}x${size} RGB crop`);
  // Optical density against the crop's own white (97th percentile per channel): stain absorbance,
  // independent of illumination and white balance.
  const white = [0, 1, 2].map((c) => {
    const ch = new Float64Array(n);
    for (let i = 0; i < n; i++) ch[i] = rgb[3 * i + c]!;
    return percentile(ch, 97) + 1;
  });
  const od = new Float64Array(3 * n);
  const tot = new Float64Array(n);
  const odRed = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let t = 0;
    for (let c = 0; c < 3; c++) {
      const v = -Math.log10(Math.min(1, Math.max(1e-3, (rgb[3 * i + c]! + 1) / white[c]!)));
      od[3 * i + c] = v;
      t += v;
    }
    tot[i] = t;
    odRed[i] = od[3 * i]!;
  }
  // The cell: the ellipse inscribed in the detector's box.
  const cx = ((box[0] + box[2]) / 2) * size;
  const cy = ((box[1] + box[3]) / 2) * size;
  const rx = Math.max(2, ((box[2] - box[0]) / 2) * size);
  const ry = Math.max(2, ((box[3] - box[1]) / 2) * size);
  const inEllipse = (x: number, y: number, k: number) => ((x - cx) / (rx * k)) ** 2 + ((y - cy) / (ry * k)) ** 2 <= 1;
  const ell = new Uint8Array(n);
  const ring = new Uint8Array(n); // outside a 15 % larger ellipse: the cell's surroundings
  let cellArea = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      if (inEllipse(x, y, 1)) {
        ell[y * size + x] = 1;
        cellArea++;
      }
      if (!inEllipse(x, y, 1.15)) ring[y * size + x] = 1;
    }
  }
  // The nucleus: red-channel optical density above Otsu's threshold, inside the cell, specks removed.
  const red = gaussianBlur(odRed, size, size, 1);
  const tn = otsuFloat(red);
  const raw = new Uint8Array(n);
  for (let i = 0; i < n; i++) raw[i] = ell[i] && red[i]! > tn ? 1 : 0;
  const nuc = open(raw, size, size, 1);
  const cyto = new Uint8Array(n);
  let nucArea = 0;
  for (let i = 0; i < n; i++) {
    if (nuc[i]) nucArea++;
    else if (ell[i]) cyto[i] = 1;
  }
  const f: number[] = [nucArea / Math.max(cellArea, 1), Math.min(rx / ry, ry / rx)];
  const parts = components(nuc, size, size);
  const order = parts.areas.map((a, label) => ({ a, label })).slice(1).sort((p, q) => q.a - p.a);
  f.push(order.filter((p) => p.a > 0.03 * Math.max(nucArea, 1)).length, order.length ? order[0]!.a / Math.max(nucArea, 1) : 0);
  // Lobes: parts that survive an erosion by ~5 % of the cell's diameter (thin bridges between lobes break).
  const er = erode(nuc, size, size, Math.max(1, Math.round(0.05 * (rx + ry))));
  const erParts = components(er, size, size);
  let erArea = 0;
  for (let i = 0; i < n; i++) erArea += er[i]!;
  f.push(erParts.areas.slice(1).filter((a) => a > 0.02 * Math.max(nucArea, 1)).length, erArea / Math.max(nucArea, 1));
  if (order.length) {
    const all = regionShape(nuc, size, size)!;
    const p = regionShape(labelMask(parts.labels, order[0]!.label), size, size)!;
    f.push(
      nucArea / Math.max(nucArea > 3 ? all.convexArea : nucArea, 1),
      p.eccentricity,
      (p.perimeter * p.perimeter) / (4 * Math.PI * Math.max(p.area, 1)),
      p.area / Math.max(p.convexArea, 1),
      p.minorAxis / Math.max(p.majorAxis, 1e-6),
    );
  } else f.push(0, 0, 0, 0, 0);

  const smooth = gaussianBlur(tot, size, size, 2);
  const stats = (mask: Uint8Array): number[] => {
    const s: number[] = [];
    const ch = [0, 0, 0];
    const rShare: number[] = [];
    const gShare: number[] = [];
    let hp = 0;
    for (let i = 0; i < n; i++) {
      if (!mask[i]) continue;
      const t = tot[i]! + 1e-6;
      s.push(t);
      for (let c = 0; c < 3; c++) ch[c] += od[3 * i + c]! / t;
      rShare.push(od[3 * i]! / t);
      gShare.push(od[3 * i + 1]! / t);
      hp += Math.abs(tot[i]! - smooth[i]!);
    }
    const m = s.length;
    if (m < 3) return [0, 0, 0, 0, 0, 0, 0, 0, 0];
    const mean = s.reduce((a, b) => a + b, 0) / m;
    const sd = Math.sqrt(s.reduce((a, b) => a + (b - mean) * (b - mean), 0) / m);
    return [ch[0]! / m, ch[1]! / m, ch[2]! / m, mean, sd / mean, percentile(s, 90) / mean, hp / m / mean, percentile(rShare, 50), percentile(gShare, 50)];
  };
  const sn = stats(nuc);
  const sc = stats(cyto);
  f.push(...sn, ...sc, sc[3]! / Math.max(sn[3]!, 1e-6));

  // The red cells (and plasma) around: stained by eosin in every lab, a reference for the cell's colours.
  const tAll = otsuFloat(tot);
  let around = maskWhere(n, (i) => ring[i] === 1 && tot[i]! > 0.5 * tAll);
  if (count(around) < 20) {
    const p30 = percentile(tot, 30);
    around = maskWhere(n, (i) => !ell[i] && tot[i]! > p30);
  }
  if (count(around) < 3) around = maskWhere(n, (i) => !ell[i]);
  const ref = regionChroma(od, tot, around);
  f.push(
    sc[0]! - ref.chroma[0], sc[1]! - ref.chroma[1], sc[2]! - ref.chroma[2],
    sn[0]! - ref.chroma[0], sn[1]! - ref.chroma[1], sn[2]! - ref.chroma[2],
    sc[3]! / ref.density, sn[3]! / ref.density,
  );
  if (nucArea > 0) {
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < n; i++) {
      if (!nuc[i]) continue;
      sx += i % size;
      sy += Math.floor(i / size);
    }
    const ncx = sx / nucArea;
    const ncy = sy / nucArea;
    const d: number[] = [];
    for (let i = 0; i < n; i++) if (nuc[i]) d.push(Math.hypot((i % size) - ncx, Math.floor(i / size) - ncy) / Math.sqrt(nucArea));
    const dm = d.reduce((a, b) => a + b, 0) / d.length;
    const ds = Math.sqrt(d.reduce((a, b) => a + (b - dm) * (b - dm), 0) / d.length);
    f.push(dm, ds, Math.hypot((ncy - cy) / ry, (ncx - cx) / rx));
  } else f.push(0, 0, 0);
  f.push(...granularity(tot, size, nuc, cyto), ...cytoplasmColours(od, tot, nuc, cyto));
  if (f.length !== MORPHOLOGY_LENGTH) throw new Error(`morphologyFeatures: ${f.length} values, expected ${MORPHOLOGY_LENGTH}`);
  for (let k = 0; k < MORPHOLOGY_LENGTH; k++) out[offset + k] = f[k]!;
  return out;
}

/**
 * Granules (eosinophil, basophil, neutrophil) and chromatin show as fine structure in the density: the mean
 * absolute band-pass response inside each region, relative to its mean density, and the share of its
 * pixels above 5 % of that mean; at two scales.
 */
function granularity(tot: Float64Array, size: number, nuc: Uint8Array, cyto: Uint8Array): number[] {
  const g = [0.7, 1.5, 3].map((sigma) => gaussianBlur(tot, size, size, sigma));
  const out: number[] = [];
  for (const mask of [nuc, cyto]) {
    let m = 0;
    let mean = 0;
    for (let i = 0; i < tot.length; i++) {
      if (!mask[i]) continue;
      m++;
      mean += tot[i]!;
    }
    mean = m > 3 ? mean / m : 1;
    for (const [a, b] of [[0, 1], [1, 2]] as const) {
      let abs = 0;
      let above = 0;
      for (let i = 0; i < tot.length; i++) {
        if (!mask[i]) continue;
        const d = g[a]![i]! - g[b]![i]!;
        abs += Math.abs(d);
        if (d > 0.05 * mean) above++;
      }
      out.push(m > 3 ? abs / m / mean : 0, m > 3 ? above / m : 0);
    }
  }
  return out;
}

/**
 * The cytoplasm's colours as a 3 x 3 histogram of (red share, blue share) of its optical density over
 * [0.1, 0.5] each (pixels outside left out; shares of all cytoplasm pixels), and the share of cytoplasm
 * pixels denser than half the nucleus (granules dark enough to hide it: basophils).
 */
function cytoplasmColours(od: Float64Array, tot: Float64Array, nuc: Uint8Array, cyto: Uint8Array): number[] {
  const hist = new Array<number>(9).fill(0);
  let m = 0;
  let nucSum = 0;
  let nucN = 0;
  let cytoMax = 0;
  for (let i = 0; i < tot.length; i++) {
    if (nuc[i]) {
      nucSum += tot[i]!;
      nucN++;
    }
    if (!cyto[i]) continue;
    m++;
    if (tot[i]! > cytoMax) cytoMax = tot[i]!;
    const s = tot[i]! + 1e-6;
    const bin = (v: number) => (v < 0.1 || v > 0.5 ? -1 : Math.min(2, Math.floor(((v - 0.1) / 0.4) * 3)));
    const r = bin(od[3 * i]! / s);
    const b = bin(od[3 * i + 2]! / s);
    if (r >= 0 && b >= 0) hist[3 * r + b]!++;
  }
  if (m <= 3) return new Array<number>(10).fill(0);
  const nucleusDensity = nucN > 3 ? nucSum / nucN : cytoMax;
  let dense = 0;
  for (let i = 0; i < tot.length; i++) if (cyto[i] && tot[i]! > 0.5 * nucleusDensity) dense++;
  return [...hist.map((h) => h / m), dense / m];
}

function maskWhere(n: number, pred: (i: number) => boolean): Uint8Array {
  const m = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (pred(i)) m[i] = 1;
  return m;
}

function count(m: Uint8Array): number {
  let k = 0;
  for (let i = 0; i < m.length; i++) k += m[i]!;
  return k;
}

/** Mean chromaticity and density of a region (a neutral reference when it is empty). */
function regionChroma(od: Float64Array, tot: Float64Array, mask: Uint8Array): { chroma: [number, number, number]; density: number } {
  const ch: [number, number, number] = [0, 0, 0];
  let s = 0;
  let m = 0;
  for (let i = 0; i < tot.length; i++) {
    if (!mask[i]) continue;
    const t = tot[i]! + 1e-6;
    for (let c = 0; c < 3; c++) ch[c] += od[3 * i + c]! / t;
    s += t;
    m++;
  }
  if (m === 0) return { chroma: [1 / 3, 1 / 3, 1 / 3], density: 1 };
  return { chroma: [ch[0] / m, ch[1] / m, ch[2] / m], density: s / m };
}

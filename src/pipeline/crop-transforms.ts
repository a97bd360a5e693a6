// Seeded transformations of a cell's crop and its box in the crop: what changes between labs (stain and colour,
// white balance, background colour, how much of the frame the cell fills, blur, JPEG quality, camera noise, stain
// strength). The evaluation's synthetic labs (src/evaluation/synthetic-labs.ts) and the morphology classifier's
// training-time augmentation (augment.ts) both apply them; they draw their parameters separately (other ranges,
// other seeds), so that an augmented classifier is not trained on the synthetic labs' own draws.
import { createRng, type Rng } from '../engine/classifier/rng.js';
import { decodeRgb, encodeJpeg } from '../imaging/image-codec.js';
import type { BoxInCrop } from '../imaging/cell-morphology.js';

/** A crop and its box: what the morphology features read. */
export interface LabCrop {
  /** size x size RGB, row-major. */
  crop: Uint8Array;
  size: number;
  box: BoxInCrop;
}

/** Per-channel mean and standard deviation of the optical density of a lab's crops (its stain and camera). */
export interface StainStats {
  mean: [number, number, number];
  sd: [number, number, number];
}

/** One step of a synthetic lab, with its parameters. */
export type LabTransform =
  | { kind: 'od_scale'; factors: [number, number, number] }
  | { kind: 'stain_transfer'; to: StainStats; strength: number }
  | { kind: 'colour_matrix'; m: number[] }
  | { kind: 'white_balance'; gains: [number, number, number] }
  | { kind: 'background'; colour: [number, number, number]; strength: number }
  | { kind: 'scale'; factor: number }
  | { kind: 'blur'; radius: number }
  | { kind: 'jpeg'; quality: number }
  | { kind: 'noise'; sd: number };


const OD_EPS = 1 / 255;
const od = (v: number) => -Math.log(Math.max(v, 1) / 255 + OD_EPS);
const fromOd = (d: number) => Math.min(255, Math.max(0, Math.round(255 * (Math.exp(-d) - OD_EPS))));

/** The stain statistics of crops: optical density per channel over their pixels darker than the background. */
export function stainStats(crops: readonly Uint8Array[]): StainStats {
  const s = [0, 0, 0];
  const s2 = [0, 0, 0];
  let n = 0;
  for (const c of crops) {
    for (let i = 0; i < c.length; i += 3) {
      // Background (near white) carries the light, not the stain.
      if (c[i]! + c[i + 1]! + c[i + 2]! > 3 * 215) continue;
      for (let k = 0; k < 3; k++) {
        const d = od(c[i + k]!);
        s[k]! += d;
        s2[k]! += d * d;
      }
      n++;
    }
  }
  const mean = s.map((v) => (n ? v / n : 0)) as [number, number, number];
  const sd = s2.map((v, k) => (n ? Math.sqrt(Math.max(1e-9, v / n - mean[k]! ** 2)) : 1)) as [number, number, number];
  return { mean, sd };
}

function transferStain(c: LabCrop, t: Extract<LabTransform, { kind: 'stain_transfer' }>): LabCrop {
  const from = stainStats([c.crop]);
  const out = new Uint8Array(c.crop.length);
  for (let i = 0; i < c.crop.length; i += 3) {
    const bg = c.crop[i]! + c.crop[i + 1]! + c.crop[i + 2]! > 3 * 215;
    for (let k = 0; k < 3; k++) {
      const v = c.crop[i + k]!;
      if (bg) {
        out[i + k] = v;
        continue;
      }
      const d = od(v);
      const moved = ((d - from.mean[k]!) / from.sd[k]!) * t.to.sd[k]! + t.to.mean[k]!;
      out[i + k] = fromOd(Math.max(0, d + t.strength * (moved - d)));
    }
  }
  return { ...c, crop: out };
}

function colourMatrix(c: LabCrop, m: readonly number[]): LabCrop {
  const out = new Uint8Array(c.crop.length);
  for (let i = 0; i < c.crop.length; i += 3) {
    const [r, g, b] = [c.crop[i]!, c.crop[i + 1]!, c.crop[i + 2]!];
    for (let k = 0; k < 3; k++) out[i + k] = Math.min(255, Math.max(0, Math.round(m[3 * k]! * r + m[3 * k + 1]! * g + m[3 * k + 2]! * b)));
  }
  return { ...c, crop: out };
}

function background(c: LabCrop, colour: readonly number[], strength: number): LabCrop {
  const out = new Uint8Array(c.crop);
  for (let i = 0; i < out.length; i += 3) {
    const lum = (out[i]! + out[i + 1]! + out[i + 2]!) / 3;
    // The brighter a pixel, the more of it is background light: blend it towards the colour.
    const w = strength * Math.min(1, Math.max(0, (lum - 170) / 60));
    for (let k = 0; k < 3; k++) out[i + k] = Math.round(out[i + k]! * (1 - w) + colour[k]! * w);
  }
  return { ...c, crop: out };
}

/** Zoom about the box's centre: factor > 1 makes the cell fill more of the frame (a tight crop), < 1 less. */
function scale(c: LabCrop, factor: number): LabCrop {
  const n = c.size;
  const cx = ((c.box[0] + c.box[2]) / 2) * n;
  const cy = ((c.box[1] + c.box[3]) / 2) * n;
  const out = new Uint8Array(c.crop.length);
  // Outside the source crop: its edge pixel (what a wider field would show of the background, roughly).
  const at = (x: number, y: number, k: number) => c.crop[(Math.min(n - 1, Math.max(0, y)) * n + Math.min(n - 1, Math.max(0, x))) * 3 + k]!;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const sx = cx + (x + 0.5 - n / 2) / factor - 0.5;
      const sy = cy + (y + 0.5 - n / 2) / factor - 0.5;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let k = 0; k < 3; k++) {
        const v = at(x0, y0, k) * (1 - fx) * (1 - fy) + at(x0 + 1, y0, k) * fx * (1 - fy) + at(x0, y0 + 1, k) * (1 - fx) * fy + at(x0 + 1, y0 + 1, k) * fx * fy;
        out[(y * n + x) * 3 + k] = Math.round(v);
      }
    }
  }
  const map = (v: number, centre: number) => Math.min(1, Math.max(0, (v * n - centre) * factor / n + 0.5));
  const box: BoxInCrop = [map(c.box[0], cx), map(c.box[1], cy), map(c.box[2], cx), map(c.box[3], cy)];
  return { crop: out, size: n, box };
}

function blur(c: LabCrop, radius: number): LabCrop {
  const n = c.size;
  const r = Math.max(1, Math.round(radius));
  const pass = (src: Uint8Array, dx: number, dy: number) => {
    const out = new Uint8Array(src.length);
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        for (let k = 0; k < 3; k++) {
          let s = 0;
          for (let t = -r; t <= r; t++) {
            const xx = Math.min(n - 1, Math.max(0, x + t * dx));
            const yy = Math.min(n - 1, Math.max(0, y + t * dy));
            s += src[(yy * n + xx) * 3 + k]!;
          }
          out[(y * n + x) * 3 + k] = Math.round(s / (2 * r + 1));
        }
      }
    }
    return out;
  };
  return { ...c, crop: pass(pass(c.crop, 1, 0), 0, 1) };
}

function noise(c: LabCrop, sd: number, rng: Rng): LabCrop {
  const out = new Uint8Array(c.crop.length);
  for (let i = 0; i < out.length; i++) {
    // Box-Muller.
    const g = Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    out[i] = Math.min(255, Math.max(0, Math.round(c.crop[i]! + sd * g)));
  }
  return { ...c, crop: out };
}

async function jpeg(c: LabCrop, quality: number): Promise<LabCrop> {
  const buf = await encodeJpeg(c.crop, c.size, c.size, quality);
  const d = await decodeRgb(buf);
  return { ...c, crop: new Uint8Array(d.data) };
}

/** Stain strength: each channel's optical density multiplied (a thicker or thinner smear, a longer or shorter stain). */
function odScale(c: LabCrop, factors: readonly number[]): LabCrop {
  const out = new Uint8Array(c.crop.length);
  for (let i = 0; i < c.crop.length; i += 3) for (let k = 0; k < 3; k++) out[i + k] = fromOd(od(c.crop[i + k]!) * factors[k]!);
  return { ...c, crop: out };
}

/** One cell through a lab's transforms; `seed` drives the noise. */
export async function applyLab(c: LabCrop, transforms: readonly LabTransform[], seed: number): Promise<LabCrop> {
  const rng = createRng(seed);
  let out = c;
  for (const t of transforms) {
    switch (t.kind) {
      case 'stain_transfer': out = transferStain(out, t); break;
      case 'colour_matrix': out = colourMatrix(out, t.m); break;
      case 'od_scale': out = odScale(out, t.factors); break;
      case 'white_balance': out = colourMatrix(out, [t.gains[0], 0, 0, 0, t.gains[1], 0, 0, 0, t.gains[2]]); break;
      case 'background': out = background(out, t.colour, t.strength); break;
      case 'scale': out = scale(out, t.factor); break;
      case 'blur': out = blur(out, t.radius); break;
      case 'jpeg': out = await jpeg(out, t.quality); break;
      case 'noise': out = noise(out, t.sd, rng); break;
    }
  }
  return out;
}

/** A stain that moves colour between channels (a rapid stain, another Giemsa): hue rotation mixed with the identity. */
export function hueShift(deg: number): number[] {
  const a = (deg * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  const k = 1 / 3;
  const q = Math.sqrt(k);
  // Rotation about the grey axis.
  return [
    c + (1 - c) * k, k * (1 - c) - q * s, k * (1 - c) + q * s,
    k * (1 - c) + q * s, c + k * (1 - c), k * (1 - c) - q * s,
    k * (1 - c) - q * s, k * (1 - c) + q * s, c + k * (1 - c),
  ];
}

/** A transform in words, for the report. */
export function describeTransform(t: LabTransform): string {
  switch (t.kind) {
    case 'stain_transfer': return `stain transfer (${t.strength.toFixed(2)})`;
    case 'od_scale': return `stain strength x(${t.factors.map((g) => g.toFixed(2)).join(', ')})`;
    case 'colour_matrix': return 'stain hue turned';
    case 'white_balance': return `white balance x(${t.gains.map((g) => g.toFixed(2)).join(', ')})`;
    case 'background': return `background (${t.colour.map(Math.round).join(', ')})`;
    case 'scale': return `scale x${t.factor.toFixed(2)}`;
    case 'blur': return `blur ${t.radius} px`;
    case 'jpeg': return `JPEG q${t.quality}`;
    case 'noise': return `noise sd ${t.sd.toFixed(1)}`;
  }
}

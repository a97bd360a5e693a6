// Synthetic labs made from held-out Acevedo-20 crops (issue 17): seeded transformations of what changes between
// labs (stain and colour, white balance, background colour, how much of the frame the cell fills, blur, JPEG
// quality, camera noise), applied to a cell's 128 px crop and its box in the crop. They are crop-level stand-ins
// for another lab: the detector is not re-run on them (its boxes are moved with the crop), which is said
// wherever their figures are reported (docs/unseen-labs.md).
import { createRng, mixSeed, type Rng } from '../engine/classifier/rng.js';
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
  | { kind: 'stain_transfer'; to: StainStats; strength: number }
  | { kind: 'colour_matrix'; m: number[] }
  | { kind: 'white_balance'; gains: [number, number, number] }
  | { kind: 'background'; colour: [number, number, number]; strength: number }
  | { kind: 'scale'; factor: number }
  | { kind: 'blur'; radius: number }
  | { kind: 'jpeg'; quality: number }
  | { kind: 'noise'; sd: number };

export interface SyntheticLab {
  name: string;
  /** What it imitates, in words (the report's table). */
  description: string;
  transforms: LabTransform[];
  /** Class shares of its cells (a blood count, or a lopsided one). */
  mix: Record<string, number>;
}

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

/** One cell through a lab's transforms; `seed` drives the noise. */
export async function applyLab(c: LabCrop, transforms: readonly LabTransform[], seed: number): Promise<LabCrop> {
  const rng = createRng(seed);
  let out = c;
  for (const t of transforms) {
    switch (t.kind) {
      case 'stain_transfer': out = transferStain(out, t); break;
      case 'colour_matrix': out = colourMatrix(out, t.m); break;
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
function hueShift(deg: number): number[] {
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

const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng.next();

/** Blood-count-like class mixes the labs draw their cells under (the third lab's of issue 17 among them). */
const MIXES: Array<Record<string, number>> = [
  { neutrophil: 0.59, lymphocyte: 0.18, monocyte: 0.16, eosinophil: 0.07, basophil: 0 },
  { neutrophil: 0.6, lymphocyte: 0.3, monocyte: 0.06, eosinophil: 0.03, basophil: 0.01 },
  { neutrophil: 0.4, lymphocyte: 0.45, monocyte: 0.1, eosinophil: 0.04, basophil: 0.01 },
  { neutrophil: 0.75, lymphocyte: 0.15, monocyte: 0.06, eosinophil: 0.03, basophil: 0.01 },
  { neutrophil: 0.3, lymphocyte: 0.3, monocyte: 0.15, eosinophil: 0.2, basophil: 0.05 },
];

/**
 * The synthetic labs of one seed: a few fixed recipes (each one kind of shift, then the third lab's combination)
 * with seeded strengths, then seeded random combinations. `stains`: other labs' stain statistics to transfer.
 */
export function syntheticLabs(seed: number, stains: Record<string, StainStats>, randomLabs = 3): SyntheticLab[] {
  const rng = createRng(mixSeed(seed, 0x5e7));
  const labs: SyntheticLab[] = [];
  const mix = (i: number) => MIXES[i % MIXES.length]!;
  const stainNames = Object.keys(stains);
  const warm = (): [number, number, number] => [uniform(rng, 1.0, 1.08), uniform(rng, 0.97, 1.02), uniform(rng, 0.78, 0.9)];
  labs.push({ name: 'syn-yellow', description: 'yellowish background and warm white balance', mix: mix(1), transforms: [
    { kind: 'white_balance', gains: warm() }, { kind: 'background', colour: [235, 225, 170], strength: uniform(rng, 0.6, 0.9) }] });
  labs.push({ name: 'syn-rapid-stain', description: 'another stain (hue turned) and camera noise', mix: mix(2), transforms: [
    { kind: 'colour_matrix', m: hueShift(uniform(rng, 12, 22) * (rng.next() < 0.5 ? -1 : 1)) }, { kind: 'noise', sd: uniform(rng, 3, 6) }] });
  labs.push({ name: 'syn-tight', description: 'tight crops: the cell fills the frame', mix: mix(3), transforms: [{ kind: 'scale', factor: uniform(rng, 1.35, 1.6) }] });
  labs.push({ name: 'syn-low-quality', description: 'blur and strong JPEG compression', mix: mix(1), transforms: [
    { kind: 'blur', radius: 1 }, { kind: 'jpeg', quality: Math.round(uniform(rng, 15, 30)) }] });
  for (const [i, name] of stainNames.entries()) {
    labs.push({ name: `syn-stain-${name}`, description: `stain and colour transferred from ${name}`, mix: mix(2 + i), transforms: [
      { kind: 'stain_transfer', to: stains[name]!, strength: uniform(rng, 0.7, 1) }] });
  }
  labs.push({ name: 'syn-third-lab', description: "issue 17's third lab as described: tight crops, yellowish background, a rapid stain, another camera (JPEG), its class mix", mix: mix(0), transforms: [
    { kind: 'scale', factor: uniform(rng, 1.3, 1.5) }, { kind: 'colour_matrix', m: hueShift(uniform(rng, 10, 18)) },
    { kind: 'white_balance', gains: warm() }, { kind: 'background', colour: [240, 232, 185], strength: 0.7 }, { kind: 'jpeg', quality: 50 }] });
  for (let r = 0; r < randomLabs; r++) {
    const t: LabTransform[] = [];
    if (stainNames.length && rng.next() < 0.5) t.push({ kind: 'stain_transfer', to: stains[stainNames[rng.nextInt(stainNames.length)]!]!, strength: uniform(rng, 0.5, 1) });
    if (rng.next() < 0.6) t.push({ kind: 'colour_matrix', m: hueShift(uniform(rng, -20, 20)) });
    if (rng.next() < 0.6) t.push({ kind: 'white_balance', gains: [uniform(rng, 0.85, 1.1), uniform(rng, 0.9, 1.08), uniform(rng, 0.8, 1.12)] });
    if (rng.next() < 0.5) t.push({ kind: 'background', colour: [uniform(rng, 210, 250), uniform(rng, 210, 250), uniform(rng, 160, 250)], strength: uniform(rng, 0.3, 0.9) });
    if (rng.next() < 0.6) t.push({ kind: 'scale', factor: uniform(rng, 0.8, 1.55) });
    if (rng.next() < 0.4) t.push({ kind: 'blur', radius: 1 });
    if (rng.next() < 0.5) t.push({ kind: 'jpeg', quality: Math.round(uniform(rng, 20, 80)) });
    if (rng.next() < 0.5) t.push({ kind: 'noise', sd: uniform(rng, 2, 8) });
    if (t.length === 0) t.push({ kind: 'scale', factor: uniform(rng, 1.2, 1.5) });
    labs.push({ name: `syn-random-${r + 1}`, description: `seeded random combination: ${t.map(describeTransform).join(', ')}`, mix: mix(r), transforms: t });
  }
  return labs;
}

/** A transform in words, for the report. */
export function describeTransform(t: LabTransform): string {
  switch (t.kind) {
    case 'stain_transfer': return `stain transfer (${t.strength.toFixed(2)})`;
    case 'colour_matrix': return 'stain hue turned';
    case 'white_balance': return `white balance x(${t.gains.map((g) => g.toFixed(2)).join(', ')})`;
    case 'background': return `background (${t.colour.map(Math.round).join(', ')})`;
    case 'scale': return `scale x${t.factor.toFixed(2)}`;
    case 'blur': return `blur ${t.radius} px`;
    case 'jpeg': return `JPEG q${t.quality}`;
    case 'noise': return `noise sd ${t.sd.toFixed(1)}`;
  }
}

/**
 * Which of the given cells (indices into `labels`) a lab takes: per class, round(size x share) cells drawn
 * without replacement (seeded), as many as there are when a class runs short.
 */
export function drawLabCells(labels: readonly string[], pool: readonly number[], mix: Record<string, number>, size: number, seed: number): number[] {
  const rng = createRng(seed);
  const out: number[] = [];
  for (const [cls, share] of Object.entries(mix)) {
    const have = pool.filter((i) => labels[i] === cls);
    for (let i = have.length - 1; i > 0; i--) {
      const j = rng.nextInt(i + 1);
      [have[i], have[j]] = [have[j]!, have[i]!];
    }
    out.push(...have.slice(0, Math.round(size * share)));
  }
  return out.sort((a, b) => a - b);
}

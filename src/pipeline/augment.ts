// Training-time augmentation of a morphology classifier (domain randomisation, issue 17): each labelled cell's
// crop is also measured under a few seeded random "labs" (stain hue and strength, white balance, background
// colour, scale, blur, JPEG, noise: crop-transforms.ts), and those rows join the forest's training split with
// the cell's class, so the forest learns which of its values a lab can move. The draws are the augmentation's
// own (its ranges and seeds, not the evaluation's synthetic labs'), but the family of transforms is the same:
// the synthetic labs of docs/unseen-labs.md are therefore an optimistic check of it, the real labs the honest one.
import { createRng, mixSeed, type Rng } from '../engine/classifier/rng.js';
import { applyLab, hueShift, type LabCrop, type LabTransform } from './crop-transforms.js';

const AUGMENT_SALT = 0xa06;

const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng.next();

/** One random lab of the augmentation (at least one transform). */
export function drawAugmentation(rng: Rng): LabTransform[] {
  const t: LabTransform[] = [];
  if (rng.next() < 0.5) t.push({ kind: 'od_scale', factors: [uniform(rng, 0.75, 1.35), uniform(rng, 0.75, 1.35), uniform(rng, 0.75, 1.35)] });
  if (rng.next() < 0.6) t.push({ kind: 'colour_matrix', m: hueShift(uniform(rng, -25, 25)) });
  if (rng.next() < 0.6) t.push({ kind: 'white_balance', gains: [uniform(rng, 0.85, 1.12), uniform(rng, 0.88, 1.1), uniform(rng, 0.78, 1.12)] });
  if (rng.next() < 0.4) t.push({ kind: 'background', colour: [uniform(rng, 205, 252), uniform(rng, 205, 252), uniform(rng, 160, 252)], strength: uniform(rng, 0.3, 0.9) });
  if (rng.next() < 0.6) t.push({ kind: 'scale', factor: uniform(rng, 0.8, 1.65) });
  if (rng.next() < 0.25) t.push({ kind: 'blur', radius: 1 });
  if (rng.next() < 0.3) t.push({ kind: 'jpeg', quality: Math.round(uniform(rng, 20, 85)) });
  if (rng.next() < 0.4) t.push({ kind: 'noise', sd: uniform(rng, 1.5, 7) });
  if (t.length === 0) t.push({ kind: 'scale', factor: uniform(rng, 1.15, 1.6) });
  return t;
}

/**
 * `copies` augmented versions of one cell's crop: copy j of cell `cellSeed` is the same whoever asks (the draw is
 * seeded by the run's seed, the cell and j), so a cell's first copies do not change when more are asked for.
 */
export async function augmentCrop(c: LabCrop, copies: number, seed: number, cellSeed: number): Promise<LabCrop[]> {
  const out: LabCrop[] = [];
  for (let j = 0; j < copies; j++) {
    const s = mixSeed(mixSeed(mixSeed(seed, AUGMENT_SALT), cellSeed), j);
    out.push(await applyLab(c, drawAugmentation(createRng(s)), mixSeed(s, 1)));
  }
  return out;
}

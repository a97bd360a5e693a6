// Synthetic labs made from held-out Acevedo-20 crops (issue 17): seeded transformations of what changes between
// labs (stain and colour, white balance, background colour, how much of the frame the cell fills, blur, JPEG
// quality, camera noise), applied to a cell's 128 px crop and its box in the crop. They are crop-level stand-ins
// for another lab: the detector is not re-run on them (its boxes are moved with the crop), which is said
// wherever their figures are reported (docs/unseen-labs.md).
import { createRng, mixSeed, type Rng } from '../engine/classifier/rng.js';
import { describeTransform, hueShift, type LabTransform, type StainStats } from '../pipeline/crop-transforms.js';

// The transforms themselves live in the pipeline (the classifier's training-time augmentation applies them too).
export { applyLab, describeTransform, stainStats, type LabCrop, type LabTransform, type StainStats } from '../pipeline/crop-transforms.js';

export interface SyntheticLab {
  name: string;
  /** What it imitates, in words (the report's table). */
  description: string;
  transforms: LabTransform[];
  /** Class shares of its cells (a blood count, or a lopsided one). */
  mix: Record<string, number>;
}

export const uniform = (rng: Rng, lo: number, hi: number) => lo + (hi - lo) * rng.next();

/** Issue 17's third lab's class mix (its 300 labelled cells). */
export const THIRD_LAB_MIX: Readonly<Record<string, number>> = { neutrophil: 0.59, lymphocyte: 0.18, monocyte: 0.16, eosinophil: 0.07, basophil: 0 };

/** Blood-count-like class mixes the labs draw their cells under (the third lab's of issue 17 among them). */
const MIXES: Array<Readonly<Record<string, number>>> = [
  THIRD_LAB_MIX,
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

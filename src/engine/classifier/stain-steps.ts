// The stain steps a morphology classifier can take over a lab's cells before its forest (issue 17): each moves
// the lab's stain-dependent values by one offset per column, onto medians of the training cells. They differ in
// which medians, and in how much they trust an estimate made from the model's own predictions:
//   none        values as they are
//   centred     onto the training cells' own medians (the lab's median taken out as a whole; trusts nothing)
//   adaptive    issue 5's rule: only past a shift of one within-class SD, onto the training medians re-weighted
//               to the lab's class mix as estimated by the forests (can collapse: docs/self-check.md)
//   prior_mix   as adaptive, but the estimate is shrunk towards a normal blood count and capped at generous
//               blood-count bounds (blood-count.ts), so one wrong estimate cannot put a lab onto one class
//   ensemble    the class probabilities of prior_mix and centred averaged: no single estimate decides (the values
//               as they are, once a third member, left: a lab's stain shift read as it is pulled every shifted lab down)
// Measured by worst lab in docs/unseen-labs.md; the default (DEFAULT_STAIN_STEP) is the winner there.
import { applyOffsets, columnMedians, estimateClassMix, mixMedians, stainShift, STAIN_SHIFT_LIMIT, adaptStain, type RowsProba, type StainReference } from './stain-shift.js';
import { bloodPrior, NORMAL_DIFFERENTIAL } from './blood-count.js';

export const STAIN_STEPS = ['none', 'centred', 'adaptive', 'prior_mix', 'ensemble'] as const;
export type StainStep = (typeof STAIN_STEPS)[number];

/**
 * What a classify job does about a lab's stain when not told otherwise: what docs/unseen-labs.md's rule picks, read
 * over forest seeds (its section "The rule over forest seeds"; the page says so loudly when the two differ).
 */
export const DEFAULT_STAIN_STEP: StainStep = 'ensemble';

/**
 * The members whose probabilities the ensemble averages; the first one's moved values are the job's (novelty, analyze).
 * Chosen by the worst selection lab over forest seeds 0-3 (docs/unseen-labs.md; 2026-12-06, session 4): prior_mix and
 * centred 73.9-75.4 %, with none as a third member 66.9-70.1 %, prior_mix doubled beside centred and none 72.1-75.1 %.
 */
export const ENSEMBLE_MEMBERS: readonly Exclude<StainStep, 'ensemble'>[] = ['prior_mix', 'centred'];

/** prior_mix: weight of the blood-count prior, in cells (a Dirichlet prior's pseudo-counts, added to the EM's counts). */
export const PRIOR_STRENGTH = 100;

/** prior_mix: no class's estimated share goes above this multiple of its normal upper bound (nor above 0.95). */
const CAP_FACTOR = 3;

/** One step's move: per stain column what to add, and what it was based on. */
export interface StainMove {
  step: Exclude<StainStep, 'ensemble'>;
  /** Median shift of the lab against the training cells, in within-class SDs. */
  statistic: number;
  moved: boolean;
  offsets: Map<number, number>;
  /** The class mix the target medians were weighted to (classes order), when one was used. */
  mix: number[] | null;
  /** adaptive and prior_mix: the forests' raw estimate before any prior (what collapses, when it does). */
  rawMix: number[] | null;
}

export type MixClassifiers = { shapeProba: RowsProba; proba: RowsProba };

/**
 * A lab's class mix by EM on the classifier's probabilities (Saerens et al. 2002, as estimateClassMix) with a
 * Dirichlet prior of `strength` cells at `prior`: the EM's counts plus the prior's pseudo-counts each round.
 */
export function estimateClassMixWithPrior(proba: ArrayLike<number>, trainPrior: readonly number[], prior: readonly number[], strength: number, iterations = 200): number[] {
  const k = trainPrior.length;
  const rows = proba.length / k;
  if (!Number.isInteger(rows) || rows === 0) throw new Error(`estimateClassMixWithPrior: ${proba.length} probabilities for ${k} classes`);
  let mix = [...prior];
  for (let it = 0; it < iterations; it++) {
    const next = prior.map((p) => strength * p);
    for (let r = 0; r < rows; r++) {
      const w = trainPrior.map((p, c) => (p > 0 ? (proba[r * k + c]! * mix[c]!) / p : 0));
      const z = w.reduce((a, b) => a + b, 0);
      w.forEach((v, c) => (next[c]! += z > 0 ? v / z : trainPrior[c]!));
    }
    const total = rows + strength;
    const change = next.reduce((a, v, c) => Math.max(a, Math.abs(v / total - mix[c]!)), 0);
    mix = next.map((v) => v / total);
    if (change < 1e-9) break;
  }
  return mix;
}

/** Caps each share at CAP_FACTOR x its normal upper bound (0.95 at most) and renormalises (iterating, so the caps hold). */
export function capToBloodCount(classes: readonly string[], mix: readonly number[]): number[] {
  const cap = classes.map((c) => Math.min(0.95, CAP_FACTOR * (NORMAL_DIFFERENTIAL[c]?.[1] ?? 0.05)));
  let m = [...mix];
  for (let it = 0; it < 10; it++) {
    const capped = m.map((v, k) => Math.min(v, cap[k]!));
    const spare = 1 - capped.reduce((a, b) => a + b, 0);
    const room = capped.map((v, k) => (v < cap[k]! ? v : 0));
    const roomTotal = room.reduce((a, b) => a + b, 0);
    if (spare <= 1e-12 || roomTotal <= 0) return capped.map((v) => v / capped.reduce((a, b) => a + b, 0));
    m = capped.map((v, k) => (room[k]! > 0 ? v + (spare * room[k]!) / roomTotal : v));
  }
  return m;
}

/** Per reference column, what moves the lab's median onto `target`. */
function offsetsOnto(ref: StainReference, labMedians: readonly number[], target: readonly number[]): Map<number, number> {
  return new Map(ref.columns.map((c, i) => [c, target[i]! - labMedians[i]!]));
}

function labMediansOf(rows: readonly ArrayLike<number>[], ref: StainReference): number[] {
  const m = columnMedians(rows, ref.columns);
  return ref.columns.map((c) => m.get(c)!);
}

/** The move of one (non-ensemble) step over a lab's rows. `limit`: the shift past which adaptive/prior_mix move. */
export function stainMove(
  step: Exclude<StainStep, 'ensemble'>,
  rows: readonly ArrayLike<number>[],
  ref: StainReference,
  classifiers: MixClassifiers | null,
  limit = STAIN_SHIFT_LIMIT,
): StainMove {
  const measured = stainShift(rows, ref, Infinity);
  const base: StainMove = { step, statistic: measured.statistic, moved: false, offsets: new Map(), mix: null, rawMix: null };
  if (rows.length === 0 || step === 'none') return base;
  if (step === 'centred') {
    const c = stainShift(rows, ref, -1);
    return { ...base, moved: true, offsets: c.offsets };
  }
  if (step === 'adaptive') {
    const a = adaptStain(rows, ref, classifiers, limit);
    return { ...base, moved: a.centre, offsets: a.offsets, mix: a.mix, rawMix: a.mix };
  }
  // prior_mix
  if (measured.statistic <= limit) return base;
  const lab = labMediansOf(rows, ref);
  const mixInfo = ref.mix;
  if (!mixInfo || !classifiers) return { ...base, moved: true, offsets: offsetsOnto(ref, lab, ref.medians) };
  const prior = bloodPrior(mixInfo.classes);
  const estimate = (proba: ArrayLike<number>) => capToBloodCount(mixInfo.classes, estimateClassMixWithPrior(proba, mixInfo.prior, prior, PRIOR_STRENGTH));
  const first = estimate(classifiers.shapeProba(rows));
  const firstOffsets = offsetsOnto(ref, lab, mixMedians(ref, first));
  const moved = rows.map((r) => {
    const v = Float64Array.from(r);
    applyOffsets(v, firstOffsets);
    return v;
  });
  const p2 = classifiers.proba(moved);
  const rawMix = estimateClassMix(p2, mixInfo.prior);
  const mix = estimate(p2);
  return { ...base, moved: true, offsets: offsetsOnto(ref, lab, mixMedians(ref, mix)), mix, rawMix };
}

/** Each row with the offsets added (copies). */
export function movedRows(rows: readonly ArrayLike<number>[], offsets: ReadonlyMap<number, number>): Float64Array[] {
  return rows.map((r) => {
    const v = Float64Array.from(r);
    applyOffsets(v, offsets);
    return v;
  });
}

/** A classify job's stainAdaptation: auto (the default step), off (none), always (adaptive at any shift), or a step by name. */
export type StainAdaptation = 'auto' | 'off' | 'always' | Exclude<StainStep, 'none'>;
export const STAIN_ADAPTATIONS: readonly StainAdaptation[] = ['auto', 'off', 'always', 'centred', 'adaptive', 'prior_mix', 'ensemble'];

/** The step and shift limit a job's stainAdaptation asks for. */
export function stainStepOf(mode: StainAdaptation | undefined): { step: StainStep; limit: number } {
  switch (mode ?? 'auto') {
    case 'auto': return { step: DEFAULT_STAIN_STEP, limit: STAIN_SHIFT_LIMIT };
    case 'off': return { step: 'none', limit: STAIN_SHIFT_LIMIT };
    case 'always': return { step: 'adaptive', limit: -1 };
    default: return { step: mode as StainStep, limit: STAIN_SHIFT_LIMIT };
  }
}

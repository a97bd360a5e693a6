// Whether a lab's stain differs from the source's by more than its class mix can explain (issue 5).
//
// Centring every lab's stain-dependent morphology values on the lab's own median (morphology_lab_centred)
// removes a stain shift, but it also removes the part of the median that comes from the lab's class mix: a
// lab with many lymphocytes has bluer, denser medians than the balanced source for that reason alone, and
// centring then pushes its lymphocytes towards the monocytes. Measured in docs/results.md: centring lifts
// BCCD (weak, blurred stain) from 32 to 63 % and drops Zheng DS2 (a CellaVision stain like the source's,
// 37 % lymphocytes) from 69 to 55 %.
//
// The adaptive rule centres a lab only when its shift is large in the units of the source's own class
// spread: the median, over the stain-dependent columns, of |lab median - source median| divided by the
// source's pooled within-class standard deviation. Class mixes of the source's own cells alone
// (classMixShifts: 20 Dirichlet(1) mixes a seed, printed in every evaluation report) move it by 0.06-1.15,
// median about 0.2, over 5 seeds on Acevedo-20 (docs/results-seeds.md); BCCD's is 1.63 and Zheng DS2's 0.35.
// The limit of 1 (one within-class standard deviation) lies between the two labs, and above all but the most
// lopsided mixes (one draw in 100 exceeded it). It was chosen having seen these two labs: a heuristic, not a
// law tested on a third lab.

import { percentile } from '../imaging/plane-filters.js';

/** Centre a lab when its median stain shift exceeds this many within-class standard deviations of the source. */
export const STAIN_SHIFT_LIMIT = 1;

/**
 * What a lab's stain is measured against, per stain-dependent column: the source's median over all its cells
 * and its within-class standard deviation over its labelled training cells. The evaluation builds one per
 * run; a morphology classifier stores one in its file (classifier-artifact.ts).
 */
export interface StainReference {
  columns: number[];
  medians: number[];
  spread: number[];
}

export interface StainShift {
  /** Median over the columns of |lab median - source median| / the source's within-class standard deviation. */
  statistic: number;
  /** statistic > the limit: the lab's values are moved so that its medians become the source's. */
  centre: boolean;
  /** Per column: what to add to the lab's values (lab median -> source median); empty when not centred. */
  offsets: Map<number, number>;
}

/** The median of each of the given columns over the rows (0 for no rows). */
export function columnMedians(rows: readonly ArrayLike<number>[], columns: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const c of columns) out.set(c, rows.length === 0 ? 0 : percentile(Float64Array.from(rows, (r) => r[c]!), 50));
  return out;
}

/** Indices of the rows of each label, in first-seen label order. */
function indicesByLabel(labels: readonly string[]): number[][] {
  const byLabel = new Map<string, number[]>();
  labels.forEach((l, i) => (byLabel.get(l) ?? byLabel.set(l, []).get(l)!).push(i));
  return [...byLabel.values()];
}

/**
 * Per column, the pooled within-class standard deviation of the labelled source rows: the square root of the
 * mean over classes of each class's variance (classes weigh alike, whatever their counts).
 */
export function withinClassSd(rows: readonly ArrayLike<number>[], labels: readonly string[], columns: readonly number[]): Map<number, number> {
  if (rows.length !== labels.length) throw new Error(`withinClassSd: ${rows.length} rows, ${labels.length} labels`);
  const groups = indicesByLabel(labels);
  const out = new Map<number, number>();
  for (const c of columns) {
    let sum = 0;
    let k = 0;
    for (const idx of groups) {
      if (idx.length < 2) continue;
      let m = 0;
      for (const i of idx) m += rows[i]![c]!;
      m /= idx.length;
      let v = 0;
      for (const i of idx) v += (rows[i]![c]! - m) ** 2;
      sum += v / (idx.length - 1);
      k++;
    }
    out.set(c, k ? Math.sqrt(sum / k) : 0);
  }
  return out;
}

/** The reference of a source: medians over `allRows` (labels unused), spread over its labelled training rows. */
export function stainReference(
  allRows: readonly ArrayLike<number>[],
  trainRows: readonly ArrayLike<number>[],
  trainLabels: readonly string[],
  columns: readonly number[],
): StainReference {
  const med = columnMedians(allRows, columns);
  const sd = withinClassSd(trainRows, trainLabels, columns);
  return { columns: [...columns], medians: columns.map((c) => med.get(c)!), spread: columns.map((c) => sd.get(c)!) };
}

/** The lab's stain shift against the reference; `labRows`: every cell of the lab (labels unused). */
export function stainShift(labRows: readonly ArrayLike<number>[], ref: StainReference, limit = STAIN_SHIFT_LIMIT): StainShift {
  if (labRows.length === 0) return { statistic: 0, centre: false, offsets: new Map() };
  const lab = columnMedians(labRows, ref.columns);
  // A column without spread in the source (constant) cannot be measured in its units: left out.
  const ratios = ref.columns.flatMap((c, i) => (ref.spread[i]! > 0 ? [Math.abs(lab.get(c)! - ref.medians[i]!) / ref.spread[i]!] : []));
  const statistic = ratios.length === 0 ? 0 : percentile(ratios, 50);
  const centre = statistic > limit;
  const offsets = new Map<number, number>();
  if (centre) ref.columns.forEach((c, i) => offsets.set(c, ref.medians[i]! - lab.get(c)!));
  return { statistic, centre, offsets };
}

/**
 * What class mixes alone do to the statistic: `draws` samples of the source's own labelled rows, each of
 * `size` cells drawn (with replacement) under class proportions uniform on the simplex (a Dirichlet(1) mix),
 * each measured against the source's reference. The evaluation prints their range beside each lab's
 * statistic, so that the limit's margin is visible in every report.
 */
export function classMixShifts(
  rows: readonly ArrayLike<number>[],
  labels: readonly string[],
  ref: StainReference,
  opts: { draws?: number; size?: number; rng: { next(): number; nextInt(n: number): number } },
): number[] {
  const draws = opts.draws ?? 20;
  const size = opts.size ?? 300;
  const groups = indicesByLabel(labels);
  if (groups.length === 0) return [];
  const out: number[] = [];
  for (let d = 0; d < draws; d++) {
    // Dirichlet(1): normalised exponentials.
    const w = groups.map(() => -Math.log(1 - opts.rng.next()));
    const total = w.reduce((a, b) => a + b, 0);
    const sample: ArrayLike<number>[] = [];
    groups.forEach((g, k) => {
      const n = Math.round((size * w[k]!) / total);
      for (let i = 0; i < n; i++) sample.push(rows[g[opts.rng.nextInt(g.length)]!]!);
    });
    out.push(stainShift(sample, ref).statistic);
  }
  return out;
}

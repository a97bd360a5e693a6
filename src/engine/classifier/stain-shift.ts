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
// (classMixShifts: 20 Dirichlet(1) mixes a seed, printed in every evaluation report) move it by 0.05-1.11,
// median about 0.2, over 5 seeds on Acevedo-20 (docs/results-seeds.md); BCCD's is 1.68-1.70 and Zheng DS2's 0.35.
// The limit of 1 (one within-class standard deviation) lies between the two labs, and above all but the most
// lopsided mixes (of the 100 draws, those of one seed reached 1.11, the other four seeds' stayed under 0.96; the
// page gives each seed's range, not how many draws passed 1). It was chosen having seen these two labs: a
// heuristic, not a law tested on a third lab.
//
// Once a lab is to be moved, the source medians it is moved onto are those of the source re-weighted to the
// lab's own class mix, estimated without its labels (adaptStain): first from the stain-free (shape) columns
// alone, by a forest that never sees colour, then once more from every column after that first move. Moving
// BCCD (59 % neutrophils) onto the balanced source's medians made its neutrophils look like eosinophils; with
// the estimated mix, BCCD rose from 63.8 to 76.1 % over 5 seeds (docs/results-seeds.md: morphology_lab_centred, morphology_adaptive), though the estimate
// itself overshoots (86-93 % neutrophils). Zheng DS2 is not moved; even moved under its labelled mix it
// would not gain (Python on the dumped values, training/classifier-exploration).

import { percentile } from '../../imaging/plane-filters.js';

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
  /** Per class, the distribution of each column: what a median under another class mix is computed from. */
  mix?: StainMix;
}

/** Quantiles kept per class and column (levels 0, 1/32, ..., 1). */
export const MIX_QUANTILES = 33;

export interface StainMix {
  /** Class names, in the order of the classifier's (forest's) class indices. */
  classes: string[];
  /** Each class's share of the labelled training rows. */
  prior: number[];
  /** quantiles[k][j]: MIX_QUANTILES evenly spaced quantiles of class k's values in the reference's column j. */
  quantiles: number[][][];
}

export interface StainShift {
  /** Median over the columns of |lab median - source median| / the source's within-class standard deviation. */
  statistic: number;
  /** statistic > the limit: the lab's values are moved so that its medians become the source's. */
  centre: boolean;
  /** Per column: what to add to the lab's values (lab median -> source median); empty when not centred. */
  offsets: Map<number, number>;
  /** The lab's estimated class mix (in StainMix.classes order) the source medians were weighted to; null: unweighted. */
  mix: number[] | null;
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

/**
 * The reference of a source: medians over `allRows` (labels unused), spread over its labelled training rows,
 * and, given the classifier's class names, each class's quantiles of each column over those rows.
 */
export function stainReference(
  allRows: readonly ArrayLike<number>[],
  trainRows: readonly ArrayLike<number>[],
  trainLabels: readonly string[],
  columns: readonly number[],
  classes?: readonly string[],
): StainReference {
  const med = columnMedians(allRows, columns);
  const sd = withinClassSd(trainRows, trainLabels, columns);
  const ref: StainReference = { columns: [...columns], medians: columns.map((c) => med.get(c)!), spread: columns.map((c) => sd.get(c)!) };
  if (classes) ref.mix = stainMix(trainRows, trainLabels, columns, classes);
  return ref;
}

function stainMix(rows: readonly ArrayLike<number>[], labels: readonly string[], columns: readonly number[], classes: readonly string[]): StainMix {
  const idx = classes.map((k) => labels.flatMap((l, i) => (l === k ? [i] : [])));
  const counted = idx.reduce((a, g) => a + g.length, 0);
  if (counted === 0) throw new Error(`stainReference: no training row is labelled with any of ${classes.join(', ')}`);
  const levels = Array.from({ length: MIX_QUANTILES }, (_, q) => (100 * q) / (MIX_QUANTILES - 1));
  return {
    classes: [...classes],
    prior: idx.map((g) => g.length / counted),
    // A class without training rows gets no distribution (and, having no prior, never weighs).
    quantiles: idx.map((g) => (g.length ? columns.map((c) => levels.map((lv) => percentile(Float64Array.from(g, (i) => rows[i]![c]!), lv))) : [])),
  };
}

/** Share of a class's values at or below v, from its quantiles (linear between them). */
function quantileCdf(q: readonly number[], v: number): number {
  if (v < q[0]!) return 0;
  if (v >= q.at(-1)!) return 1;
  let i = 0;
  while (q[i + 1]! <= v) i++;
  return (i + (v - q[i]!) / (q[i + 1]! - q[i]!)) / (q.length - 1);
}

/** Per reference column, the median of the source re-weighted to the class mix `mix` (StainMix.classes order). */
export function mixMedians(ref: StainReference, mix: readonly number[]): number[] {
  const m = ref.mix;
  if (!m) throw new Error('mixMedians: the stain reference has no class distributions');
  if (mix.length !== m.classes.length) throw new Error(`mixMedians: ${mix.length} class shares for ${m.classes.length} classes`);
  const used = m.classes.flatMap((_, k) => (mix[k]! > 0 && m.quantiles[k]!.length ? [k] : []));
  const total = used.reduce((a, k) => a + mix[k]!, 0);
  if (total <= 0) throw new Error('mixMedians: the class mix gives no weight to a class with training rows');
  return ref.columns.map((_, j) => {
    // Bisection on the mixture's distribution function, which rises from 0 to 1 between these ends.
    let lo = Math.min(...used.map((k) => m.quantiles[k]![j]![0]!));
    let hi = Math.max(...used.map((k) => m.quantiles[k]![j]!.at(-1)!));
    for (let it = 0; it < 60 && hi - lo > 1e-12 * (1 + Math.abs(hi)); it++) {
      const mid = (lo + hi) / 2;
      const f = used.reduce((a, k) => a + mix[k]! * quantileCdf(m.quantiles[k]![j]!, mid), 0) / total;
      if (f < 0.5) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  });
}

/**
 * A lab's class mix from a classifier's probabilities on its cells (rows x prior.length, row-major), corrected
 * for the training prior the classifier learnt (Saerens, Latinne & Decaestecker 2002: EM on the priors).
 */
export function estimateClassMix(proba: ArrayLike<number>, prior: readonly number[], iterations = 200): number[] {
  const k = prior.length;
  const rows = proba.length / k;
  if (!Number.isInteger(rows) || rows === 0) throw new Error(`estimateClassMix: ${proba.length} probabilities for ${k} classes`);
  let mix = [...prior];
  for (let it = 0; it < iterations; it++) {
    const next = new Array<number>(k).fill(0);
    for (let r = 0; r < rows; r++) {
      let z = 0;
      const w = prior.map((p, c) => (p > 0 ? (proba[r * k + c]! * mix[c]!) / p : 0));
      for (const v of w) z += v;
      // A cell the classifier gives no probability under the current mix counts under the prior instead.
      w.forEach((v, c) => (next[c]! += z > 0 ? v / z : prior[c]!));
    }
    const change = next.reduce((a, v, c) => Math.max(a, Math.abs(v / rows - mix[c]!)), 0);
    mix = next.map((v) => v / rows);
    if (change < 1e-9) break;
  }
  return mix;
}

/** The lab's stain shift against the reference; `labRows`: every cell of the lab (labels unused). */
export function stainShift(labRows: readonly ArrayLike<number>[], ref: StainReference, limit = STAIN_SHIFT_LIMIT): StainShift {
  return measureShift(labRows, ref, limit).shift;
}

/** stainShift, with the lab's medians kept for a move onto other medians. */
function measureShift(labRows: readonly ArrayLike<number>[], ref: StainReference, limit: number): { shift: StainShift; lab: Map<number, number> } {
  const lab = columnMedians(labRows, ref.columns);
  if (labRows.length === 0) return { shift: { statistic: 0, centre: false, offsets: new Map(), mix: null }, lab };
  // A column without spread in the source (constant) cannot be measured in its units: left out.
  const ratios = ref.columns.flatMap((c, i) => (ref.spread[i]! > 0 ? [Math.abs(lab.get(c)! - ref.medians[i]!) / ref.spread[i]!] : []));
  const statistic = ratios.length === 0 ? 0 : percentile(ratios, 50);
  const centre = statistic > limit;
  const offsets = centre ? offsetsOnto(ref, lab, ref.medians) : new Map<number, number>();
  return { shift: { statistic, centre, offsets, mix: null }, lab };
}

/** Per reference column, what moves the lab's median onto the target median. */
function offsetsOnto(ref: StainReference, lab: Map<number, number>, target: readonly number[]): Map<number, number> {
  return new Map(ref.columns.map((c, i) => [c, target[i]! - lab.get(c)!]));
}

/** Moves one row's stain: adds each column's offset to values[start + column]. */
export function applyOffsets(values: Float32Array | Float64Array, offsets: ReadonlyMap<number, number>, start = 0): void {
  for (const [c, d] of offsets) values[start + c]! += d;
}

/** Class probabilities of rows, row-major (rows x StainMix.classes.length), as a classifier gives them. */
export type RowsProba = (rows: readonly ArrayLike<number>[]) => ArrayLike<number>;

/**
 * stainShift, then, when the lab is to be moved and the reference has class distributions, moves it onto the
 * source's medians under the lab's estimated class mix: the mix from `shapeProba` (a classifier of the
 * stain-free columns), the lab moved onto the medians under it, the mix once more from `proba` (the
 * classifier of every column) on the moved values, and the lab moved onto the medians under that.
 */
export function adaptStain(
  labRows: readonly ArrayLike<number>[],
  ref: StainReference,
  classifiers: { shapeProba: RowsProba; proba: RowsProba } | null,
  limit = STAIN_SHIFT_LIMIT,
): StainShift {
  const { shift: sh, lab } = measureShift(labRows, ref, limit);
  if (!sh.centre || !ref.mix || !classifiers) return sh;
  const first = offsetsOnto(ref, lab, mixMedians(ref, estimateClassMix(classifiers.shapeProba(labRows), ref.mix.prior)));
  const moved = labRows.map((r) => {
    const v = Float64Array.from(r);
    applyOffsets(v, first);
    return v;
  });
  const mix = estimateClassMix(classifiers.proba(moved), ref.mix.prior);
  return { ...sh, offsets: offsetsOnto(ref, lab, mixMedians(ref, mix)), mix };
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

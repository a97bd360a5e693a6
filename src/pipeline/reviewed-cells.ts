// How a lab's reviewed cells join a classifier's training cells: each one repeated so that a few dozen of
// them weigh as much as a share of the source's hundreds (repeated rather than weighted: a repeated row is
// drawn into nearly every tree's bootstrap, which a row weight alone would not make it). Pure: the train-classifier job and the review-loop benchmark
// (bench/review-loop) use it alike.

import { DEFAULT_REVIEW_SHARE } from './defaults.js';
import { columnMedians } from '../engine/classifier/stain-shift.js';
import { percentile } from '../imaging/plane-filters.js';

export { DEFAULT_REVIEW_SHARE };
/** At most this many copies of one reviewed cell (a handful of reviews must not each become hundreds of rows). */
export const MAX_REVIEW_COPIES = 40;

/**
 * Copies of each reviewed cell so that the reviewed cells weigh `share` of all training rows:
 * copies x reviewed = share / (1 - share) x source, rounded, between 1 and MAX_REVIEW_COPIES.
 */
export function reviewCopies(sourceRows: number, reviewedRows: number, share = DEFAULT_REVIEW_SHARE, maxCopies = MAX_REVIEW_COPIES): number {
  if (!(share >= 0 && share < 1)) throw new Error(`review share must be in [0, 1), got ${share}`);
  if (reviewedRows <= 0) return 0;
  const want = (share / (1 - share)) * sourceRows / reviewedRows;
  return Math.max(1, Math.min(maxCopies, Math.round(want)));
}

/** The training rows with every reviewed row appended `copies` times (new arrays; the inputs are not changed). */
export function withReviewedRows<R>(x: readonly R[], y: readonly number[], reviewedX: readonly R[], reviewedY: readonly number[], copies: number): { x: R[]; y: number[] } {
  if (reviewedX.length !== reviewedY.length) throw new Error(`${reviewedX.length} reviewed rows, ${reviewedY.length} labels`);
  const outX = [...x];
  const outY = [...y];
  for (let c = 0; c < copies; c++) {
    reviewedX.forEach((r, i) => {
      outX.push(r);
      outY.push(reviewedY[i]!);
    });
  }
  return { x: outX, y: outY };
}

/**
 * Reviews that weigh as much as the unlabelled estimate of a lab's stain move when the two are pooled
 * (reviewedStainOffsets): with this many reviews the move is halfway between them. Chosen on Zheng DS2 in the
 * review-loop benchmark among 0, 3, 10, 25 and 50 (bench/review-loop/RESULTS.md).
 */
export const REVIEWED_STAIN_PRIOR = 25;

/**
 * How trainClassifier moves a lab's reviewed morphology cells onto the source's stain: 'job', by the move of
 * the lab's last classify job alone (unlabelled); 'labelled', by the move the reviewed cells tell pooled with
 * it (reviewedStainOffsets). 'job': in the review-loop benchmark the labelled move gained about a point on
 * Zheng DS2 but lost 1.5-3.4 points on BCCD's unreviewed cells (bench/review-loop/RESULTS.md).
 */
export const REVIEWED_STAIN_MOVE: 'job' | 'labelled' = 'job';

/** Per stain column, each class's median over the labelled source rows (classes without rows left out). */
export function classMedians(rows: readonly ArrayLike<number>[], labels: readonly string[], columns: readonly number[]): Map<string, Map<number, number>> {
  if (rows.length !== labels.length) throw new Error(`classMedians: ${rows.length} rows, ${labels.length} labels`);
  const byClass = new Map<string, ArrayLike<number>[]>();
  rows.forEach((r, i) => (byClass.get(labels[i]!) ?? byClass.set(labels[i]!, []).get(labels[i]!)!).push(r));
  return new Map([...byClass].map(([k, rs]) => [k, columnMedians(rs, columns)]));
}

export interface ReviewedStain {
  /** Per stain column, what to add to the lab's values. */
  offsets: Map<number, number>;
  /** Reviewed cells whose class the source has (those that told the move). */
  cells: number;
  /** The share of the move taken from the reviewed cells (the rest is the unlabelled estimate). */
  weight: number;
}

/**
 * A lab's stain move told by its reviewed cells: each reviewed cell's distance, per stain column, from the
 * source's median of the class it was given (a labelled cell's difference is its lab's stain, not its lab's
 * class mix, which is what can lead the unlabelled estimate astray), the median of those over the reviewed
 * cells (classes pooled), pooled with the unlabelled estimate (`unlabelled`: the lab's classify job's move;
 * a column it left unmoved counts as 0) as n reviews against `prior` pseudo-reviews.
 */
export function reviewedStainOffsets(
  reviewed: { rows: readonly ArrayLike<number>[]; labels: readonly string[] },
  sourceMedians: ReadonlyMap<string, ReadonlyMap<number, number>>,
  columns: readonly number[],
  unlabelled: ReadonlyMap<number, number>,
  prior = REVIEWED_STAIN_PRIOR,
): ReviewedStain {
  if (reviewed.rows.length !== reviewed.labels.length) throw new Error(`reviewedStainOffsets: ${reviewed.rows.length} rows, ${reviewed.labels.length} labels`);
  if (!(prior >= 0)) throw new Error(`reviewedStainOffsets: prior must be >= 0, got ${prior}`);
  const known = reviewed.rows.flatMap((r, i) => (sourceMedians.has(reviewed.labels[i]!) ? [{ r, m: sourceMedians.get(reviewed.labels[i]!)! }] : []));
  const n = known.length;
  const weight = n === 0 ? 0 : n / (n + prior);
  const offsets = new Map<number, number>();
  for (const c of columns) {
    const u = unlabelled.get(c) ?? 0;
    const told = n === 0 ? u : percentile(Float64Array.from(known, ({ r, m }) => m.get(c)! - r[c]!), 50);
    offsets.set(c, weight * told + (1 - weight) * u);
  }
  return { offsets, cells: n, weight };
}

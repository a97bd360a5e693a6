// How a lab's reviewed cells join a classifier's training cells: each one repeated so that a few dozen of
// them weigh as much as a share of the source's hundreds (the forest has no per-row weights; a repeated row is
// drawn into nearly every tree's bootstrap). Pure: the train-classifier job and the review-loop benchmark
// (bench/review-loop) use it alike.

import { DEFAULT_REVIEW_SHARE } from './defaults.js';

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

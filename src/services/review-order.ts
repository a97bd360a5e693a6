// Which cells a person should review first, so that few reviews teach the classifier the most: the cells
// it is least sure of (small margin between its two most likely classes, or flagged), spread over the lab's
// cells (a greedy farthest-point pick, so that ten reviews are not ten copies of one confusing cell) and over
// the classes it predicts. Pure: the review service orders a dataset's cells with it, the review-loop
// benchmark (bench/review-loop) measures it against a random order.

export interface QueueCandidate {
  /** Class probabilities in a fixed class order (the same length for every candidate). */
  probabilities: ArrayLike<number>;
  /** Flagged by the classifier (unlike the training cells, or unsure). */
  flagged?: boolean;
  /** Where the cell lies for diversity (any fixed-length vector); default: its probabilities. */
  embedding?: ArrayLike<number> | null;
}

export interface QueueOptions {
  /** How many cells to order. */
  first: number;
  /**
   * Cells already reviewed (their embeddings): new picks keep away from them as from each other, so a queue
   * asked for again after some reviews goes on where the last one left off.
   */
  reviewed?: readonly ArrayLike<number>[];
  /** Weight of uncertainty against spread: score = uncertainty^power x distance. Default 3 (QUEUE_DEFAULTS). */
  uncertaintyPower?: number;
  /** Added to a flagged cell's uncertainty (at most 1 in all). Default 0.25. */
  flaggedBonus?: number;
  /**
   * Distances (in median spreads) count up to this much: beyond it a cell is not preferred for being farther
   * (an outlier teaches little about the lab's other cells). Default 4.
   */
  distanceCap?: number;
}

export interface QueueEntry {
  /** Index into the candidates. */
  index: number;
  /** 1 - (top - second probability), with the flag's bonus: in [0, 1]. */
  uncertainty: number;
  /** Distance (standardised embedding) to the nearest cell picked or reviewed before it, relative to the median spread. */
  novelty: number;
  /** Why it is here, in words. */
  reason: string;
}

// uncertaintyPower 3 (2 before): chosen on Zheng DS2 in the review-loop benchmark, BCCD only scored
// (bench/review-loop/RESULTS.md, "Settings chosen on Zheng DS2").
export const QUEUE_DEFAULTS = { uncertaintyPower: 3, flaggedBonus: 0.25, distanceCap: 4 } as const;

/** 1 - margin between the two largest probabilities. */
export function marginUncertainty(p: ArrayLike<number>): number {
  let a = 0;
  let b = 0;
  for (let k = 0; k < p.length; k++) {
    const v = p[k]!;
    if (v > a) [a, b] = [v, a];
    else if (v > b) b = v;
  }
  return 1 - (a - b);
}

function argmax(p: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < p.length; k++) if (p[k]! > p[best]!) best = k;
  return best;
}

/** Each column standardised over the rows (a constant column becomes 0), as one flat array. */
function standardise(rows: readonly ArrayLike<number>[], dim: number): Float64Array {
  const out = new Float64Array(rows.length * dim);
  for (let d = 0; d < dim; d++) {
    let mean = 0;
    for (const r of rows) mean += r[d]!;
    mean /= rows.length || 1;
    let sd = 0;
    for (const r of rows) sd += (r[d]! - mean) ** 2;
    sd = Math.sqrt(sd / (rows.length || 1));
    rows.forEach((r, i) => (out[i * dim + d] = sd > 1e-12 ? (r[d]! - mean) / sd : 0));
  }
  return out;
}

function dist2(a: Float64Array, i: number, b: Float64Array, j: number, dim: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) {
    const t = a[i * dim + d]! - b[j * dim + d]!;
    s += t * t;
  }
  return s;
}

/**
 * The candidates in review order (the first `first` of them). Greedy: each step takes the cell with the
 * largest uncertainty^power x distance to everything picked or reviewed so far; the first picks cover every
 * predicted class once (most uncertain of each) before the score decides alone. Deterministic: ties go to
 * the lower index.
 */
export function orderReviewQueue(candidates: readonly QueueCandidate[], opts: QueueOptions): QueueEntry[] {
  const n = candidates.length;
  const first = Math.max(0, Math.min(Math.floor(opts.first), n));
  if (first === 0) return [];
  const power = opts.uncertaintyPower ?? QUEUE_DEFAULTS.uncertaintyPower;
  const bonus = opts.flaggedBonus ?? QUEUE_DEFAULTS.flaggedBonus;
  const cap = opts.distanceCap ?? QUEUE_DEFAULTS.distanceCap;
  const emb = (c: QueueCandidate) => c.embedding ?? c.probabilities;
  const dim = emb(candidates[0]!).length;
  for (const c of candidates) if (emb(c).length !== dim) throw new Error(`review queue: embeddings of different lengths (${emb(c).length} and ${dim})`);
  const reviewed = (opts.reviewed ?? []).filter((r) => r.length === dim);
  // Standardised together, so that reviewed cells and candidates share one scale.
  const all = standardise([...candidates.map(emb), ...reviewed], dim);
  const unc = candidates.map((c) => Math.min(1, marginUncertainty(c.probabilities) + (c.flagged ? bonus : 0)));
  // Nearest picked-or-reviewed cell per candidate (squared), Infinity while nothing is picked.
  const near = new Float64Array(n).fill(Infinity);
  for (let j = 0; j < reviewed.length; j++) {
    for (let i = 0; i < n; i++) near[i] = Math.min(near[i]!, dist2(all, i, all, n + j, dim));
  }
  // The scale of distances: the median distance of a candidate to a fixed spread of others.
  const step = Math.max(1, Math.floor(n / 64));
  const sample: number[] = [];
  for (let i = 0; i < n; i += step) for (let j = i + step; j < n; j += step * 3) sample.push(Math.sqrt(dist2(all, i, all, j, dim)));
  sample.sort((a, b) => a - b);
  const scale = sample.length ? sample[sample.length >> 1]! || 1 : 1;
  const taken = new Uint8Array(n);
  const out: QueueEntry[] = [];
  const predicted = candidates.map((c) => argmax(c.probabilities));
  const classesLeft = new Set(predicted);
  while (out.length < first) {
    let best = -1;
    let bestScore = -Infinity;
    // Class coverage: while some predicted class has no pick, only its cells compete.
    const covering = classesLeft.size > 0;
    for (let i = 0; i < n; i++) {
      if (taken[i] || (covering && !classesLeft.has(predicted[i]!))) continue;
      const d = near[i] === Infinity ? 1 : Math.sqrt(near[i]!) / scale;
      const score = unc[i]! ** power * Math.min(d, cap);
      if (score > bestScore) [best, bestScore] = [i, score];
    }
    if (best < 0) break;
    taken[best] = 1;
    classesLeft.delete(predicted[best]!);
    const novelty = near[best] === Infinity ? 1 : Math.sqrt(near[best]!) / scale;
    const c = candidates[best]!;
    const why = [c.flagged ? 'flagged' : null, `margin ${(1 - marginUncertainty(c.probabilities)).toFixed(2)}`, covering ? 'first of its predicted class' : novelty >= 1 ? 'unlike the cells before it' : null];
    out.push({ index: best, uncertainty: unc[best]!, novelty, reason: why.filter(Boolean).join('; ') });
    for (let i = 0; i < n; i++) if (!taken[i]) near[i] = Math.min(near[i]!, dist2(all, i, all, best, dim));
  }
  return out;
}

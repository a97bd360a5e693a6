// One lab's (one batch's) morphology rows through a classifier, as the classify job and the unseen-lab
// evaluation both run it: the stain step (stain-steps.ts), the forest, neighbour consensus when asked, then the
// self-check over the result and over independent views of the same cells (self-check.ts). Pure: rows in,
// probabilities, what the stain step did and the check's verdicts out.
import type { CellClassifier } from '../engine/classifier/classifier-artifact.js';
import { matrixFromRows, type FeatureMatrix } from '../engine/classifier/feature-matrix.js';
import { argmaxRows, predictProba } from '../engine/classifier/random-forest.js';
import { scoreNovelty } from '../engine/classifier/novelty.js';
import { mixClassifiers, stainFreeColumns } from '../engine/classifier/stain-mix-forest.js';
import { decideConsensus, type ConsensusOutcome } from './consensus-step.js';
import { DEFAULT_STAIN_STEP, ENSEMBLE_MEMBERS, movedRows, stainMove, type StainMove, type StainStep } from '../engine/classifier/stain-steps.js';
import { selfCheck, SELF_CHECK_LIMITS, type SelfCheck, type SelfCheckLimits } from '../engine/classifier/self-check.js';
import { STAIN_SHIFT_LIMIT, stainShift } from '../engine/classifier/stain-shift.js';
import type { RandomForest } from '../engine/classifier/random-forest.js';
import { PLAIN_FOREST_ROUTING } from './defaults.js';
import { wilsonInterval } from './metrics.js';
import { DEFAULT_ACCURACY_ESTIMATOR, ESTIMATOR_NAMES, estimateAccuracy, MIN_CALIBRATION_CELLS, type AccuracyEstimates, type AccuracyEstimator, type ConfidenceCalibration } from '../engine/classifier/accuracy-estimate.js';

/** Fewer cells than this give no trustworthy stain medians: the stain is then left as it is. */
export const MIN_STAIN_CELLS = 30;

/**
 * The views the self-check compares with the reported verdicts and with each other: the lab's values as they are
 * and centred on the training medians (no estimate to collapse). Where they disagree, the count depends on how the
 * lab's stain is undone. (The stain-free shape forest agrees with the full forest on only 77 % of held-out source
 * cells: too weak a view to judge by; docs/self-check.md.)
 */
export const CHECK_VIEWS = ['none', 'centred'] as const;

export interface LabClassifyOptions {
  /** Default DEFAULT_STAIN_STEP. */
  step?: StainStep;
  /** What the job was asked for (its result's stain.mode); default 'auto'. */
  mode?: string;
  /** adaptive and prior_mix move a lab only past this shift (within-class SDs). Default STAIN_SHIFT_LIMIT; -1: always. */
  limit?: number;
  neighbourConsensus?: boolean;
  limits?: SelfCheckLimits;
  /** Views the self-check compares with. Default CHECK_VIEWS. */
  checkViews?: readonly string[];
  /** The accuracy estimator the confidence check holds (calibrated classifiers). Default DEFAULT_ACCURACY_ESTIMATOR. */
  estimator?: AccuracyEstimator;
  /** Route a lab measuring like the training cells to the plain forest at or under this morphology shift; null: never. Default PLAIN_FOREST_ROUTING. */
  routeLimit?: number | null;
  /**
   * The lab's move measured before, applied instead of the step (a lab whose reviewed cells trained the classifier:
   * engine/reviewed-stain.ts), with the augmented forest it was measured for. The views and the self-check run as for
   * any lab: a count after a review is checked like the first one.
   */
  fixedMove?: { offsets: ReadonlyMap<number, number>; note: string };
}

/** Which of a classifier's forests classified a lab, and why (classifiers with a plain forest only). */
export interface ForestRouting {
  forest: 'plain' | 'augmented';
  /** The lab's morphology shift (within-class SDs, median over every column); null when not measured (too few cells). */
  statistic: number | null;
  /** The plain forest at or under this shift; null: routing off. */
  limit: number | null;
  note: string;
}

/** The job result's `stain` for a morphology classifier. */
export interface LabStainOutcome {
  /** The job's stainAdaptation (auto, off, always, or a step). */
  mode: string;
  step: StainStep;
  /** Median stain shift in training within-class SDs; null when not measured. */
  statistic: number | null;
  limit: number;
  centred: boolean;
  cells: number;
  /** The class mix the target medians were weighted to (first member that used one), else null. */
  classMix: Record<string, number> | null;
  /** The forests' raw class-mix estimate, where the step made one (what a collapse shows in). */
  estimatedMix: Record<string, number> | null;
  /**
   * [column, what was added] of the primary move (the ensemble's first member, prior_mix), for analyze jobs on the
   * same lab: they classify image by image and apply this move alone (no ensemble there).
   */
  offsets?: Array<[number, number]>;
  members?: StainStep[];
  /** Which forest classified the lab (absent for classifiers without a plain forest). */
  routing?: ForestRouting;
  note: string;
}

export interface LabClassification {
  /** The rows as the reported step moved them (an ensemble: as its first member did), for novelty and display. */
  x: FeatureMatrix;
  /** Reported class probabilities (after consensus when asked), rows x classes. */
  proba: Float64Array;
  stain: LabStainOutcome;
  consensus: ConsensusOutcome;
  /** Per view, each cell's most probable class: none, centred, adaptive, prior_mix, shape and the reported one. */
  views: Record<string, Int32Array>;
  /** Cells the novelty scorer calls unlike every training class. */
  novel: Uint8Array;
  /** Every estimator's accuracy estimate from the reported probabilities; null without a usable calibration in the file. */
  accuracyEstimates: AccuracyEstimates | null;
  selfCheck: SelfCheck;
}

/**
 * The forest (and its calibration) for a lab: the plain one where the lab's morphology measures like the training
 * cells' (the plain forest is the more accurate there and fails on other optics, docs/forest-recipe.md), else the
 * augmented one. Every column counts, not only the stain's: a lab with the training stain but tighter crops or blur
 * must not get the plain forest.
 */
export function routeForest(clf: CellClassifier, rows: readonly ArrayLike<number>[], limit: number | null): { forest: RandomForest; calibration: ConfidenceCalibration | null; routing: ForestRouting | null } {
  const augmented = { forest: clf.forest, calibration: clf.calibration ?? null };
  if (!clf.plainForest || !clf.profile) return { ...augmented, routing: null };
  if (rows.length < MIN_STAIN_CELLS) {
    return { ...augmented, routing: { forest: 'augmented', statistic: null, limit, note: `augmented forest: ${rows.length} cells are too few to measure the lab (at least ${MIN_STAIN_CELLS})` } };
  }
  const statistic = stainShift(rows, clf.profile, Infinity).statistic;
  const s = statistic.toFixed(2);
  if (limit === null) return { ...augmented, routing: { forest: 'augmented', statistic, limit, note: `augmented forest: routing off (morphology shift ${s})` } };
  if (statistic <= limit) {
    return { forest: clf.plainForest, calibration: clf.plainCalibration ?? null, routing: { forest: 'plain', statistic, limit, note: `plain forest: the lab measures like the training cells (morphology shift ${s} <= ${limit})` } };
  }
  return { ...augmented, routing: { forest: 'augmented', statistic, limit, note: `augmented forest: morphology shift ${s} > ${limit}` } };
}

const pct = (v: number) => `${Math.round(100 * v)} %`;

/**
 * The Wilson interval of an ATC estimate (a share of the lab's cells: those above the calibrated threshold), for the
 * confidence check's note; none for the difference of confidences, which is a mean, not a share.
 */
function estimateInterval(estimator: AccuracyEstimator, value: number, cells: number): { low: number; high: number; cells: number } | null {
  if (estimator === 'doc' || cells === 0) return null;
  const [low, high] = wilsonInterval(Math.round(value * cells), cells);
  return { low, high, cells };
}

function mixRecord(classes: readonly string[], m: readonly number[] | null): Record<string, number> | null {
  return m ? Object.fromEntries(classes.map((c, k) => [c, m[k]!])) : null;
}

/** Classifies one lab's morphology rows (each MORPHOLOGY_LENGTH values) with a morphology classifier. */
export function classifyLab(clf: CellClassifier, rows: readonly ArrayLike<number>[], opts: LabClassifyOptions = {}): LabClassification {
  const step = opts.step ?? DEFAULT_STAIN_STEP;
  const limit = opts.limit ?? STAIN_SHIFT_LIMIT;
  const K = clf.classNames.length;
  const ref = clf.stain ?? null;
  // A limit below zero (stainAdaptation ALWAYS) is the user's explicit choice: it applies even to a few cells.
  const enough = rows.length >= MIN_STAIN_CELLS || (limit < 0 && rows.length > 0);
  const fixed = opts.fixedMove ?? null;
  const routed = fixed
    ? { forest: clf.forest, calibration: clf.calibration ?? null, routing: null }
    : routeForest(clf, rows, opts.routeLimit !== undefined ? opts.routeLimit : PLAIN_FOREST_ROUTING.enabled ? PLAIN_FOREST_ROUTING.limit : null);
  const forest = routed.forest;
  const classifiers = ref && clf.shapeForest && ref.mix ? mixClassifiers(clf.shapeForest, forest, ref) : null;
  const moves = new Map<string, StainMove>();
  const probaOf = new Map<string, Float64Array>();
  const xOf = new Map<string, FeatureMatrix>();
  // The forest over the lab's rows moved by `offsets` (none, or empty: as they are).
  const forestOn = (offsets: ReadonlyMap<number, number> | null): { x: FeatureMatrix; proba: Float64Array } => {
    const x = rows.length ? matrixFromRows(offsets && offsets.size ? movedRows(rows, offsets) : rows) : { data: new Float64Array(0), rows: 0, cols: forest.numFeatures };
    return { x, proba: rows.length ? predictProba(forest, x) : new Float64Array(0) };
  };
  const run = (s: Exclude<StainStep, 'ensemble'>) => {
    if (probaOf.has(s)) return;
    const mv = ref && enough ? stainMove(s, rows, ref, classifiers, limit) : null;
    if (mv) moves.set(s, mv);
    const r = forestOn(mv?.offsets ?? null);
    xOf.set(s, r.x);
    probaOf.set(s, r.proba);
  };
  const members: Exclude<StainStep, 'ensemble'>[] = fixed ? [] : step === 'ensemble' ? [...ENSEMBLE_MEMBERS] : [step];
  for (const m of members) run(m);
  const moved = fixed ? forestOn(fixed.offsets) : null;
  let proba: Float64Array;
  if (moved) proba = moved.proba;
  else if (members.length === 1) proba = Float64Array.from(probaOf.get(members[0]!)!);
  else {
    proba = new Float64Array(rows.length * K);
    for (const m of members) probaOf.get(m)!.forEach((v, i) => (proba[i]! += v / members.length));
  }
  const x = moved?.x ?? xOf.get(members[0]!)!;
  const { consensus, proba: reported } = decideConsensus(x, proba, K, opts.neighbourConsensus ?? false, 'morphology');

  // The other views, for the self-check (and the evaluation's table).
  for (const s of ['none', 'centred', 'adaptive', 'prior_mix'] as const) run(s);
  const views: Record<string, Int32Array> = {};
  for (const [s, p] of probaOf) views[s] = argmaxRows(p, K);
  if (clf.shapeForest && ref && rows.length) {
    const cols = stainFreeColumns(ref, clf.forest.numFeatures);
    const data = new Float64Array(rows.length * cols.length);
    rows.forEach((r, i) => cols.forEach((c, j) => (data[i * cols.length + j] = r[c]!)));
    views.shape = argmaxRows(predictProba(clf.shapeForest, { data, rows: rows.length, cols: cols.length }), K);
  }
  const best = argmaxRows(reported, K);
  views.reported = best;
  const novel = rows.length ? scoreNovelty(clf.novelty, x).novel : new Uint8Array(0);
  // The count the job reports: cells neither novel nor under minConfidence.
  const predicted = Int32Array.from(best, (k, i) => (novel[i] || reported[i * K + k]! < clf.minConfidence ? -1 : k));
  let novelCount = 0;
  for (const v of novel) novelCount += v;
  const primary = members.length ? (moves.get(members[0]!) ?? null) : null;
  const mixMove = members.map((m) => moves.get(m)).find((m) => m?.mix) ?? null;
  const checkViews = (opts.checkViews ?? CHECK_VIEWS).filter((v) => views[v]);
  let confidence = 0;
  for (let i = 0; i < best.length; i++) confidence += reported[i * K + best[i]!]!;
  // The calibration was measured on the source's own cells, without a stain step: they need none. It is the
  // calibration of the forest that reported (each forest's confidence has its own scale).
  const cal = routed.calibration && routed.calibration.cells >= MIN_CALIBRATION_CELLS ? routed.calibration : null;
  const estimates = cal && rows.length ? estimateAccuracy(cal, reported, K) : null;
  const estimator = opts.estimator ?? DEFAULT_ACCURACY_ESTIMATOR;
  const check = selfCheck(
    {
      classes: clf.classNames,
      predicted,
      estimatedMix: mixMove?.rawMix ?? null,
      novelShare: rows.length ? novelCount / rows.length : null,
      meanConfidence: rows.length ? confidence / rows.length : null,
      accuracyEstimate: estimates && cal ? { value: estimates[estimator], estimator: ESTIMATOR_NAMES[estimator], calibrationCells: cal.cells, source: cal.source, interval: estimateInterval(estimator, estimates[estimator], rows.length) } : null,
      // The reported view by its most probable class of every cell (flagged ones too), as the others.
      views: [{ name: 'reported', predicted: best }, ...checkViews.map((v) => ({ name: v, predicted: views[v]! }))],
    },
    opts.limits ?? { ...SELF_CHECK_LIMITS },
  );
  const outcome = fixed
    ? fixedOutcome(opts.mode ?? 'auto', fixed, rows.length, limit)
    : stainOutcome(opts.mode ?? 'auto', step, members, moves, primary, mixMove, clf.classNames, rows.length, limit, ref !== null, enough);
  const stain = routed.routing ? { ...outcome, routing: routed.routing, note: `${outcome.note}; ${routed.routing.note}` } : outcome;
  return { x, proba: reported, stain, consensus, views, novel, accuracyEstimates: estimates, selfCheck: check };
}

/** The stain outcome of a move measured before (classifyLab's fixedMove). */
function fixedOutcome(mode: string, fixed: NonNullable<LabClassifyOptions['fixedMove']>, cells: number, limit: number): LabStainOutcome {
  const centred = fixed.offsets.size > 0;
  return { mode, step: centred ? 'centred' : 'none', statistic: null, limit, centred, cells, classMix: null, estimatedMix: null, ...(centred ? { offsets: [...fixed.offsets] } : {}), note: fixed.note };
}

function stainOutcome(
  mode: string,
  step: StainStep,
  members: readonly StainStep[],
  moves: Map<string, StainMove>,
  primary: StainMove | null,
  mixMove: StainMove | null,
  classes: readonly string[],
  cells: number,
  limit: number,
  hasRef: boolean,
  enough: boolean,
): LabStainOutcome {
  const statistic = primary?.statistic ?? null;
  // Whether the primary member (whose offsets are stored for analyze jobs on the same lab) moved the stain.
  const centred = primary?.moved ?? false;
  const base = { mode, step, statistic, limit, centred, cells, classMix: mixRecord(classes, mixMove?.mix ?? null), estimatedMix: mixRecord(classes, mixMove?.rawMix ?? null), ...(members.length > 1 ? { members: [...members] } : {}) };
  const offsets = primary?.moved ? { offsets: [...primary.offsets] } : {};
  if (!hasRef) return { ...base, note: 'stain not adapted: the classifier has no stain reference (trained before it existed)' };
  if (cells === 0) return { ...base, note: 'stain not adapted: no cell could be measured' };
  if (!enough) return { ...base, note: `stain not adapted: ${cells} cells are too few to measure it (at least ${MIN_STAIN_CELLS})` };
  const shift = statistic === null ? '' : ` (shift ${statistic.toFixed(2)} within-class SDs)`;
  const describe = (m: StainStep): string => {
    const mv = moves.get(m);
    if (m === 'none') return 'the values as they are';
    if (!mv?.moved) return `${m}: left as it is (shift <= ${limit} within-class SDs)`;
    if (m === 'centred') return "centred on the training cells' medians";
    const mix = mv.mix ? ` under their estimated class mix (${Object.entries(mixRecord(classes, mv.mix)!).filter(([, v]) => v >= 0.005).map(([c, v]) => `${c} ${pct(v)}`).join(', ')})` : '';
    return `${m}: moved onto the training medians${mix}`;
  };
  const note = members.length > 1
    ? `stain step ${step}: the probabilities of ${members.map(describe).join(' and of ')} averaged${shift}`
    : `stain step ${step}: ${describe(step)}${shift}`;
  return { ...base, ...offsets, note };
}

/**
 * The self-check of a batch classified without a stain step (latent classifiers): its count and the share of its
 * cells unlike the training cells; there are no other views to compare.
 */
export function checkBatch(clf: CellClassifier, x: FeatureMatrix, proba: ArrayLike<number>, limits: SelfCheckLimits = { ...SELF_CHECK_LIMITS }): SelfCheck {
  const K = clf.classNames.length;
  const novel = x.rows ? scoreNovelty(clf.novelty, x).novel : new Uint8Array(0);
  const best = x.rows ? argmaxRows(Float64Array.from(proba), K) : new Int32Array(0);
  const predicted = Int32Array.from(best, (k, i) => (novel[i] || proba[i * K + k]! < clf.minConfidence ? -1 : k));
  const novelShare = x.rows ? novel.reduce((a, v) => a + v, 0) / x.rows : null;
  return selfCheck({ classes: clf.classNames, predicted, novelShare }, limits);
}

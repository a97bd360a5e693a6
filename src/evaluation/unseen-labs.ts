// The evaluation nobody can tune to (issue 17): every stain step of the classify job (stain-steps.ts), run as the
// job runs it (lab-classification.ts: stain step, forest, self-check), on labs it was not trained on:
// leave-one-lab-out over the labelled labs (train on one, score the others) and seeded synthetic labs made from
// held-out cells of the source lab (synthetic-labs.ts). The step is chosen by its worst accuracy over the
// selection labs and reported by its worst over the other labs, beside the mean, with Wilson intervals; and for
// every lab, whether the job's self-check would have warned. No database, no files: scripts/unseen-labs.ts feeds it.
import { classifyLab } from '../pipeline/lab-classification.js';
import { selfTrainLab } from '../pipeline/self-training.js';
import { forestSettings, trainCellClassifier, type ClassifierTrainingInput } from '../pipeline/classifier-training.js';
import type { CellClassifier } from '../engine/classifier/classifier-artifact.js';
import { STAIN_STEPS, type StainStep } from '../engine/classifier/stain-steps.js';
import { SELF_CHECK_LIMITS, wholeFails, type CheckStatus, type CheckVerdict } from '../engine/classifier/self-check.js';
import { ACCURACY_ESTIMATORS, DEFAULT_ACCURACY_ESTIMATOR, MIN_CALIBRATION_CELLS, type AccuracyEstimates } from '../engine/classifier/accuracy-estimate.js';
import { createRng, mixSeed, shuffleInPlace } from '../engine/classifier/rng.js';
import { morphologyFeatures, MORPHOLOGY_SIZE, type BoxInCrop } from '../imaging/cell-morphology.js';
import { augmentCrop } from '../pipeline/augment.js';
import { cellSeed } from '../pipeline/morphology.js';
import { FOREST_DEFAULTS, MORPHOLOGY_AUGMENT_COPIES } from '../pipeline/defaults.js';
import { classifierToJson, flagKind } from '../engine/classifier/classifier-artifact.js';
import type { MaxFeatures } from '../engine/classifier/random-forest.js';
import { gzipSync } from 'node:zlib';
import { scoreDomain } from './pipeline.js';
import { applyLab, drawLabCells, stainStats, syntheticLabs, type LabCrop, type SyntheticLab } from './synthetic-labs.js';
import { frameCell, framedLabs, type FramedSource } from './framed-labs.js';
import type { DetectorLike } from '../pipeline/detect.js';

/** A labelled lab's cells: 128 px crops with their boxes. */
export interface LabeledLab {
  name: string;
  crops: Uint8Array[];
  boxes: BoxInCrop[];
  labels: string[];
  /** The source lab's cell i: its image and the detector's box there (the framed labs cut their frames from it). */
  imageOf?: (i: number) => Promise<FramedSource | null>;
}

/** A lab ready to score: its morphology rows and labels, and how it was made. */
export interface ScoredLab {
  name: string;
  kind: 'in-domain' | 'real' | 'synthetic';
  /** The lab trained on. */
  trainedOn: string;
  description: string;
  rows: Float64Array[];
  labels: string[];
}

export interface LabScore {
  lab: string;
  kind: ScoredLab['kind'];
  trainedOn: string;
  /** 'selection': the labs the step and the check's limits were chosen on; 'scoring': the others. */
  role: 'selection' | 'scoring';
  step: StainStep;
  n: number;
  accuracy: number;
  ci95: [number, number];
  macroF1: number | null;
  /** Per class of the lab's labels: its cells, and how many the reported view gave that class (absent in older reports). */
  perClass?: Record<string, { n: number; right: number }>;
  /** Share of cells the job flags (novel or unsure; every cell when the self-check fails). */
  flagged: number;
  /**
   * Cell by cell, without the lab's check: the share flagged (novel or under minConfidence) and the accuracy on the
   * others; `atc`: the same with a cell also flagged at or under its forest's ATC threshold (the calibration's per-cell
   * cut; null without a usable calibration). What the flags would say of a lab whose check passed.
   */
  cellFlags?: { now: { flagged: number; unflaggedAccuracy: number | null }; atc: { flagged: number; unflaggedAccuracy: number | null } | null };
  check: CheckStatus;
  /** Names of the failed or warning checks (a failed check may hold warnings only: then 'warnings together' is listed too). */
  checkFired: string[];
  /** Agreement of the reported view with the least agreeing check view. */
  agreement: number | null;
  /** Share of cells given the same class by the reported view and each other view ('none~centred': those two). */
  agreements: Record<string, number>;
  /** Share of cells the novelty scorer calls unlike every training class. */
  novelShare: number;
  /** Mean over the cells of the reported view's top class probability. */
  meanConfidence: number;
  /** Predicted class mix (all cells, argmax). */
  predictedMix: Record<string, number>;
  /** Each estimator's accuracy estimate through the classifier's calibration (null: none in the classifier). */
  estimates: AccuracyEstimates | null;
  /**
   * Whether the checks other than confidence fail the count by themselves (one failed, or warningsFail of them warned),
   * and how many of them warned: what an estimator's own verdict is added to.
   */
  otherChecksFailed: boolean;
  /** Always written by scoreLab; optional only so that reports written before it still read. */
  otherWarnings?: number;
  /** Which of the classifier's forests classified the lab (null: the classifier has one forest), and the shifts it was routed by. */
  forest: 'plain' | 'augmented' | null;
  /** The lab's morphology shift (every column) and stain shift (colour columns), within-class SDs; null: not measured. */
  morphologyShift: number | null;
  stainShift: number | null;
  note: string;
}

/**
 * One way of holding the confidence check, over the out-of-domain labs of one step: 'fixed' is the mean confidence
 * against the fixed limits (files without a calibration), the others an estimator against a fail limit: 75 %, or
 * 75 % plus that estimator's mean abs error on the selection labs (a lab fails unless its estimate clears 75 % by
 * the estimator's typical error).
 */
export interface EstimatorSummary {
  step: StainStep;
  estimator: 'fixed' | (typeof ACCURACY_ESTIMATORS)[number];
  /** The fail limit on the estimate (null for 'fixed'). */
  failAt: number | null;
  /** Mean absolute error of the estimate against the lab's accuracy (null for 'fixed', which estimates nothing). */
  mae: { selection: number | null; scoring: number | null; all: number | null };
  /** Labs under 75 % whose self-check fails with the confidence check held this way, of all labs under 75 %. */
  belowGoalFailed: [number, number];
  /** Labs under 75 % that this confidence check fails by itself. */
  belowGoalCaughtAlone: number;
  /** Labs at 75 % or more whose self-check fails, of all such labs; and which (selection labs marked). */
  falseAlarms: [number, number];
  falseAlarmLabs: string[];
}

/** The forest's settings (FOREST_DEFAULTS unless given, so the evaluation fits what train-classifier fits). */
type ForestSettings = Pick<ClassifierTrainingInput, 'trees' | 'maxDepth' | 'minSamplesLeaf' | 'maxFeatures' | 'augmentWeight' | 'plainTreeShare' | 'balanced'>;

export interface UnseenLabsOptions extends ForestSettings {
  classes: readonly string[];
  seed: number;
  /** Cells per synthetic lab. Default 120. */
  syntheticSize?: number;
  /** Seeded random synthetic labs besides the fixed recipes. Default 3. */
  randomLabs?: number;
  /**
   * The detector: with it (and the source lab's imageOf), the framed labs (framed-labs.ts) are made too, their
   * frames cut from held-out source images and detected again.
   */
  detector?: DetectorLike;
  steps?: readonly StainStep[];
  /** Fraction of the source lab's labelled cells held out (in-domain test and synthetic labs). Default 0.5. */
  holdOut?: number;
  /**
   * Augmented copies of each training cell (augment.ts, as train-classifier makes them). Default
   * MORPHOLOGY_AUGMENT_COPIES. prepareUnseenLabs measures this many; scoreUnseenLabs uses the first this many of them.
   */
  augmentCopies?: number;
  /** Also train on each pair of labs and score the real labs in neither. Default true. */
  pairs?: boolean;
  /**
   * The rows measured from crops (every lab, synthetic and framed lab, and augmented copy). Default morphologyRows,
   * what the classify job measures; an exploration can append another view's values after the 59 (the stain step
   * moves MORPHOLOGY_COLOUR_COLUMNS only, so appended columns keep their place).
   */
  measure?: (crops: readonly LabCrop[]) => Float64Array[] | Promise<Float64Array[]>;
  /** Every lab self-trained after its first classification (pipeline/self-training.ts, as classifyCells does when asked). */
  selfTraining?: boolean;
  onProgress?: (line: string) => void;
}

export interface UnseenLabsReport {
  format: 'leukograph-unseen-labs/1';
  created: string;
  source: string;
  settings: {
    seed: number; trees: number; maxDepth: number; minSamplesLeaf?: number; maxFeatures?: MaxFeatures; augmentWeight?: number; plainTreeShare?: number; balanced?: boolean;
    syntheticSize: number; holdOut: number; steps: StainStep[]; augmentCopies: number; trainCells: Record<string, number>;
    /** The source lab's classifier as train-classifier saves it: gzipped JSON bytes (what a model file weighs). */
    sourceModelBytes?: number;
    /** Every lab self-trained (UnseenLabsOptions.selfTraining); absent in reports from before it existed. */
    selfTraining?: boolean;
  };
  labs: Array<{ name: string; kind: ScoredLab['kind']; trainedOn: string; description: string; n: number; classes: Record<string, number>; role: LabScore['role'] }>;
  scores: LabScore[];
  /** Per step: worst and mean accuracy over the selection labs, the scoring labs and all; in-domain. */
  summary: Array<{
    step: StainStep; selectionWorst: number; scoringWorst: { lab: string; accuracy: number; ci95: [number, number] }; mean: number; inDomain: number | null;
    /** Labs under 75 % whose self-check did not fail (the goal: none). */
    belowGoalSilent: string[];
    /** Labs at 75 % or more whose self-check failed anyway (false alarms: no count for a lab that was fine). */
    falseAlarms: string[];
  }>;
  /** What the rule picks on this report's forest seed alone. */
  chosen: StainStep;
  /** The rule read over several forest seeds (the script's RULE_SEEDS), when it was: what the default is held to. */
  rule?: SeedRule;
  /** The confidence check held each way (every step), for docs/self-check.md. */
  estimators: EstimatorSummary[];
  timings: Record<string, number>;
}

type Measure = NonNullable<UnseenLabsOptions['measure']>;

/** Morphology rows of crops (128 px) with their boxes. */
export function morphologyRows(crops: readonly LabCrop[]): Float64Array[] {
  return crops.map((c) => morphologyFeatures(c.size === MORPHOLOGY_SIZE ? c.crop : resizeNearest(c.crop, c.size, MORPHOLOGY_SIZE), MORPHOLOGY_SIZE, c.box) as Float64Array);
}

function resizeNearest(crop: Uint8Array, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to * to * 3);
  for (let y = 0; y < to; y++) for (let x = 0; x < to; x++) {
    const sy = Math.floor(((y + 0.5) * from) / to);
    const sx = Math.floor(((x + 0.5) * from) / to);
    for (let k = 0; k < 3; k++) out[(y * to + x) * 3 + k] = crop[(sy * from + sx) * 3 + k]!;
  }
  return out;
}

/** The framed labs (framed-labs.ts): held-out source images cut to tight frames, coloured, and detected again. */
async function detectedAgain(source: LabeledLab, heldOut: readonly number[], detector: DetectorLike, seed: number, size: number, say: (s: string) => void, measure: Measure): Promise<ScoredLab[]> {
  const out: ScoredLab[] = [];
  // How much of its crop's side the cell's box takes (the longer side): what "tight" does to the crop measured.
  const share = (b: BoxInCrop) => Math.max(b[2] - b[0], b[3] - b[1]);
  const mean = (v: readonly number[]) => (v.length ? v.reduce((a, x) => a + x, 0) / v.length : null);
  const two = (v: number | null) => (v === null ? '—' : v.toFixed(2));
  for (const [j, spec] of framedLabs(seed).entries()) {
    const pick = drawLabCells(source.labels, heldOut, spec.mix, size, mixSeed(seed, 0xf7a + j));
    const cells: LabCrop[] = [];
    const labels: string[] = [];
    const ious: number[] = [];
    const sourceShares: number[] = [];
    const lost = { noImage: 0, noCell: 0, failed: 0 };
    for (const i of pick) {
      const src = await source.imageOf!(i);
      if (!src) {
        lost.noImage++;
        continue;
      }
      const f = await frameCell(src, spec, detector, MORPHOLOGY_SIZE, mixSeed(seed, i)).catch(() => null);
      if (!f) lost.failed++;
      else if (!f.crop || !f.box) lost.noCell++;
      else {
        cells.push({ crop: f.crop, size: MORPHOLOGY_SIZE, box: f.box });
        labels.push(source.labels[i]!);
        ious.push(f.iou!);
        sourceShares.push(share(source.boxes[i]!));
      }
    }
    const boxShare = `the cell's box takes ${two(mean(cells.map((c) => share(c.box))))} of its crop's side (${two(mean(sourceShares))} in the same cells' source crops)`;
    const missing = [lost.noImage && `${lost.noImage} without their source image`, lost.failed && `${lost.failed} failed`].filter(Boolean).join(', ');
    say(`${spec.name}: ${pick.length} held-out ${source.name} images framed and detected again; ${lost.noCell} frames without a cell${missing ? `, ${missing}` : ''}; mean IoU ${two(mean(ious))}; ${boxShare}`);
    out.push({
      name: spec.name, kind: 'synthetic', trainedOn: source.name, rows: await measure(cells), labels,
      description: `${spec.description} (frame ${spec.frame.toFixed(2)} x the cell's box, JPEG q${spec.quality}; the detector found a cell in ${cells.length} of ` +
        `${pick.length - lost.noImage - lost.failed} frames${missing ? ` (${missing})` : ''}, its box against the source box moved into the frame: mean IoU ${two(mean(ious))}; ` +
        `${boxShare}; frames without a cell are not scored)`,
    });
  }
  return out;
}

/** Stratified split of indices by label: `fraction` of each class held out (seeded). */
function splitByLabel(labels: readonly string[], fraction: number, seed: number): { train: number[]; test: number[] } {
  const byLabel = new Map<string, number[]>();
  labels.forEach((l, i) => (byLabel.get(l) ?? byLabel.set(l, []).get(l)!).push(i));
  const train: number[] = [];
  const test: number[] = [];
  for (const [l, idx] of [...byLabel].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    let h = 0;
    for (let i = 0; i < l.length; i++) h = (Math.imul(h, 31) + l.charCodeAt(i)) >>> 0;
    shuffleInPlace(idx, createRng(mixSeed(seed, h)));
    const k = Math.round(idx.length * fraction);
    test.push(...idx.slice(0, k));
    train.push(...idx.slice(k));
  }
  return { train: train.sort((a, b) => a - b), test: test.sort((a, b) => a - b) };
}

/** Which labs choose the step and the check's limits; the others score them. Chosen before any run, by name. */
export function isSelectionLab(lab: Pick<ScoredLab, 'name' | 'trainedOn' | 'kind'>, source: string): boolean {
  if (lab.kind === 'in-domain') return true;
  if (lab.kind === 'real') return lab.trainedOn === source && lab.name === 'bccd';
  return ['syn-yellow', 'syn-tight', 'syn-stain-bccd', 'syn-random-1'].includes(lab.name);
}

const mixOf = (pred: readonly string[], classes: readonly string[]) =>
  Object.fromEntries(classes.map((c) => [c, pred.filter((p) => p === c).length / Math.max(1, pred.length)]));

/** One classifier, one lab, one step (self-trained when asked): as the classify job would report it. */
export function scoreLab(clf: CellClassifier, lab: ScoredLab, step: StainStep, classes: readonly string[], role: LabScore['role'], selfTraining = false): LabScore {
  const first = classifyLab(clf, lab.rows, { step });
  const r = selfTraining ? selfTrainLab(clf, lab.rows, first, { step }).lab : first;
  const K = clf.classNames.length;
  const pred = Array.from(r.views.reported, (k) => clf.classNames[k]!);
  const s = scoreDomain(lab.labels, pred, classes);
  let flagged = 0;
  let confidence = 0;
  const cal = (r.stain.routing?.forest === 'plain' ? clf.plainCalibration : clf.calibration) ?? null;
  const atcCut = cal && cal.cells >= MIN_CALIBRATION_CELLS ? cal.thresholdMax : null;
  const cells = { now: { flagged: 0, right: 0 }, atc: { flagged: 0, right: 0 } };
  for (let i = 0; i < pred.length; i++) {
    const top = r.proba[i * K + r.views.reported[i]!]!;
    confidence += top;
    // The product's own flag rule (classifyLatents), cell by cell.
    const unsure = flagKind(r.novel[i] === 1, top, clf.minConfidence) !== null;
    if (r.selfCheck.status === 'failed' || unsure) flagged++;
    const right = pred[i] === lab.labels[i] ? 1 : 0;
    if (unsure) cells.now.flagged++;
    else cells.now.right += right;
    if (unsure || (atcCut !== null && top <= atcCut)) cells.atc.flagged++;
    else cells.atc.right += right;
  }
  const part = (c: { flagged: number; right: number }) => ({ flagged: pred.length ? c.flagged / pred.length : 0, unflaggedAccuracy: pred.length > c.flagged ? c.right / (pred.length - c.flagged) : null });
  const cellFlags = { now: part(cells.now), atc: atcCut === null ? null : part(cells.atc) };
  const agreement = r.selfCheck.verdicts.find((v) => v.check === 'view_agreement')?.value ?? null;
  const agree = (a: Int32Array, b: Int32Array) => (a.length ? a.reduce((n, v, i) => n + (v === b[i] ? 1 : 0), 0) / a.length : 1);
  const agreements: Record<string, number> = Object.fromEntries(Object.entries(r.views).filter(([k]) => k !== 'reported').map(([k, v]) => [k, agree(r.views.reported!, v)]));
  if (r.views.none && r.views.centred) agreements['none~centred'] = agree(r.views.none, r.views.centred);
  const novelShare = r.novel.length ? r.novel.reduce((n, v) => n + v, 0) / r.novel.length : 0;
  return {
    lab: lab.name, kind: lab.kind, trainedOn: lab.trainedOn, role, step, n: s.n, accuracy: s.accuracy, ci95: s.accuracy_ci95, macroF1: s.macro_f1,
    // From the confusion matrix (rows: the true class): each class with cells in the lab, its cells and its diagonal.
    perClass: Object.fromEntries(s.confusion.labels.flatMap((c, k) => {
      const n = s.confusion.matrix[k]!.reduce((a, v) => a + v, 0);
      return n ? [[c, { n, right: s.confusion.matrix[k]![k]! }]] : [];
    })),
    flagged: pred.length ? flagged / pred.length : 0, cellFlags, check: r.selfCheck.status,
    checkFired: [
      ...r.selfCheck.verdicts.filter((v) => v.status !== 'passed').map((v) => `${v.check}${v.status === 'failed' ? '' : ' (warning)'}`),
      ...(r.selfCheck.status === 'failed' && !r.selfCheck.verdicts.some((v) => v.status === 'failed') ? [`warnings together (${SELF_CHECK_LIMITS.warningsFail} fail)`] : []),
    ],
    agreement, agreements, novelShare, meanConfidence: pred.length ? confidence / pred.length : 0, predictedMix: mixOf(pred, classes),
    estimates: r.accuracyEstimates, otherChecksFailed: otherChecksFail(r.selfCheck.verdicts),
    otherWarnings: r.selfCheck.verdicts.filter((v) => v.check !== 'confidence' && v.status === 'warning').length,
    forest: r.stain.routing?.forest ?? null, morphologyShift: r.stain.routing?.statistic ?? null, stainShift: r.stain.statistic, note: r.stain.note,
  };
}

/**
 * Runs it: `labs[0]` is the source (split into training and held-out cells; synthetic labs are made from the
 * held-out cells), the others are real labs. Leave-one-lab-out: each real lab is also trained on in turn and
 * every other lab scored.
 */
export async function runUnseenLabs(labs: readonly LabeledLab[], opts: UnseenLabsOptions): Promise<UnseenLabsReport> {
  const prepared = await prepareUnseenLabs(labs, opts);
  return scoreUnseenLabs(prepared, opts);
}

/** The first half of runUnseenLabs: the labs' rows (synthetic labs made), the classifiers' training rows. */
export async function prepareUnseenLabs(labs: readonly LabeledLab[], opts: UnseenLabsOptions): Promise<PreparedRun> {
  const t0 = performance.now();
  const say = opts.onProgress ?? (() => undefined);
  const measure: Measure = opts.measure ?? morphologyRows;
  const classes = [...opts.classes];
  const syntheticSize = opts.syntheticSize ?? 120;
  const holdOut = opts.holdOut ?? 0.5;
  const timings: Record<string, number> = {};
  const source = labs[0]!;
  const keepIdx = (l: LabeledLab) => l.labels.flatMap((c, i) => (classes.includes(c) ? [i] : []));
  const rowsOf = new Map<string, Float64Array[]>();
  let tt = performance.now();
  for (const l of labs) {
    say(`${l.name}: measuring ${l.crops.length} cells`);
    rowsOf.set(l.name, await measure(l.crops.map((crop, i) => ({ crop, size: Math.round(Math.sqrt(crop.length / 3)), box: l.boxes[i]! }))));
  }
  timings.features = (performance.now() - tt) / 1000;
  const srcIdx = keepIdx(source);
  const split = splitByLabel(srcIdx.map((i) => source.labels[i]!), holdOut, opts.seed);
  const srcTrain = split.train.map((k) => srcIdx[k]!);
  const srcTest = split.test.map((k) => srcIdx[k]!);
  const srcRows = rowsOf.get(source.name)!;

  // Synthetic labs from the held-out source cells.
  tt = performance.now();
  const stains = Object.fromEntries(labs.slice(1).map((l) => [l.name, stainStats(l.crops)]));
  const synth: SyntheticLab[] = syntheticLabs(opts.seed, stains, opts.randomLabs ?? 3);
  const scoredFromSource: ScoredLab[] = [
    { name: source.name, kind: 'in-domain', trainedOn: source.name, description: `held-out ${source.name} cells`, rows: srcTest.map((i) => srcRows[i]!), labels: srcTest.map((i) => source.labels[i]!) },
  ];
  for (const l of labs.slice(1)) {
    const idx = keepIdx(l);
    scoredFromSource.push({ name: l.name, kind: 'real', trainedOn: source.name, description: `every labelled ${l.name} cell`, rows: idx.map((i) => rowsOf.get(l.name)![i]!), labels: idx.map((i) => l.labels[i]!) });
  }
  for (const [j, s] of synth.entries()) {
    const pick = drawLabCells(source.labels, srcTest, s.mix, syntheticSize, mixSeed(opts.seed, 0x1ab + j));
    say(`${s.name}: transforming ${pick.length} held-out ${source.name} cells (${s.description})`);
    const crops: LabCrop[] = [];
    for (const i of pick) {
      const c = source.crops[i]!;
      crops.push(await applyLab({ crop: c, size: Math.round(Math.sqrt(c.length / 3)), box: source.boxes[i]! }, s.transforms, mixSeed(opts.seed, i)));
    }
    scoredFromSource.push({ name: s.name, kind: 'synthetic', trainedOn: source.name, description: s.description, rows: await measure(crops), labels: pick.map((i) => source.labels[i]!) });
  }
  if (opts.detector && source.imageOf) scoredFromSource.push(...(await detectedAgain(source, srcTest, opts.detector, opts.seed, syntheticSize, say, measure)));
  timings.synthetic = (performance.now() - tt) / 1000;

  // Augmented copies of each training cell, as train-classifier makes them (the cell's seed from its lab and index).
  tt = performance.now();
  const copies = opts.augmentCopies ?? MORPHOLOGY_AUGMENT_COPIES;
  const augment = async (l: LabeledLab, idx: readonly number[]): Promise<Pick<PreparedRun['jobs'][number], 'augRows' | 'augOf' | 'augCopy'>> => {
    const crops: LabCrop[] = [];
    const augOf: number[] = [];
    const augCopy: number[] = [];
    if (copies > 0) say(`${l.name}: ${copies} augmented copies of ${idx.length} training cells`);
    for (const [k, i] of idx.entries()) {
      if (copies <= 0) break;
      const c = l.crops[i]!;
      const made = await augmentCrop({ crop: c, size: Math.round(Math.sqrt(c.length / 3)), box: l.boxes[i]! }, copies, opts.seed, cellSeed(`${l.name}/${i}`));
      made.forEach((m, j) => {
        crops.push(m);
        augOf.push(k);
        augCopy.push(j);
      });
    }
    return { augRows: await measure(crops), augOf, augCopy };
  };

  // Classifiers: the source's training split; each other real lab whole (leave-one-lab-out).
  const jobs: PreparedRun['jobs'] = [];
  jobs.push({ trainedOn: source.name, rows: srcTrain.map((i) => srcRows[i]!), labels: srcTrain.map((i) => source.labels[i]!), allRows: srcRows, labs: scoredFromSource, ...(await augment(source, srcTrain)) });
  for (const l of labs.slice(1)) {
    const idx = keepIdx(l);
    const rows = rowsOf.get(l.name)!;
    const others: ScoredLab[] = [
      { name: source.name, kind: 'real', trainedOn: l.name, description: `held-out ${source.name} cells`, rows: srcTest.map((i) => srcRows[i]!), labels: srcTest.map((i) => source.labels[i]!) },
      ...labs.slice(1).filter((o) => o !== l).map((o): ScoredLab => {
        const oi = keepIdx(o);
        return { name: o.name, kind: 'real', trainedOn: l.name, description: `every labelled ${o.name} cell`, rows: oi.map((i) => rowsOf.get(o.name)![i]!), labels: oi.map((i) => o.labels[i]!) };
      }),
    ];
    jobs.push({ trainedOn: l.name, rows: idx.map((i) => rows[i]!), labels: idx.map((i) => l.labels[i]!), allRows: rows, labs: others, ...(await augment(l, idx)) });
  }
  timings.augment = (performance.now() - tt) / 1000;
  timings.total = (performance.now() - t0) / 1000;
  return { source: source.name, classes, jobs, timings };
}

/** What runUnseenLabs measures before it fits and scores: plain rows, so that it can be kept and scored again. */
export interface PreparedRun {
  source: string;
  classes: string[];
  /**
   * Per classifier: its training rows and labels (allRows: every cell of its lab) and the labs it scores; the
   * augmented copies' rows, the training row each was made from (augOf) and which copy of it (augCopy).
   */
  jobs: Array<{ trainedOn: string; rows: Float64Array[]; labels: string[]; allRows: Float64Array[]; labs: ScoredLab[]; augRows?: Float64Array[]; augOf?: number[]; augCopy?: number[] }>;
  timings: Record<string, number>;
  /** The detector model that found the real labs' cells, and why that one (variants.ts's reason); absent in older rows. */
  detector?: string;
}

/** Two labs together ("train on one or two"): each pair of a run's training labs, scored on the real labs in neither. */
export function pairJobs(run: PreparedRun): PreparedRun['jobs'] {
  const pairs: PreparedRun['jobs'] = [];
  for (let a = 0; a < run.jobs.length; a++) for (let b = a + 1; b < run.jobs.length; b++) {
    const [ja, jb] = [run.jobs[a]!, run.jobs[b]!];
    const name = `${ja.trainedOn}+${jb.trainedOn}`;
    const labs = ja.labs.filter((l) => l.kind === 'real' && l.name !== jb.trainedOn).map((l) => ({ ...l, trainedOn: name }));
    if (!labs.length) continue;
    const n = ja.rows.length;
    pairs.push({
      trainedOn: name, rows: [...ja.rows, ...jb.rows], labels: [...ja.labels, ...jb.labels], allRows: [...ja.allRows, ...jb.allRows], labs,
      augRows: [...(ja.augRows ?? []), ...(jb.augRows ?? [])], augOf: [...(ja.augOf ?? []), ...(jb.augOf ?? []).map((i) => i + n)], augCopy: [...(ja.augCopy ?? []), ...(jb.augCopy ?? [])],
    });
  }
  return pairs;
}

/**
 * The page's rule over candidates: the best worst selection lab; among the candidates within half a point of that
 * best, the best mean over the other labs. (A pairwise "within half a point" sort is not transitive: its pick would
 * depend on the order of the steps.)
 */
export function pickByWorst<T extends { worst: number; mean: number }>(candidates: readonly T[]): T {
  if (!candidates.length) throw new Error('pickByWorst: no candidate');
  const best = Math.max(...candidates.map((c) => c.worst));
  return candidates.filter((c) => c.worst >= best - 0.005).reduce((a, c) => (c.mean > a.mean ? c : a));
}

/** Fits each classifier and scores every step on its labs (the second half of runUnseenLabs). */
export function scoreUnseenLabs(run: PreparedRun, opts: Omit<UnseenLabsOptions, 'classes'>): UnseenLabsReport {
  const t0 = performance.now();
  const say = opts.onProgress ?? (() => undefined);
  const { classes } = run;
  const source = { name: run.source };
  const steps = [...(opts.steps ?? STAIN_STEPS)];
  const { trees, maxDepth, minSamplesLeaf, maxFeatures, augmentWeight, plainTreeShare } = forestSettings(opts);
  const syntheticSize = opts.syntheticSize ?? 120;
  const holdOut = opts.holdOut ?? 0.5;
  const timings: Record<string, number> = { ...run.timings };
  const copies = opts.augmentCopies ?? MORPHOLOGY_AUGMENT_COPIES;
  const measured = Math.max(0, ...run.jobs.flatMap((j) => (j.augCopy ?? []).map((c) => c + 1)));
  if (copies > measured) throw new Error(`unseen labs: ${copies} augmented copies asked for, the prepared rows have ${measured}`);
  const trainCells: Record<string, number> = {};
  let sourceModelBytes: number | undefined;
  let tt = performance.now();
  const pairs = opts.pairs ?? true ? pairJobs(run) : [];
  const jobs: Array<{ clf: CellClassifier; labs: ScoredLab[] }> = [...run.jobs, ...pairs].map((j) => {
    const augmented = preparedCopies(j, copies);
    say(`fitting the ${j.trainedOn} classifier on ${j.rows.length} cells${augmented ? ` and ${augmented.rows.length} augmented copies` : ''}`);
    const tf = performance.now();
    const clf = trainCellClassifier({
      rows: j.rows, labels: j.labels, classNames: classes, features: 'morphology', classMap: 'common5', stainRows: j.allRows,
      trees, maxDepth, minSamplesLeaf, maxFeatures, augmentWeight, plainTreeShare, seed: opts.seed, testFraction: 0, augmented, balanced: opts.balanced,
      keepTrainingCells: opts.selfTraining ?? false,
    }).classifier;
    if (j.trainedOn === source.name) {
      timings.fitSource = (performance.now() - tf) / 1000;
      sourceModelBytes = gzipSync(classifierToJson(clf)).length;
    }
    trainCells[j.trainedOn] = j.rows.length;
    return { clf, labs: j.labs };
  });
  timings.fit = (performance.now() - tt) / 1000;
  tt = performance.now();
  const scores: LabScore[] = [];
  for (const { clf, labs: scored } of jobs) {
    for (const lab of scored) {
      const role = isSelectionLab(lab, source.name) ? 'selection' : 'scoring';
      for (const step of steps) scores.push(scoreLab(clf, lab, step, classes, role, opts.selfTraining ?? false));
      say(`${lab.trainedOn} -> ${lab.name}: ${steps.map((s) => `${s} ${(100 * scores.find((x) => x.step === s && x.lab === lab.name && x.trainedOn === lab.trainedOn)!.accuracy).toFixed(1)}`).join(', ')}`);
    }
  }
  timings.score = (performance.now() - tt) / 1000;

  const summary = steps.map((step) => {
    const mine = scores.filter((s) => s.step === step);
    const out = mine.filter((s) => s.kind !== 'in-domain');
    const sel = out.filter((s) => s.role === 'selection');
    const sco = out.filter((s) => s.role === 'scoring');
    const worst = sco.reduce((a, b) => (b.accuracy < a.accuracy ? b : a), sco[0]!);
    return {
      step,
      selectionWorst: Math.min(...sel.map((s) => s.accuracy)),
      scoringWorst: { lab: `${worst.trainedOn} -> ${worst.lab}`, accuracy: worst.accuracy, ci95: worst.ci95 },
      mean: out.reduce((a, s) => a + s.accuracy, 0) / out.length,
      inDomain: mine.find((s) => s.kind === 'in-domain')?.accuracy ?? null,
      belowGoalSilent: out.filter((s) => s.accuracy < 0.75 && s.check !== 'failed').map((s) => `${s.trainedOn} -> ${s.lab}`),
      falseAlarms: out.filter((s) => s.accuracy >= 0.75 && s.check === 'failed').map((s) => `${s.trainedOn} -> ${s.lab}`),
    };
  });
  const estimators = steps.flatMap((step) => summariseEstimators(scores.filter((s) => s.step === step && s.kind !== 'in-domain'), step));
  // The rule, fixed before the run: the best worst selection lab; within 0.5 point of it, the best mean (pickByWorst).
  const chosen = pickByWorst(summary.map((x) => ({ step: x.step, worst: x.selectionWorst, mean: x.mean }))).step;
  const labList = jobs.flatMap(({ labs: ls }) => ls.map((l) => ({
    name: l.name, kind: l.kind, trainedOn: l.trainedOn, description: l.description, n: l.labels.length,
    classes: Object.fromEntries(classes.map((c) => [c, l.labels.filter((x) => x === c).length]).filter(([, n]) => (n as number) > 0)),
    role: (isSelectionLab(l, source.name) ? 'selection' : 'scoring') as LabScore['role'],
  })));
  timings.total = (performance.now() - t0) / 1000 + (run.timings.total ?? 0);
  return {
    format: 'leukograph-unseen-labs/1', created: new Date().toISOString(), source: source.name,
    settings: { seed: opts.seed, trees, maxDepth, minSamplesLeaf, maxFeatures, augmentWeight, plainTreeShare, balanced: opts.balanced ?? FOREST_DEFAULTS.balanced, syntheticSize, holdOut, steps, augmentCopies: copies, trainCells, sourceModelBytes, selfTraining: opts.selfTraining ?? false },
    labs: labList, scores, summary, chosen, estimators, timings,
  };
}

/**
 * The page's rule read over forest seeds: each step's worst selection lab at every seed, and the step whose worst
 * over the seeds is best (within 0.5 point of that best, the best mean over the other labs, averaged over the seeds). One seed's
 * worst selection lab moves by up to 5 points with the forest seed alone (docs/forest-recipe.md), more than the
 * steps differ by, so the default is chosen over several.
 */
export interface SeedRule {
  seeds: number[];
  steps: Array<{ step: StainStep; worstBySeed: number[]; worst: number; mean: number; inDomainBySeed: Array<number | null> }>;
  chosen: StainStep;
}

/** ruleOverSeeds: the same steps scored on the same labs at each forest seed (scoreUnseenLabs with another `seed`). */
export function ruleOverSeeds(reports: readonly UnseenLabsReport[]): SeedRule {
  if (!reports.length) throw new Error('ruleOverSeeds: no report');
  const stepsOf = (r: UnseenLabsReport) => r.summary.map((x) => x.step).join(',');
  const bad = reports.find((r) => stepsOf(r) !== stepsOf(reports[0]!));
  if (bad) throw new Error(`ruleOverSeeds: the reports score other steps (${stepsOf(bad)} against ${stepsOf(reports[0]!)})`);
  const steps = reports[0]!.summary.map(({ step }) => {
    const rows = reports.map((r) => r.summary.find((x) => x.step === step)!);
    const worstBySeed = rows.map((x) => x.selectionWorst);
    return { step, worstBySeed, worst: Math.min(...worstBySeed), mean: rows.reduce((a, x) => a + x.mean, 0) / rows.length, inDomainBySeed: rows.map((x) => x.inDomain) };
  });
  const chosen = pickByWorst(steps).step;
  return { seeds: reports.map((r) => r.settings.seed), steps, chosen };
}

/**
 * Whether the checks other than confidence fail the count by themselves: one of them failed, or enough of them warned
 * together (SELF_CHECK_LIMITS.warningsFail). The confidence check's estimators are compared on top of these.
 */
function otherChecksFail(verdicts: readonly CheckVerdict[]): boolean {
  return wholeFails(verdicts.filter((v) => v.check !== 'confidence').map((v) => v.status));
}

/** A prepared job's first `copies` augmented copies of each training cell, as trainCellClassifier takes them (none: undefined). */
export function preparedCopies(j: PreparedRun['jobs'][number], copies: number): { rows: Float64Array[]; of: number[] } | undefined {
  const keep = (j.augCopy ?? []).flatMap((c, k) => (c < copies ? [k] : []));
  return keep.length ? { rows: keep.map((k) => j.augRows![k]!), of: keep.map((k) => j.augOf![k]!) } : undefined;
}

/** Each way of holding the confidence check on one step's out-of-domain labs (the other checks as they ran). */
export function summariseEstimators(labs: readonly LabScore[], step: StainStep): EstimatorSummary[] {
  const L = SELF_CHECK_LIMITS;
  const selection = labs.filter((s) => s.role === 'selection');
  const below = labs.filter((s) => s.accuracy < 0.75);
  const fine = labs.filter((s) => s.accuracy >= 0.75);
  const mae = (ls: readonly LabScore[], e: (typeof ACCURACY_ESTIMATORS)[number]) => {
    const known = ls.filter((s) => s.estimates);
    return known.length ? known.reduce((a, s) => a + Math.abs(s.estimates![e] - s.accuracy), 0) / known.length : null;
  };
  // Each way warns as far above its fail limit as the job's own check does (accuracyWarn - accuracyFail; fixed: confidenceWarn).
  const ways: Array<{ estimator: EstimatorSummary['estimator']; failAt: number | null; fails: (s: LabScore) => boolean | null; warns: (s: LabScore) => boolean }> = [
    { estimator: 'fixed', failAt: null, fails: (s) => s.meanConfidence <= L.confidenceFail, warns: (s) => s.meanConfidence < L.confidenceWarn },
    ...ACCURACY_ESTIMATORS.flatMap((e) => [0.75, 0.75 + (mae(selection, e) ?? 0)].map((at) => ({
      estimator: e, failAt: at, fails: (s: LabScore) => (s.estimates ? s.estimates[e] < at : null),
      // Without a calibration the job holds the fixed limits: its warning then is the mean confidence's.
      warns: (s: LabScore) => (s.estimates ? s.estimates[e] < at + (L.accuracyWarn - L.accuracyFail) : s.meanConfidence < L.confidenceWarn),
    }))),
  ];
  return ways.map(({ estimator, failAt, fails, warns }) => {
    // As the job decides: another check failed, this one failed, or enough warned together (this one's warning counted).
    const failed = (s: LabScore) =>
      s.otherChecksFailed || wholeFails([...Array<CheckStatus>(s.otherWarnings ?? 0).fill('warning'), fails(s) === true ? 'failed' : warns(s) ? 'warning' : 'passed']);
    const alarms = fine.filter(failed);
    return {
      step, estimator, failAt,
      mae: estimator === 'fixed'
        ? { selection: null, scoring: null, all: null }
        : { selection: mae(selection, estimator), scoring: mae(labs.filter((s) => s.role === 'scoring'), estimator), all: mae(labs, estimator) },
      belowGoalFailed: [below.filter(failed).length, below.length],
      belowGoalCaughtAlone: below.filter((s) => fails(s) === true).length,
      falseAlarms: [alarms.length, fine.length],
      falseAlarmLabs: alarms.map((s) => `${s.trainedOn} -> ${s.lab}${s.role === 'selection' ? ' (selection)' : ''}`),
    };
  });
}

export const p1 = (v: number) => (100 * v).toFixed(1);
export const ci = (c: readonly [number, number]) => `${p1(c[0])}-${p1(c[1])}`;
/** Cells per class, as the page writes them ("neut 202, lymp 33"); classes without cells left out. */
export const countsText = (counts: Record<string, number>) => Object.entries(counts).filter(([, n]) => n > 0).map(([c, n]) => `${c.slice(0, 4)} ${n}`).join(', ');

/** The forest's settings beyond trees and depth, where they are not the forest's own defaults. */
function forestExtras(s: UnseenLabsReport['settings']): string {
  const leaf = s.minSamplesLeaf ?? 1;
  const feats = s.maxFeatures ?? 'sqrt';
  return `${leaf !== 1 ? `, leaves of at least ${leaf} cells` : ''}${feats !== 'sqrt' ? `, ${feats} features tried per split` : ''}${s.balanced ? ', classes weighted inversely to their frequency' : ''}`;
}

/** The Markdown page (docs/unseen-labs.md). */
/** Spearman's rank correlation (average ranks for ties); null under 3 pairs or with a constant side. */
export function spearman(a: readonly number[], b: readonly number[]): number | null {
  if (a.length !== b.length || a.length < 3) return null;
  const ranks = (v: readonly number[]) => {
    const order = v.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(v.length);
    for (let i = 0; i < order.length; ) {
      let j = i;
      while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
      for (let k = i; k <= j; k++) r[order[k]![1]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (v: number[]) => v.reduce((x, y) => x + y, 0) / v.length;
  const ma = mean(ra);
  const mb = mean(rb);
  let num = 0;
  let da = 0;
  let db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return da && db ? num / Math.sqrt(da * db) : null;
}

/** Whether the flags rise as accuracy falls across labs: as the job flags, and cell by cell (now, and at the ATC cut). */
function flagSection(lines: string[], labs: readonly LabScore[]): void {
  const withCells = labs.filter((s) => s.cellFlags);
  if (!withCells.length) return;
  const rho = (of: readonly LabScore[], flags: (s: LabScore) => number) => {
    const x = spearman(of.map(flags), of.map((s) => s.accuracy));
    return x === null ? '—' : x.toFixed(2);
  };
  const everyAtc = withCells.every((s) => s.cellFlags!.atc);
  const passed = withCells.filter((s) => s.check !== 'failed');
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${p1(v)} %`);
  lines.push('', '## Flags against accuracy (the default step, out-of-domain labs)', '');
  lines.push(
    `Whether the share of cells flagged rises as a lab's accuracy falls: Spearman's rank correlation over the ${withCells.length} labs between the share flagged and the accuracy ` +
      `(-1: the less accurate a lab, the more of it is flagged). As the job flags (a failed self-check flags every cell): ${rho(withCells, (s) => s.flagged)}. ` +
      `Cell by cell, without the lab's check (novel, or top probability under the file's minConfidence): ${rho(withCells, (s) => s.cellFlags!.now.flagged)}` +
      (everyAtc ? `; with a cell also flagged at or under its forest's ATC threshold (the calibration's per-cell cut, src/engine/classifier/accuracy-estimate.ts): ${rho(withCells, (s) => s.cellFlags!.atc!.flagged)}` : '') +
      `. Among the ${passed.length} labs whose check did not fail (their cells are counted, so their flags are what a user sees): ${rho(passed, (s) => s.cellFlags!.now.flagged)} now` +
      (everyAtc ? `, ${rho(passed, (s) => s.cellFlags!.atc!.flagged)} at the ATC cut` : '') + '.',
    '',
  );
  lines.push('| trained on -> lab | accuracy | check | flagged by the job | cell by cell: flagged · accuracy on the rest | at the ATC cut: flagged · accuracy on the rest |');
  lines.push('| --- | ---: | --- | ---: | --- | --- |');
  for (const s of [...withCells].sort((a, b) => b.accuracy - a.accuracy)) {
    const c = s.cellFlags!;
    lines.push(`| ${s.trainedOn} -> ${s.lab} | ${p1(s.accuracy)} % | ${s.check} | ${Math.round(100 * s.flagged)} % | ${Math.round(100 * c.now.flagged)} % · ${pct(c.now.unflaggedAccuracy)} | ${c.atc ? `${Math.round(100 * c.atc.flagged)} % · ${pct(c.atc.unflaggedAccuracy)}` : '—'} |`);
  }
}

export function renderUnseenLabs(r: UnseenLabsReport, ctx: { command: string; machine: string; preamble?: string; defaultStep: StainStep; afterSummary?: string; title?: string }): string {
  const steps = r.settings.steps;
  const lines: string[] = [];
  lines.push(`# ${ctx.title ?? 'Labs nobody tuned for: worst-lab accuracy of the classify job\'s stain steps'}`, '');
  lines.push(`Produced by \`${ctx.command}\` (${r.created.slice(0, 10)}; ${ctx.machine}; ${r.timings.total.toFixed(0)} s).`, '');
  if (ctx.preamble) lines.push(ctx.preamble, '');
  lines.push(
    `Every figure is the classify job's own path (\`src/pipeline/lab-classification.ts\`: stain step, forest, self-check) on a morphology ` +
      `classifier built as \`train-classifier --features morphology\` builds one (${r.settings.trees} trees, depth ${r.settings.maxDepth}${forestExtras(r.settings)}, seed ${r.settings.seed}; ` +
      `training cells: ${Object.entries(r.settings.trainCells ?? {}).map(([l, n]) => `${l} ${n}`).join(', ')}; ` +
      `${r.settings.augmentCopies ? `each with ${r.settings.augmentCopies} augmented copies of its crop, src/pipeline/augment.ts${(r.settings.augmentWeight ?? 1) !== 1 ? `, each copy weighing ${r.settings.augmentWeight} of its cell` : ''}${r.settings.plainTreeShare ? `; ${Math.round(100 * r.settings.plainTreeShare)} % of the trees fitted without the copies` : ''}` : 'no augmented copies'}). ` +
      `Accuracy is over every labelled cell of a lab, flagged or not; the interval is the 95 % Wilson interval. The stain step was chosen by its worst ` +
      `accuracy on the **selection** labs only (the rule: the best worst selection lab; among the steps within 0.5 point of it, the best mean over the other labs); the **scoring** labs then say how ` +
      `it holds on labs it was not chosen on.`,
    '',
  );
  lines.push('## Summary', '');
  lines.push('| stain step | worst selection lab | worst scoring lab (95 % interval) | mean over the other labs | in-domain (held-out source cells) | labs under 75 % without a failed self-check | labs at 75 % or more whose self-check failed |');
  lines.push('| --- | ---: | --- | ---: | ---: | --- | --- |');
  const chosen = r.rule?.chosen ?? r.chosen;
  for (const s of r.summary) {
    const mark = s.step === chosen ? (r.rule ? ` (chosen over seeds ${r.rule.seeds[0]}-${r.rule.seeds[r.rule.seeds.length - 1]})` : ' (chosen)') : '';
    const def = s.step === ctx.defaultStep ? ' **default**' : '';
    lines.push(`| ${s.step}${mark}${def} | ${p1(s.selectionWorst)} % | ${p1(s.scoringWorst.accuracy)} % (${ci(s.scoringWorst.ci95)}), ${s.scoringWorst.lab} | ${p1(s.mean)} % | ${s.inDomain === null ? '—' : p1(s.inDomain) + ' %'} | ${s.belowGoalSilent.length ? s.belowGoalSilent.join(', ') : 'none'} | ${s.falseAlarms.length} of ${r.scores.filter((x) => x.step === s.step && x.kind !== 'in-domain' && x.accuracy >= 0.75).length} |`);
  }
  lines.push('', 'Goals (issue 17): the default\'s worst lab >= 70 %, in-domain >= 98 %, and every lab either >= 75 % or the job\'s self-check fails.', '');
  const routed = r.scores.filter((s) => s.step === ctx.defaultStep && s.forest === 'plain').map((s) => `${s.trainedOn} -> ${s.lab}`);
  if (r.scores.some((s) => s.forest !== null && s.forest !== undefined)) {
    lines.push(`Forest routing (lab-classification.ts, PLAIN_FOREST_ROUTING): the plain forest classified ${routed.length ? routed.join(', ') : 'no lab'}; every other lab the augmented forest (the morphology shift per lab: the self-check table below).`, '');
  }
  if (r.rule) {
    const seeds = r.rule.seeds;
    lines.push(`### The rule over forest seeds ${seeds.join(', ')}`, '');
    lines.push(
      `Each step's worst selection lab with the classifiers fitted at each forest seed (the same cells, split and labs; the tables on this page are seed ${seeds[0]}'s). ` +
        `The rule takes the step whose worst over the seeds is best: one seed's worst selection lab moves with the forest seed alone by as much as the steps differ.`,
      '',
    );
    const range = (v: Array<number | null>) => {
      const k = v.filter((x): x is number => x !== null);
      return k.length ? `${p1(Math.min(...k))}-${p1(Math.max(...k))} %` : '—';
    };
    lines.push(`| stain step | ${seeds.map((x) => `seed ${x}`).join(' | ')} | worst over the seeds | mean over the other labs (seeds' mean) | in-domain over the seeds |`);
    lines.push(`| --- | ${seeds.map(() => '---:').join(' | ')} | ---: | ---: | ---: |`);
    for (const x of r.rule.steps) lines.push(`| ${x.step}${x.step === r.rule.chosen ? ' (chosen)' : ''}${x.step === ctx.defaultStep ? ' **default**' : ''} | ${x.worstBySeed.map((v) => `${p1(v)} %`).join(' | ')} | ${p1(x.worst)} % | ${p1(x.mean)} % | ${range(x.inDomainBySeed)} |`);
    lines.push('');
    if (r.chosen !== r.rule.chosen) lines.push(`At seed ${seeds[0]} alone the rule would pick ${r.chosen}.`, '');
  }
  if (chosen !== ctx.defaultStep) {
    lines.push(`**The rule chose ${chosen}, the default is ${ctx.defaultStep}: the default is out of date.** Change DEFAULT_STAIN_STEP (src/engine/classifier/stain-steps.ts) or say here why not.`, '');
  }
  if (ctx.afterSummary) lines.push(ctx.afterSummary, '');
  lines.push('## Every lab', '');
  lines.push(`Accuracy, % (95 % interval) · the self-check's verdict (✗ failed, ! warning, ✓ passed) · share of cells flagged.`, '');
  lines.push(`| trained on -> lab | role | n | ${steps.join(' | ')} |`);
  lines.push(`| --- | --- | ---: | ${steps.map(() => '---').join(' | ')} |`);
  const keys = [...new Set(r.scores.map((s) => `${s.trainedOn}\u0000${s.lab}`))];
  for (const k of keys) {
    const [t, l] = k.split('\u0000');
    const row = r.scores.filter((s) => s.trainedOn === t && s.lab === l);
    const first = row[0]!;
    const mark = (s: LabScore) => (s.check === 'failed' ? '✗' : s.check === 'warning' ? '!' : '✓');
    lines.push(`| ${t} -> ${l}${first.kind === 'in-domain' ? ' (in-domain)' : ''} | ${first.role} | ${first.n} | ${steps.map((st) => {
      const s = row.find((x) => x.step === st)!;
      return `${p1(s.accuracy)} (${ci(s.ci95)}) ${mark(s)} ${Math.round(100 * s.flagged)} %`;
    }).join(' | ')} |`);
  }
  lines.push('', '## What the self-check said (the default step)', '');
  lines.push(`Estimated accuracy: through each classifier's own calibration (src/engine/classifier/accuracy-estimate.ts; DoC, ATC on the top probability, ATC on the entropy).`, '');
  lines.push('| trained on -> lab | accuracy | macro F1 | verdict | checks that fired | view agreement | mean confidence | estimated: DoC / ATC / ATC-NE | predicted mix | forest (morphology shift / stain shift) |');
  lines.push('| --- | ---: | ---: | --- | --- | ---: | ---: | --- | --- | --- |');
  for (const s of r.scores.filter((x) => x.step === ctx.defaultStep)) {
    const mix = Object.entries(s.predictedMix).filter(([, v]) => v >= 0.005).sort((a, b) => b[1] - a[1]).map(([c, v]) => `${c.slice(0, 4)} ${Math.round(100 * v)}`).join(', ');
    const est = s.estimates ? `${p1(s.estimates.doc)} / ${p1(s.estimates.atc_max)} / ${p1(s.estimates.atc_entropy)}` : '—';
    lines.push(`| ${s.trainedOn} -> ${s.lab} | ${p1(s.accuracy)} % | ${s.macroF1 === null ? '—' : p1(s.macroF1) + ' %'} | ${s.check} | ${s.checkFired.join(', ') || '—'} | ${s.agreement === null ? '—' : p1(s.agreement) + ' %'} | ${p1(s.meanConfidence)} % | ${est} | ${mix} | ${s.forest ?? '—'}${s.morphologyShift === null || s.morphologyShift === undefined ? '' : ` (${s.morphologyShift.toFixed(2)} / ${s.stainShift === null ? '—' : s.stainShift.toFixed(2)})`} |`);
  }
  const real = r.scores.filter((x) => x.step === ctx.defaultStep && x.kind !== 'synthetic' && x.perClass);
  if (real.length) {
    lines.push('', '## Where the errors are (the default step, real labs)', '');
    lines.push('Per class of the lab\'s labels: the cells given that class, of its cells. A class the training lab had few cells of (each lab\'s class counts: "The labs" below) is rarely given, on any lab.', '');
    const cls = [...new Set(real.flatMap((x) => Object.keys(x.perClass!)))];
    lines.push(`| trained on -> lab | accuracy | ${cls.join(' | ')} |`, `| --- | ---: | ${cls.map(() => '---:').join(' | ')} |`);
    for (const x of real) lines.push(`| ${x.trainedOn} -> ${x.lab} | ${p1(x.accuracy)} % | ${cls.map((c) => (x.perClass![c] ? `${x.perClass![c]!.right}/${x.perClass![c]!.n}` : '—')).join(' | ')} |`);
  }
  const ests = (r.estimators ?? []).filter((e) => e.step === ctx.defaultStep);
  if (ests.length) {
    lines.push('', `## The confidence check held each way (the default step, out-of-domain labs)`, '');
    lines.push('`fixed`: the mean confidence against the fixed limits (a classifier file without a calibration); the others: the estimated accuracy, failing under 75 % or under 75 % plus the estimator\'s mean abs error on the selection labs. The other checks as they ran. ' +
      `The job holds ${DEFAULT_ACCURACY_ESTIMATOR} against ${p1(SELF_CHECK_LIMITS.accuracyFail)} % (docs/self-check.md).`, '');
    lines.push('| confidence check | fails under | mean abs error: selection / scoring / all labs | labs under 75 % that fail | of them, failed by this check alone | labs at 75 % or more that fail (false alarms) |');
    lines.push('| --- | ---: | --- | ---: | ---: | --- |');
    const m = (v: number | null) => (v === null ? '—' : p1(v));
    for (const e of ests) {
      lines.push(`| ${e.estimator} | ${e.failAt === null ? 'mean confidence ' + SELF_CHECK_LIMITS.confidenceFail : p1(e.failAt) + ' %'} | ${m(e.mae.selection)} / ${m(e.mae.scoring)} / ${m(e.mae.all)} points | ${e.belowGoalFailed[0]} of ${e.belowGoalFailed[1]} | ${e.belowGoalCaughtAlone} | ${e.falseAlarms[0]} of ${e.falseAlarms[1]}${e.falseAlarmLabs.length ? ` (${e.falseAlarmLabs.join(', ')})` : ''} |`);
    }
  }
  flagSection(lines, r.scores.filter((x) => x.step === ctx.defaultStep && x.kind !== 'in-domain'));
  lines.push('', '## The labs', '');
  lines.push('| lab | trained on | role | cells | classes | what it is |', '| --- | --- | --- | ---: | --- | --- |');
  for (const l of r.labs) lines.push(`| ${l.name} | ${l.trainedOn} | ${l.role} | ${l.n} | ${countsText(l.classes)} | ${l.description} |`);
  lines.push('', `Wilson intervals: src/pipeline/metrics.ts. Timings (s): ${Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}.`, '');
  return lines.join('\n');
}

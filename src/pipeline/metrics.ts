// Classification metrics for the evaluation report: confusion matrix (matrix[true][pred]), accuracy,
// balanced accuracy, per-class precision/recall/F1/support, and macro F1 over well-supported classes.

export type Label = string | number;

export interface ConfusionMatrix<L extends Label = string> {
  readonly labels: L[];
  /** matrix[i][j]: rows whose true label is labels[i] and predicted label is labels[j]. */
  readonly matrix: number[][];
}

export interface ClassMetrics<L extends Label = string> {
  readonly label: L;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Rows whose true label is this class. */
  readonly support: number;
}

export interface ClassificationReport<L extends Label = string> {
  readonly n: number;
  readonly accuracy: number;
  /** Accuracy's 95 % Wilson interval over the n rows (wilsonInterval). */
  readonly accuracyCi95: [number, number];
  readonly balancedAccuracy: number;
  /** Mean F1 over `macroF1Classes`; null when no class has enough support. */
  readonly macroF1: number | null;
  readonly minSupport: number;
  readonly macroF1Classes: L[];
  /** Labels left out of macro F1 for having fewer than minSupport true rows. */
  readonly excludedClasses: L[];
  readonly perClass: ClassMetrics<L>[];
  readonly confusion: ConfusionMatrix<L>;
}

export interface ReportOptions<L extends Label> {
  /** Label order of the matrix; default the sorted union of true and predicted labels. */
  readonly labels?: readonly L[];
  /** Classes with fewer true rows are left out of macro F1. Default 5 (issue 5). */
  readonly minSupport?: number;
}

function compareLabels(a: Label, b: Label): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/**
 * Counts (true, predicted) pairs. With `labels` given, a label outside it throws, so a typo in a
 * class map cannot silently drop rows.
 */
export function confusionMatrix<L extends Label>(yTrue: readonly L[], yPred: readonly L[], labels?: readonly L[]): ConfusionMatrix<L> {
  if (yTrue.length !== yPred.length) throw new Error(`confusion matrix: ${yTrue.length} true labels but ${yPred.length} predictions`);
  if (yTrue.length === 0) throw new Error('confusion matrix: no rows');
  const order = labels ? [...labels] : [...new Set<L>([...yTrue, ...yPred])].sort(compareLabels);
  const index = new Map<L, number>();
  order.forEach((l, i) => {
    if (index.has(l)) throw new Error(`confusion matrix: label ${String(l)} is listed twice`);
    index.set(l, i);
  });
  const matrix = order.map(() => new Array<number>(order.length).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const t = index.get(yTrue[i]);
    const p = index.get(yPred[i]);
    if (t === undefined) throw new Error(`confusion matrix: true label ${String(yTrue[i])} at row ${i} is not among the labels`);
    if (p === undefined) throw new Error(`confusion matrix: predicted label ${String(yPred[i])} at row ${i} is not among the labels`);
    matrix[t][p]++;
  }
  return { labels: order, matrix };
}

function total(cm: ConfusionMatrix<Label>): number {
  let n = 0;
  for (const row of cm.matrix) for (const v of row) n += v;
  return n;
}

function correct(cm: ConfusionMatrix<Label>): number {
  return cm.matrix.reduce((s, row, i) => s + row[i], 0);
}

export function accuracy(cm: ConfusionMatrix<Label>): number {
  return correct(cm) / total(cm);
}

/**
 * Wilson score interval of a proportion (95 % with the default z): how far the accuracy measured on n cells
 * may lie from the accuracy on the lab's whole population, from the test set's size alone. A lab scored on
 * 100 cells cannot tell 69 % from 75 %; the interval says so where a bare percentage does not. Wilson rather
 * than the normal approximation because it stays inside [0, 1] and is sensible at 0 or n successes.
 */
export function wilsonInterval(successes: number, n: number, z = 1.959964): [number, number] {
  if (!Number.isInteger(n) || n <= 0) throw new Error(`wilson interval: n must be a positive integer, got ${n}`);
  if (!Number.isInteger(successes) || successes < 0 || successes > n) {
    throw new Error(`wilson interval: successes must be an integer in [0, ${n}], got ${successes}`);
  }
  const p = successes / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // At 0 or n successes the bound is exactly 0 or 1 (the formula gives it up to rounding).
  return [successes === 0 ? 0 : Math.max(0, centre - half), successes === n ? 1 : Math.min(1, centre + half)];
}

/** Precision, recall and F1 per label; a ratio with a zero denominator is 0 (scikit-learn's zero_division=0). */
export function perClassMetrics<L extends Label>(cm: ConfusionMatrix<L>): ClassMetrics<L>[] {
  const k = cm.labels.length;
  return cm.labels.map((label, i) => {
    const tp = cm.matrix[i][i];
    let support = 0;
    let predicted = 0;
    for (let j = 0; j < k; j++) {
      support += cm.matrix[i][j];
      predicted += cm.matrix[j][i];
    }
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support };
  });
}

/** Mean recall over the classes that occur among the true labels (scikit-learn's balanced_accuracy_score). */
export function balancedAccuracy(cm: ConfusionMatrix<Label>): number {
  const present = perClassMetrics(cm).filter((m) => m.support > 0);
  return present.reduce((s, m) => s + m.recall, 0) / present.length;
}

/** Macro F1 over classes with at least `minSupport` true rows, and which classes were in and out. */
export function macroF1<L extends Label>(cm: ConfusionMatrix<L>, minSupport = 5): { macroF1: number | null; included: L[]; excluded: L[] } {
  const metrics = perClassMetrics(cm);
  const inside = metrics.filter((m) => m.support >= minSupport);
  return {
    macroF1: inside.length > 0 ? inside.reduce((s, m) => s + m.f1, 0) / inside.length : null,
    included: inside.map((m) => m.label),
    excluded: metrics.filter((m) => m.support < minSupport).map((m) => m.label),
  };
}

/** Everything the evaluation report shows for one domain. */
export function classificationReport<L extends Label>(
  yTrue: readonly L[],
  yPred: readonly L[],
  options: ReportOptions<L> = {},
): ClassificationReport<L> {
  const minSupport = options.minSupport ?? 5;
  if (!Number.isInteger(minSupport) || minSupport < 0) {
    throw new Error(`classification report: minSupport must be a non-negative integer, got ${minSupport}`);
  }
  const confusion = confusionMatrix(yTrue, yPred, options.labels);
  const f1 = macroF1(confusion, minSupport);
  return {
    n: yTrue.length,
    accuracy: accuracy(confusion),
    accuracyCi95: wilsonInterval(correct(confusion), yTrue.length),
    balancedAccuracy: balancedAccuracy(confusion),
    macroF1: f1.macroF1,
    minSupport,
    macroF1Classes: f1.included,
    excludedClasses: f1.excluded,
    perClass: perClassMetrics(confusion),
    confusion,
  };
}

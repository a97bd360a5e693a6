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

export function accuracy(cm: ConfusionMatrix<Label>): number {
  let correct = 0;
  cm.matrix.forEach((row, i) => (correct += row[i]));
  return correct / total(cm);
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
    balancedAccuracy: balancedAccuracy(confusion),
    macroF1: f1.macroF1,
    minSupport,
    macroF1Classes: f1.included,
    excludedClasses: f1.excluded,
    perClass: perClassMetrics(confusion),
    confusion,
  };
}

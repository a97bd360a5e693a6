// How the command line shows a classify or analyze job's agreement with the images' labels: accuracy,
// balanced accuracy and the confusion matrix, as the server's typed result gives them.

export interface AgreementView {
  scored: number;
  correct: number;
  accuracy: number | null;
  balancedAccuracy: number | null;
  confusion: { labels: string[]; matrix: number[][] };
}

export interface LabelAgreementView extends AgreementView {
  flagged: number;
  classMap: string;
  bestGuess?: AgreementView | null;
}

const pct = (v: number | null) => (v === null ? '—' : `${(100 * v).toFixed(1)} %`);

/** The confusion matrix as aligned text: rows are the labels, columns what the cells were called. */
export function confusionTable(c: AgreementView['confusion']): string {
  const w = Math.max(8, ...c.labels.map((l) => l.length)) + 2;
  const head = 'label \\ called'.padEnd(w) + c.labels.map((l) => l.slice(0, 12).padStart(13)).join('');
  const rows = c.labels.map((l, i) => l.padEnd(w) + c.matrix[i]!.map((n) => String(n).padStart(13)).join(''));
  return [head, ...rows].join('\n');
}

export function agreementTable(a: LabelAgreementView): string {
  const lines = [
    `Against the labels (${a.classMap}): accuracy ${pct(a.accuracy)}, balanced accuracy ${pct(a.balancedAccuracy)} on ${a.scored} labelled cells given a class; ${a.flagged} labelled cells flagged`,
  ];
  if (a.bestGuess && a.bestGuess.scored) {
    lines.push(`  every labelled cell by its best guess (flagged ones too): accuracy ${pct(a.bestGuess.accuracy)}, balanced accuracy ${pct(a.bestGuess.balancedAccuracy)} on ${a.bestGuess.scored}`);
  }
  if (a.confusion.labels.length) lines.push(confusionTable(a.confusion));
  return lines.join('\n');
}

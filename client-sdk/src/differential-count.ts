// What a differential count is, written once: which cells count (complete cells with a class), which are
// shown apart (flagged, by reason; not classified), and which are left out (cut by the image border, the
// counting-frame rule of a manual count). The server's typed job results, this SDK, the dashboard (which
// loads the compiled file from the server) and the CLI all count with this module, so a job shows one count
// everywhere. It imports nothing, so that the server compiles it from source and never needs the SDK's build.

/** Why a cell got no class (CellPrediction.flagReason). */
export type FlagReasonName = 'NOVEL' | 'LOW_CONFIDENCE' | 'SELF_CHECK' | 'OTHER';

/** What the count reads of a cell: the fields of the Cell type it needs, as any client selects them. */
export interface CountableCell {
  /** True when the image border cuts the cell; null when unknown (counted as complete). */
  cutByBorder?: boolean | null;
  prediction?: {
    label: string | null;
    flagged: boolean;
    /** FlagReason; older servers send only `reason`, a sentence, read by flagReasonOf. */
    flagReason?: FlagReasonName | string | null;
    reason?: string | null;
  } | null;
}

/** Where one cell goes in the count. */
export type CellTally =
  | { kind: 'counted'; label: string }
  | { kind: 'flagged'; reason: FlagReasonName }
  | { kind: 'unclassified' }
  | { kind: 'cutByBorder' };

export interface ClassShare {
  label: string;
  count: number;
  /** count / counted (0 when nothing is counted). */
  fraction: number;
}

export interface ReasonCount {
  reason: FlagReasonName;
  count: number;
}

export interface DifferentialCount {
  /** Every cell looked at. */
  cells: number;
  /** Complete cells with a class: the count's denominator. */
  counted: number;
  /** Counted cells per class, most frequent first (ties by name). */
  byClass: ClassShare[];
  /** Complete cells the classifier would not name (unlike its training cells, or unsure), shown apart. */
  flagged: number;
  flaggedByReason: ReasonCount[];
  /** Complete cells without a prediction (no classifier yet, or not classified by it). */
  unclassified: number;
  /** Cells the image border cuts: left out, whatever their class. */
  cutByBorder: number;
}

/**
 * The reason code of a flagged prediction. Servers since schema 2 send `flagReason`; before, only the
 * sentence the classifier writes ("unlike the training cells (...)", "low confidence (...)").
 */
export function flagReasonOf(p: { flagReason?: string | null; reason?: string | null }): FlagReasonName {
  if (p.flagReason === 'NOVEL' || p.flagReason === 'LOW_CONFIDENCE' || p.flagReason === 'SELF_CHECK' || p.flagReason === 'OTHER') return p.flagReason;
  const r = (p.reason ?? '').trim().toLowerCase();
  if (r.startsWith('unlike the training')) return 'NOVEL';
  if (r.startsWith('low confidence')) return 'LOW_CONFIDENCE';
  // A classify job whose self-check failed withholds every class it would have counted (engine/classifier/self-check.ts).
  if (r.startsWith('self-check failed')) return 'SELF_CHECK';
  return 'OTHER';
}

/** The rule: border first, then no prediction, then flagged, else counted under its class. */
export function tallyOf(cell: CountableCell): CellTally {
  if (cell.cutByBorder === true) return { kind: 'cutByBorder' };
  const p = cell.prediction;
  if (!p) return { kind: 'unclassified' };
  if (p.flagged || !p.label) return { kind: 'flagged', reason: flagReasonOf(p) };
  return { kind: 'counted', label: p.label };
}

const REASONS: readonly FlagReasonName[] = ['NOVEL', 'LOW_CONFIDENCE', 'SELF_CHECK', 'OTHER'];

/** A running count: add cells as they stream in, read `result()` at any time. */
export class DifferentialTally {
  private readonly classes = new Map<string, number>();
  private readonly reasons = new Map<FlagReasonName, number>();
  private cells = 0;
  private flagged = 0;
  private unclassified = 0;
  private cut = 0;

  /** Adds one cell; returns where it went. */
  add(cell: CountableCell): CellTally {
    const t = tallyOf(cell);
    this.cells++;
    if (t.kind === 'counted') this.classes.set(t.label, (this.classes.get(t.label) ?? 0) + 1);
    else if (t.kind === 'flagged') {
      this.flagged++;
      this.reasons.set(t.reason, (this.reasons.get(t.reason) ?? 0) + 1);
    } else if (t.kind === 'unclassified') this.unclassified++;
    else this.cut++;
    return t;
  }

  result(): DifferentialCount {
    const counted = [...this.classes.values()].reduce((a, n) => a + n, 0);
    return {
      cells: this.cells,
      counted,
      byClass: [...this.classes]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
        .map(([label, count]) => ({ label, count, fraction: counted ? count / counted : 0 })),
      flagged: this.flagged,
      flaggedByReason: REASONS.filter((r) => this.reasons.has(r)).map((reason) => ({ reason, count: this.reasons.get(reason)! })),
      unclassified: this.unclassified,
      cutByBorder: this.cut,
    };
  }
}

/** The differential count of a set of cells. */
export function differentialCount(cells: Iterable<CountableCell>): DifferentialCount {
  const t = new DifferentialTally();
  for (const c of cells) t.add(c);
  return t.result();
}

const REASON_TEXT: Record<FlagReasonName, string> = {
  NOVEL: 'unlike the training cells',
  LOW_CONFIDENCE: 'low confidence',
  SELF_CHECK: "withheld: the job's self-check failed",
  OTHER: 'other',
};

/** What a reason code means, in words. */
export function flagReasonText(r: FlagReasonName): string {
  return REASON_TEXT[r];
}

/** One line: "12 cells · neutrophil 7 (70.0 %) · lymphocyte 3 (30.0 %) · flagged 1 · cut by the border 1". */
export function differentialLine(d: DifferentialCount): string {
  const pct = (f: number) => `${(100 * f).toFixed(1)} %`;
  return [
    `${d.cells} cells`,
    ...d.byClass.map((c) => `${c.label} ${c.count} (${pct(c.fraction)})`),
    ...(d.flagged ? [`flagged ${d.flagged}`] : []),
    ...(d.unclassified ? [`not classified ${d.unclassified}`] : []),
    ...(d.cutByBorder ? [`cut by the border ${d.cutByBorder}`] : []),
  ].join(' · ');
}

/** A plain-text table: classes with their share of the counted cells, then what was kept apart and why. */
export function differentialTable(d: DifferentialCount): string {
  const rows = [`${'class'.padEnd(24)}${'cells'.padStart(7)}${'%'.padStart(8)}`];
  for (const c of d.byClass) rows.push(`${c.label.padEnd(24)}${String(c.count).padStart(7)}${(100 * c.fraction).toFixed(1).padStart(8)}`);
  rows.push(`${'counted'.padEnd(24)}${String(d.counted).padStart(7)}`);
  if (d.flagged) {
    rows.push('', `flagged apart (not in the percentages): ${d.flagged}`);
    for (const r of d.flaggedByReason) rows.push(`  ${String(r.count).padStart(5)}  ${flagReasonText(r.reason)}`);
  }
  if (d.unclassified) rows.push('', `found but not classified: ${d.unclassified}`);
  if (d.cutByBorder) rows.push('', `cut by the image border (not counted): ${d.cutByBorder}`);
  return rows.join('\n');
}

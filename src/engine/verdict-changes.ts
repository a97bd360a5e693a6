// What a classify job changed (issue 20: after a classifier is retrained with a lab's reviews, the lab's
// cells are classified again and the dashboard shows what moved): each cell's verdict before and after,
// tallied per transition, with the first cells of each kept so that a person can look at them.
export interface VerdictChangeSummary {
  /** Cells that had a verdict before this job. */
  compared: number;
  changed: number;
  /** "before -> after" (a flagged verdict is 'flagged') -> cells. */
  transitions: Record<string, number>;
  /** The first changed cells (at most MAX_LISTED). */
  cells: Array<{ cellId: string; from: string; to: string }>;
}

const MAX_LISTED = 200;

interface Verdict {
  label: string | null;
  flagged: boolean;
}

const name = (v: Verdict) => (v.flagged || !v.label ? 'flagged' : v.label);

export class VerdictChanges {
  private compared = 0;
  private readonly transitions = new Map<string, number>();
  private readonly cells: VerdictChangeSummary['cells'] = [];

  add(cellId: string, before: Verdict | null | undefined, after: Verdict): void {
    if (!before) return;
    this.compared++;
    const [from, to] = [name(before), name(after)];
    if (from === to) return;
    const k = `${from} -> ${to}`;
    this.transitions.set(k, (this.transitions.get(k) ?? 0) + 1);
    if (this.cells.length < MAX_LISTED) this.cells.push({ cellId, from, to });
  }

  summary(): VerdictChangeSummary {
    const transitions = Object.fromEntries([...this.transitions].sort((a, b) => b[1] - a[1]));
    return { compared: this.compared, changed: [...this.transitions.values()].reduce((a, b) => a + b, 0), transitions, cells: this.cells };
  }
}

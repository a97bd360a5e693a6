// The training cells a morphology classifier can carry in its file, so that a classify job can fit it again with a
// lab's own cells added (self-training, src/pipeline/self-training.ts): the training split's rows and classes, their
// augmented copies, the rows the stain reference was taken over, the reviewed cells, and the settings and seed the
// forests were fitted with. Rows are kept as float32 (half the bytes of float64; the 59 morphology values carry far
// fewer significant digits than that): a classifier read from its file and the one that wrote it refit the same way,
// because both hold the rounded rows.
import { decodeTypedArray, encodeTypedArray } from './typed-array-base64.js';
import type { MaxFeatures } from './random-forest.js';

/** Rows of `cols` values, row-major. */
export interface PackedRows32 {
  data: Float32Array;
  rows: number;
  cols: number;
}

export interface TrainingCells {
  /** The training split's cells (held-out cells are not trained on, so not refitted on either). */
  rows: PackedRows32;
  /** Each row's class, a name of the classifier's classNames. */
  labels: string[];
  /** Augmented copies of those cells; `of` indexes `rows`. */
  augmented: { rows: PackedRows32; of: Int32Array } | null;
  /** The rows the stain reference was taken over (every measured cell of the training lab). */
  stainRows: PackedRows32;
  reviewed: { rows: PackedRows32; labels: string[]; share: number } | null;
  settings: {
    trees: number;
    maxDepth: number;
    minSamplesLeaf: number;
    maxFeatures: MaxFeatures;
    augmentWeight: number;
    plainTreeShare: number;
    balanced: boolean;
    seed: number;
    /** The columns the stain step moves (null: the default colour columns). */
    stainColumns: number[] | null;
  };
}

/** Rows packed as float32 (the form TrainingCells keeps). */
export function packRows32(rows: readonly ArrayLike<number>[], cols: number): PackedRows32 {
  const data = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => {
    if (r.length !== cols) throw new Error(`training cells: row ${i} has ${r.length} values, expected ${cols}`);
    data.set(r, i * cols);
  });
  return { data, rows: rows.length, cols };
}

/** The rows of a packed set, each as a float64 copy (what the training reads). */
export function unpackRows32(m: PackedRows32): Float64Array[] {
  return Array.from({ length: m.rows }, (_, r) => Float64Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols)));
}

const rowsToJson = (m: PackedRows32) => ({ rows: m.rows, cols: m.cols, data: encodeTypedArray(m.data) });

function rowsFromJson(v: unknown, what: string): PackedRows32 {
  const o = v as { rows?: unknown; cols?: unknown; data?: unknown } | null;
  const rows = Number(o?.rows);
  const cols = Number(o?.cols);
  if (!o || !Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols <= 0) throw new Error(`classifier file: malformed training cells (${what})`);
  const data = decodeTypedArray(o.data, 'f32', `classifier file: training cells (${what})`);
  if (data.length !== rows * cols) throw new Error(`classifier file: training cells (${what}) hold ${data.length} values, expected ${rows} x ${cols}`);
  return { data, rows, cols };
}

export function trainingCellsToJson(t: TrainingCells): Record<string, unknown> {
  return {
    rows: rowsToJson(t.rows), labels: t.labels,
    augmented: t.augmented ? { rows: rowsToJson(t.augmented.rows), of: encodeTypedArray(t.augmented.of) } : null,
    stainRows: rowsToJson(t.stainRows),
    reviewed: t.reviewed ? { rows: rowsToJson(t.reviewed.rows), labels: t.reviewed.labels, share: t.reviewed.share } : null,
    settings: t.settings,
  };
}

const strings = (a: unknown): a is string[] => Array.isArray(a) && a.every((x) => typeof x === 'string');

/** A file's training cells as read, before checking: every field may be missing or of the wrong kind. */
interface TrainingCellsJson {
  rows?: unknown;
  labels?: unknown;
  augmented?: { rows?: unknown; of?: unknown } | null;
  stainRows?: unknown;
  reviewed?: { rows?: unknown; labels?: unknown; share?: unknown } | null;
  settings?: Record<string, unknown>;
}

/** Reads a file's training cells; null when the file has none. Every index and count is checked against the rows. */
export function trainingCellsFromJson(v: unknown, classNames: readonly string[]): TrainingCells | null {
  if (v === undefined || v === null) return null;
  const o = v as TrainingCellsJson;
  const rows = rowsFromJson(o.rows, 'rows');
  if (!strings(o.labels) || o.labels.length !== rows.rows || o.labels.some((l) => !classNames.includes(l))) throw new Error('classifier file: training cells: labels do not match the rows or the classes');
  const stainRows = rowsFromJson(o.stainRows, 'stain rows');
  let augmented: TrainingCells['augmented'] = null;
  if (o.augmented) {
    const a = rowsFromJson(o.augmented.rows, 'augmented rows');
    const of = decodeTypedArray(o.augmented.of, 'i32', 'classifier file: training cells (augmented of)');
    if (of.length !== a.rows || of.some((i) => i < 0 || i >= rows.rows)) throw new Error('classifier file: training cells: augmented copies name rows that are not there');
    augmented = { rows: a, of };
  }
  let reviewed: TrainingCells['reviewed'] = null;
  if (o.reviewed) {
    const r = rowsFromJson(o.reviewed.rows, 'reviewed rows');
    if (!strings(o.reviewed.labels) || o.reviewed.labels.length !== r.rows || !(Number(o.reviewed.share) > 0)) throw new Error('classifier file: training cells: malformed reviewed cells');
    reviewed = { rows: r, labels: o.reviewed.labels, share: Number(o.reviewed.share) };
  }
  for (const m of [stainRows, augmented?.rows, reviewed?.rows]) if (m && m.cols !== rows.cols) throw new Error('classifier file: training cells: row sets of different widths');
  const s = o.settings ?? {};
  const num = (k: string): number => {
    const x = s[k];
    if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`classifier file: training cells: setting ${k} missing`);
    return x;
  };
  const maxFeatures = typeof s.maxFeatures === 'number' || ['sqrt', 'log2', 'all'].includes(String(s.maxFeatures)) ? (s.maxFeatures as MaxFeatures) : null;
  if (maxFeatures === null) throw new Error('classifier file: training cells: setting maxFeatures missing');
  return {
    rows, labels: o.labels, augmented, stainRows, reviewed,
    settings: {
      trees: num('trees'), maxDepth: num('maxDepth'), minSamplesLeaf: num('minSamplesLeaf'), maxFeatures, augmentWeight: num('augmentWeight'),
      plainTreeShare: num('plainTreeShare'), balanced: s.balanced === true, seed: num('seed'),
      stainColumns: Array.isArray(s.stainColumns) ? s.stainColumns.map(Number) : null,
    },
  };
}

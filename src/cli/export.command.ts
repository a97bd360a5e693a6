// `leukograph export`: a dataset's cells from a running server (GraphQL cellsConnection, page by page), as
// CSV or Parquet rows (box, mask, cutByBorder, the verdict with its best guess and every class probability,
// the latent) or as COCO instances JSON (RLE masks, category = the best guess) that pycocotools-style
// readers load. A dataset with no cells is an error, not an empty file.
import { writeFile } from 'node:fs/promises';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { classOf } from '../pipeline/class-maps.js';
import { connect, type Remote } from './remote.js';
import { choiceFlag, UsageError, type FlagSpecs } from './args.js';

export const EXPORT_FLAGS = {
  dataset: { type: 'string', value: 'NAME', help: 'the dataset, by name' },
  out: { type: 'string', value: 'FILE', help: 'cells.csv, cells.parquet or detections.json' },
  format: { type: 'string', value: 'csv|parquet|coco', help: "default from --out's extension (.json: coco)" },
} as const satisfies FlagSpecs;

export const EXPORT_FORMATS = ['csv', 'parquet', 'coco'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** A cell as the server gives it (the fields the export asks for). */
export interface RemoteCell {
  id: string;
  index: number;
  box: number[];
  score: number;
  cutByBorder: boolean | null;
  mask: { size: number[]; counts: number[] } | null;
  latent: number[] | null;
  prediction: {
    label: string | null;
    bestGuess: { label: string; probability: number };
    probabilities: { label: string; probability: number }[];
    flagged: boolean;
    flagReason: string | null;
    reason: string | null;
    modelId: string;
  } | null;
  image: { id: string; sourcePath: string; width: number; height: number; canonicalType: string | null; rawLabel: string | null };
}

const CELL_FIELDS = `id index box score cutByBorder mask { size counts } latent
  prediction { label bestGuess { label probability } probabilities { label probability } flagged flagReason reason modelId }
  image { id sourcePath width height canonicalType rawLabel }`;
const PAGE = 100;

/** Every cell of a dataset, in pages of PAGE. */
export async function readRemoteCells(r: Remote, datasetId: string): Promise<RemoteCell[]> {
  const cells: RemoteCell[] = [];
  let after: string | null = null;
  for (;;) {
    const d: { cellsConnection: { edges: { node: RemoteCell }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } = await r.request(
      `query($d: ID!, $after: String) { cellsConnection(datasetId: $d, first: ${PAGE}, after: $after) { edges { node { ${CELL_FIELDS} } } pageInfo { hasNextPage endCursor } } }`,
      { d: datasetId, after },
    );
    cells.push(...d.cellsConnection.edges.map((e) => e.node));
    if (!d.cellsConnection.pageInfo.hasNextPage) break;
    after = d.cellsConnection.pageInfo.endCursor;
  }
  // Images in path order, cells by rank: the order a reader of the file expects.
  return cells.sort((a, b) => (a.image.sourcePath < b.image.sourcePath ? -1 : a.image.sourcePath > b.image.sourcePath ? 1 : a.index - b.index));
}

export interface ExportRow {
  cell_id: string;
  image_id: string;
  dataset: string;
  source_path: string;
  image_width: number;
  image_height: number;
  cell_type: string | null;
  label_common5: string | null;
  index: number;
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  cut_by_border: boolean | null;
  /** The class, null when flagged or unclassified. */
  predicted: string | null;
  /** The likeliest class, also for a flagged cell, and its probability. */
  best_guess: string | null;
  probability: number | null;
  flagged: boolean | null;
  flag_reason: string | null;
  reason: string | null;
  classifier_id: string | null;
  /** COCO uncompressed RLE (column-major, background run first), its runs space-separated. */
  mask_rle: string | null;
  /** Per class: p_<class>. */
  probabilities: Record<string, number>;
  latent: number[] | null;
}

export function toRows(dataset: string, cells: readonly RemoteCell[]): ExportRow[] {
  return cells.map((c) => {
    const p = c.prediction;
    return {
      cell_id: c.id, image_id: c.image.id, dataset, source_path: c.image.sourcePath, image_width: c.image.width, image_height: c.image.height,
      cell_type: c.image.canonicalType?.toLowerCase() ?? null, label_common5: c.index === 0 ? classOf(c.image.canonicalType?.toLowerCase() ?? null, 'common5') : null,
      index: c.index, score: c.score, x1: c.box[0]!, y1: c.box[1]!, x2: c.box[2]!, y2: c.box[3]!, cut_by_border: c.cutByBorder,
      predicted: p?.label ?? null, best_guess: p?.bestGuess.label ?? null, probability: p?.bestGuess.probability ?? null, flagged: p ? p.flagged : null,
      flag_reason: p?.flagReason ?? null, reason: p?.reason ?? null, classifier_id: p?.modelId ?? null,
      mask_rle: c.mask ? c.mask.counts.join(' ') : null,
      probabilities: Object.fromEntries((p?.probabilities ?? []).map((q) => [q.label, q.probability])),
      latent: c.latent,
    };
  });
}

const SCALARS = [
  'cell_id', 'image_id', 'dataset', 'source_path', 'image_width', 'image_height', 'cell_type', 'label_common5', 'index', 'score', 'x1', 'y1', 'x2', 'y2',
  'cut_by_border', 'predicted', 'best_guess', 'probability', 'flagged', 'flag_reason', 'reason', 'classifier_id',
] as const satisfies readonly (keyof ExportRow)[];
type Scalar = (typeof SCALARS)[number];
const TYPES: Record<Scalar, 'STRING' | 'INT32' | 'FLOAT' | 'BOOLEAN'> = {
  cell_id: 'STRING', image_id: 'STRING', dataset: 'STRING', source_path: 'STRING', image_width: 'INT32', image_height: 'INT32', cell_type: 'STRING',
  label_common5: 'STRING', index: 'INT32', score: 'FLOAT', x1: 'FLOAT', y1: 'FLOAT', x2: 'FLOAT', y2: 'FLOAT', cut_by_border: 'BOOLEAN',
  predicted: 'STRING', best_guess: 'STRING', probability: 'FLOAT', flagged: 'BOOLEAN', flag_reason: 'STRING', reason: 'STRING', classifier_id: 'STRING',
};

function classColumns(rows: readonly ExportRow[]): string[] {
  return [...new Set(rows.flatMap((r) => Object.keys(r.probabilities)))].sort();
}

function latentDim(rows: readonly ExportRow[]): number {
  return rows.find((r) => r.latent)?.latent?.length ?? 0;
}

/** The columns in file order, each with how to read it off a row. */
function columns(rows: readonly ExportRow[]): { name: string; type: 'STRING' | 'INT32' | 'FLOAT' | 'BOOLEAN'; get: (r: ExportRow) => unknown }[] {
  return [
    ...SCALARS.map((k) => ({ name: k as string, type: TYPES[k], get: (r: ExportRow) => r[k] })),
    ...classColumns(rows).map((c) => ({ name: `p_${c}`, type: 'FLOAT' as const, get: (r: ExportRow) => r.probabilities[c] ?? null })),
    { name: 'mask_rle', type: 'STRING' as const, get: (r: ExportRow) => r.mask_rle },
    ...Array.from({ length: latentDim(rows) }, (_, i) => ({ name: `z${i}`, type: 'FLOAT' as const, get: (r: ExportRow) => r.latent?.[i] ?? null })),
  ];
}

export function toCsv(rows: readonly ExportRow[]): string {
  const cols = columns(rows);
  const q = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.map((c) => c.name).join(','), ...rows.map((r) => cols.map((c) => q(c.get(r))).join(','))].join('\n') + '\n';
}

export function toParquet(rows: readonly ExportRow[]): ArrayBuffer {
  return parquetWriteBuffer({ columnData: columns(rows).map((c) => ({ name: c.name, data: rows.map((r) => c.get(r) as never), type: c.type, nullable: true })) });
}

/** The pixels an uncompressed COCO RLE covers (its odd runs). */
function rleArea(counts: readonly number[]): number {
  let a = 0;
  for (let i = 1; i < counts.length; i += 2) a += counts[i]!;
  return a;
}

/**
 * COCO instances JSON: one image per dataset image with cells, one annotation per cell (bbox [x, y, w, h],
 * the mask as uncompressed RLE, iscrowd 0), its category the classifier's best guess, or `white_cell` for a
 * cell no classifier has seen; the verdict, score and cutByBorder ride along as extra keys.
 */
export function toCoco(dataset: string, rows: readonly ExportRow[]): Record<string, unknown> {
  const names = [...new Set(rows.map((r) => r.best_guess ?? 'white_cell'))].sort();
  const categoryId = new Map(names.map((n, i) => [n, i + 1]));
  const imageId = new Map<string, number>();
  const images: Record<string, unknown>[] = [];
  for (const r of rows) {
    if (imageId.has(r.image_id)) continue;
    imageId.set(r.image_id, images.length + 1);
    images.push({ id: images.length + 1, file_name: r.source_path, width: r.image_width, height: r.image_height, leukograph_image_id: r.image_id });
  }
  const annotations = rows.map((r, i) => {
    const counts = r.mask_rle ? r.mask_rle.split(' ').map(Number) : null;
    return {
      id: i + 1, image_id: imageId.get(r.image_id)!, category_id: categoryId.get(r.best_guess ?? 'white_cell')!, iscrowd: 0,
      bbox: [r.x1, r.y1, r.x2 - r.x1, r.y2 - r.y1],
      area: counts ? rleArea(counts) : (r.x2 - r.x1) * (r.y2 - r.y1),
      ...(counts ? { segmentation: { size: [r.image_height, r.image_width], counts } } : {}),
      score: r.score, cut_by_border: r.cut_by_border, label: r.predicted, best_guess: r.best_guess, probability: r.probability,
      flagged: r.flagged, flag_reason: r.flag_reason, leukograph_cell_id: r.cell_id,
    };
  });
  return {
    info: { description: `leukograph detections of dataset "${dataset}"`, date_created: new Date().toISOString() },
    images, annotations,
    categories: names.map((n) => ({ id: categoryId.get(n)!, name: n, supercategory: 'white_cell' })),
  };
}

export function formatOf(command: string, out: string, format: string | undefined): ExportFormat {
  if (format !== undefined) return choiceFlag(command, 'format', format, EXPORT_FORMATS, 'csv');
  if (out.endsWith('.parquet')) return 'parquet';
  if (out.endsWith('.csv')) return 'csv';
  if (out.endsWith('.json')) return 'coco';
  throw new UsageError(`${command}: --out must end in .csv, .parquet or .json, or give --format csv|parquet|coco`);
}

/** Runs `leukograph export` against the server at `url`; returns the exit code. */
export async function exportCommand(command: string, f: Record<string, unknown>, url: string): Promise<number> {
  const name = f.dataset as string | undefined;
  const out = f.out as string | undefined;
  if (!name || !out) throw new UsageError(`${command} needs --dataset NAME and --out FILE (.csv, .parquet or .json)`);
  const format = formatOf(command, out, f.format as string | undefined);
  const r = connect(url, (f.token as string | undefined) ?? process.env.LEUKOGRAPH_TOKEN);
  try {
    const d = await r.request<{ datasets: { id: string; name: string; stats: { images: number; cells: number } }[] }>(`{ datasets { id name stats { images cells } } }`);
    const ds = d.datasets.find((x) => x.name === name);
    if (!ds) throw new UsageError(`${command}: no dataset named "${name}"${d.datasets.length ? `; the server has ${d.datasets.map((x) => `"${x.name}"`).join(', ')}` : ''}`);
    const cells = await readRemoteCells(r, ds.id);
    if (cells.length === 0) {
      process.stderr.write(
        `${command}: dataset "${name}" has no cells, so nothing was written: ${ds.stats.images ? `detect them first (leukograph detect-dataset --dataset ${name})` : `import images first (leukograph import <dir> --dataset ${name})`}\n`,
      );
      return 1;
    }
    const rows = toRows(name, cells);
    if (format === 'parquet') await writeFile(out, Buffer.from(toParquet(rows)));
    else if (format === 'csv') await writeFile(out, toCsv(rows));
    else await writeFile(out, JSON.stringify(toCoco(name, rows)));
    const classified = rows.filter((x) => x.best_guess).length;
    process.stderr.write(`wrote ${rows.length} cells of ${new Set(rows.map((x) => x.image_id)).size} images (${classified} with a verdict) to ${out} (${format})\n`);
    return 0;
  } finally {
    await r.close();
  }
}

// `leukograph export`: a dataset's cells with boxes, latents and predictions, as CSV or Parquet, read
// straight from the database (DATABASE_URL, or the embedded one under the data directory).
import { writeFile } from 'node:fs/promises';
import type { DataSource } from 'typeorm';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { classOf } from '../pipeline/class-maps.js';

export interface ExportRow {
  cell_id: string;
  image_id: string;
  dataset: string;
  source_path: string;
  cell_type: string | null;
  label_common5: string | null;
  index: number;
  score: number;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  predicted: string | null;
  confidence: number | null;
  flagged: boolean | null;
  latent: number[] | null;
}

export async function readExportRows(ds: DataSource, datasetName: string): Promise<ExportRow[]> {
  const rows: any[] = await ds.query(
    `SELECT c.id AS cell_id, i.id AS image_id, d.name AS dataset, i.source_path, i.cell_type, c.index, c.score, c.box, c.latent, c.prediction
       FROM cells c JOIN images i ON i.id = c.image_id JOIN datasets d ON d.id = i.dataset_id
      WHERE d.name = $1 ORDER BY i.source_path, c.index`,
    [datasetName],
  );
  return rows.map((r) => {
    const p = r.prediction as { label: string | null; probabilities: Record<string, number>; flagged: boolean } | null;
    return {
      cell_id: r.cell_id, image_id: r.image_id, dataset: r.dataset, source_path: r.source_path, cell_type: r.cell_type,
      label_common5: classOf(r.cell_type, 'common5'), index: r.index, score: r.score,
      x1: r.box[0], y1: r.box[1], x2: r.box[2], y2: r.box[3],
      predicted: p?.label ?? null, confidence: p ? Math.max(...Object.values(p.probabilities)) : null, flagged: p ? p.flagged : null,
      latent: r.latent,
    };
  });
}

const SCALARS: (keyof ExportRow)[] = ['cell_id', 'image_id', 'dataset', 'source_path', 'cell_type', 'label_common5', 'index', 'score', 'x1', 'y1', 'x2', 'y2', 'predicted', 'confidence', 'flagged'];

function latentDim(rows: ExportRow[]): number {
  return rows.find((r) => r.latent)?.latent?.length ?? 0;
}

export function toCsv(rows: ExportRow[]): string {
  const dim = latentDim(rows);
  const q = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const head = [...SCALARS, ...Array.from({ length: dim }, (_, i) => `z${i}`)];
  const lines = rows.map((r) => [...SCALARS.map((k) => q(r[k])), ...Array.from({ length: dim }, (_, i) => q(r.latent?.[i]))].join(','));
  return [head.join(','), ...lines].join('\n') + '\n';
}

export function toParquet(rows: ExportRow[]): ArrayBuffer {
  const dim = latentDim(rows);
  const types: Record<string, 'STRING' | 'INT32' | 'FLOAT' | 'BOOLEAN'> = {
    cell_id: 'STRING', image_id: 'STRING', dataset: 'STRING', source_path: 'STRING', cell_type: 'STRING', label_common5: 'STRING',
    index: 'INT32', score: 'FLOAT', x1: 'FLOAT', y1: 'FLOAT', x2: 'FLOAT', y2: 'FLOAT', predicted: 'STRING', confidence: 'FLOAT', flagged: 'BOOLEAN',
  };
  const columnData = [
    ...SCALARS.map((k) => ({ name: k, data: rows.map((r) => r[k] as never), type: types[k], nullable: true })),
    ...Array.from({ length: dim }, (_, i) => ({ name: `z${i}`, data: rows.map((r) => (r.latent ? r.latent[i] : null) as never), type: 'FLOAT' as const, nullable: true })),
  ];
  return parquetWriteBuffer({ columnData });
}

export async function writeExport(rows: ExportRow[], out: string): Promise<void> {
  if (out.endsWith('.parquet')) await writeFile(out, Buffer.from(toParquet(rows)));
  else if (out.endsWith('.csv')) await writeFile(out, toCsv(rows));
  else throw new Error('--out must end in .csv or .parquet');
}

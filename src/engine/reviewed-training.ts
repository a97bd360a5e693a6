// What trainClassifier(reviewedDatasetIds) adds to its training cells: each lab's reviewed cells (the latest
// review of each, not undone), with the class the person gave, read as the classifier reads cells: the latent
// of the same encoder (AE-CFE), or the morphology moved onto the source's stain by the offsets that the lab's
// last classify job measured (the move a classify job of that lab makes before the forest: without it the
// reviewed cells would sit in another lab's colours while the lab's other cells are moved away from them).
import type { DataSource } from 'typeorm';
import { classOf, type ClassMapName } from '../services/class-maps.js';
import { morphologyOfCells } from './cell-morphology-features.js';
import type { TrainingData } from './training-data.js';
import { applyOffsets } from '../evaluation/stain-shift.js';

export interface ReviewedRows {
  /** Feature rows, and each one's class under the class map. */
  x: Float32Array[];
  labels: string[];
  /** Per dataset: reviewed cells used, and where its stain move came from. */
  datasets: Record<string, { cells: number; stainFrom: string | null }>;
  /** Reviews left out, with why (a class outside the map, a cell not encoded, an unreadable image). */
  skipped: Array<{ cellId: string; reason: string }>;
}

interface ReviewedCellRow {
  cell_id: string;
  dataset_id: string;
  label: string;
  box: [number, number, number, number];
  latent: number[] | null;
  encoder_id: string | null;
  storage_path: string;
  width: number;
  height: number;
}

/** The stain offsets of the dataset's last classify job over all its cells (any classifier), or none. */
async function lastStainOffsets(ds: DataSource, datasetId: string): Promise<{ jobId: string; offsets: Map<number, number> } | null> {
  const rows: { id: string; offsets: Array<[number, number]> | null; centred: boolean | null }[] = await ds.query(
    `SELECT id, result->'stain'->'offsets' AS offsets, (result->'stain'->>'centred')::boolean AS centred FROM jobs
      WHERE kind = 'classify' AND status = 'succeeded' AND params->>'datasetId' = $1 AND params->'imageIds' IS NULL AND result ? 'stain'
      ORDER BY finished_at DESC NULLS LAST LIMIT 1`,
    [datasetId],
  );
  const r = rows[0];
  if (!r) return null;
  const offsets = new Map<number, number>();
  if (r.centred && Array.isArray(r.offsets)) for (const [c, d] of r.offsets) if (Number.isFinite(c) && Number.isFinite(d)) offsets.set(c, d);
  return { jobId: r.id, offsets };
}

export async function reviewedRows(
  ds: DataSource,
  data: TrainingData,
  opts: { datasetIds: string[]; classMap: ClassMapName; features: 'latent' | 'morphology'; encoderId: string | null },
): Promise<ReviewedRows> {
  const out: ReviewedRows = { x: [], labels: [], datasets: {}, skipped: [] };
  if (opts.datasetIds.length === 0) return out;
  const rows: ReviewedCellRow[] = await ds.query(
    `SELECT r.cell_id, r.dataset_id, r.label, c.box, c.latent, c.encoder_id, i.storage_path, i.width, i.height
       FROM (SELECT DISTINCT ON (cell_id) cell_id, dataset_id, label FROM cell_reviews
              WHERE dataset_id = ANY($1) AND undone_at IS NULL ORDER BY cell_id, created_at DESC, id DESC) r
       JOIN cells c ON c.id = r.cell_id JOIN images i ON i.id = c.image_id
      ORDER BY r.dataset_id, i.source_path, c.index`,
    [opts.datasetIds],
  );
  for (const datasetId of opts.datasetIds) {
    const mine = rows.filter((r) => r.dataset_id === datasetId).flatMap((r) => {
      const cls = classOf(r.label, opts.classMap);
      if (cls === null) {
        out.skipped.push({ cellId: r.cell_id, reason: `class ${r.label} is not in ${opts.classMap}` });
        return [];
      }
      return [{ ...r, cls }];
    });
    let stainFrom: string | null = null;
    const before = out.x.length;
    if (opts.features === 'latent') {
      for (const r of mine) {
        if (!r.latent || r.encoder_id !== opts.encoderId) out.skipped.push({ cellId: r.cell_id, reason: `not encoded with the encoder ${opts.encoderId}` });
        else {
          out.x.push(Float32Array.from(r.latent));
          out.labels.push(r.cls);
        }
      }
    } else {
      const stain = await lastStainOffsets(ds, datasetId);
      stainFrom = stain ? `classify job ${stain.jobId}${stain.offsets.size ? '' : ' (stain left as it was)'}` : null;
      const m = await morphologyOfCells(data, mine.map((r) => ({ id: r.cell_id, box: r.box, storagePath: r.storage_path, width: r.width, height: r.height })));
      for (const f of m.failed) out.skipped.push({ cellId: f.id, reason: f.reason });
      m.rows.forEach((k, i) => {
        const v = Float32Array.from(m.x.data.subarray(i * m.x.cols, (i + 1) * m.x.cols));
        if (stain) applyOffsets(v, stain.offsets);
        out.x.push(v);
        out.labels.push(mine[k]!.cls);
      });
    }
    out.datasets[datasetId] = { cells: out.x.length - before, stainFrom };
  }
  return out;
}

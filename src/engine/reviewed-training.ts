// What trainClassifier(reviewedDatasetIds) adds to its training cells: each lab's reviewed cells (the latest
// review of each, not undone), with the class the person gave, read as the classifier reads cells: the latent
// of the same encoder (AE-CFE), or the morphology moved onto the source's stain by the offsets that the lab's
// last classify job measured (the move a classify job of that lab makes before the forest: without it the
// reviewed cells would sit in another lab's colours while the lab's other cells are moved away from them).
import type { Repositories } from '../db/repositories/index.js';
import { classOf, type ClassMapName } from '../pipeline/class-maps.js';
import { morphologyOfCells } from '../pipeline/morphology.js';
import type { TrainingData } from './training-data.js';
import { applyOffsets } from './classifier/stain-shift.js';

export interface ReviewedRows {
  /** Feature rows, and each one's class under the class map. */
  x: Float32Array[];
  labels: string[];
  /** Per dataset: reviewed cells used, and where its stain move came from. */
  datasets: Record<string, { cells: number; stainFrom: string | null; offsets: Array<[number, number]> | null }>;
  /** Reviews left out, with why (a class outside the map, a cell not encoded, an unreadable image). */
  skipped: Array<{ cellId: string; reason: string }>;
}

export async function reviewedRows(
  repos: { reviews: Pick<Repositories['reviews'], 'reviewedCells'> } & Pick<Repositories, 'lastDatasetStain'>,
  data: TrainingData,
  opts: { datasetIds: string[]; classMap: ClassMapName; features: 'latent' | 'morphology'; encoderId: string | null },
): Promise<ReviewedRows> {
  const out: ReviewedRows = { x: [], labels: [], datasets: {}, skipped: [] };
  if (opts.datasetIds.length === 0) return out;
  const rows = await repos.reviews.reviewedCells(opts.datasetIds);
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
    let offsets: Array<[number, number]> | null = null;
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
      const stain = await repos.lastDatasetStain(datasetId);
      stainFrom = stain ? `classify job ${stain.jobId}${stain.offsets.size ? '' : ' (stain left as it was)'}` : null;
      // Kept with the classifier, so that classifying this lab moves its cells as these were (reviewed-stain.ts).
      offsets = stain ? [...stain.offsets] : null;
      const m = await morphologyOfCells(data, mine.map((r) => ({ id: r.cell_id, box: r.box, storagePath: r.storage_path, width: r.width, height: r.height })));
      for (const f of m.failed) out.skipped.push({ cellId: f.id, reason: f.reason });
      m.rows.forEach((k, i) => {
        const v = Float32Array.from(m.x.data.subarray(i * m.x.cols, (i + 1) * m.x.cols));
        if (stain) applyOffsets(v, stain.offsets);
        out.x.push(v);
        out.labels.push(mine[k]!.cls);
      });
    }
    out.datasets[datasetId] = { cells: out.x.length - before, stainFrom, offsets };
  }
  return out;
}

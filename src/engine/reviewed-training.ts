// What trainClassifier(reviewedDatasetIds) adds to its training cells: each lab's reviewed cells (the latest
// review of each, not undone), with the class the person gave, read as the classifier reads cells: the latent
// of the same encoder (AE-CFE), or the morphology moved onto the source's stain (without a move the reviewed
// cells would sit in another lab's colours while the lab's other cells are moved away from them): by the move
// the lab's last classify job measured, or, given the source's labelled rows (REVIEWED_STAIN_MOVE 'labelled',
// not the default), by the move the reviewed cells tell (their distance from the source's class medians)
// pooled with it (src/pipeline/reviewed-cells.ts). The classifier keeps the move, and classify jobs of that lab
// move its cells by it (reviewed-stain.ts).
import type { Repositories } from '../db/repositories/index.js';
import { classOf, type ClassMapName } from '../pipeline/class-maps.js';
import { morphologyOfCells } from '../pipeline/morphology.js';
import type { TrainingData } from './training-data.js';
import { applyOffsets } from './classifier/stain-shift.js';
import { classMedians, reviewedStainOffsets } from '../pipeline/reviewed-cells.js';
import { MORPHOLOGY_COLOUR_COLUMNS } from '../imaging/cell-morphology.js';

export interface ReviewedRows {
  /** Feature rows, and each one's class under the class map. */
  x: Float32Array[];
  labels: string[];
  /** Per dataset: reviewed cells used, and where its stain move came from. */
  datasets: Record<string, {
    cells: number;
    stainFrom: string | null;
    offsets: Array<[number, number]> | null;
    /** The share of the move told by the reviewed cells (the rest: the classify job's); absent when they told none. */
    reviewedStainWeight?: number;
  }>;
  /** Reviews left out, with why (a class outside the map, a cell not encoded, an unreadable image). */
  skipped: Array<{ cellId: string; reason: string }>;
}

export async function reviewedRows(
  repos: { reviews: Pick<Repositories['reviews'], 'reviewedCells'> } & Pick<Repositories, 'lastDatasetStain'>,
  data: TrainingData,
  opts: {
    datasetIds: string[];
    classMap: ClassMapName;
    features: 'latent' | 'morphology';
    encoderId: string | null;
    /** Morphology: the source's labelled rows, whose class medians the reviewed cells' stain is told against (without: the job's move). */
    source?: { rows: readonly ArrayLike<number>[]; labels: readonly string[] };
  },
): Promise<ReviewedRows> {
  const out: ReviewedRows = { x: [], labels: [], datasets: {}, skipped: [] };
  if (opts.datasetIds.length === 0) return out;
  const rows = await repos.reviews.reviewedCells(opts.datasetIds);
  const sourceMedians = opts.source?.rows.length ? classMedians(opts.source.rows, opts.source.labels, MORPHOLOGY_COLOUR_COLUMNS) : null;
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
    let weight: number | undefined;
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
      const job = stain ? `classify job ${stain.jobId}${stain.offsets.size ? '' : ' (stain left as it was)'}` : null;
      const m = await morphologyOfCells(data, mine.map((r) => ({ id: r.cell_id, box: r.box, storagePath: r.storage_path, width: r.width, height: r.height })));
      for (const f of m.failed) out.skipped.push({ cellId: f.id, reason: f.reason });
      const raw = m.rows.map((_, i) => m.x.data.subarray(i * m.x.cols, (i + 1) * m.x.cols));
      const labels = m.rows.map((k) => mine[k]!.cls);
      // Without a classify job nor a source to tell the stain against, the cells stay as they are (as before).
      let move: Map<number, number> | null = stain ? new Map(stain.offsets) : null;
      stainFrom = job;
      if (sourceMedians && raw.length) {
        const told = reviewedStainOffsets({ rows: raw, labels }, sourceMedians, MORPHOLOGY_COLOUR_COLUMNS, stain?.offsets ?? new Map());
        if (told.cells > 0) {
          move = told.offsets;
          weight = told.weight;
          stainFrom = `${told.cells} reviewed cells (weight ${told.weight.toFixed(2)})${job ? ` and ${job}` : ''}`;
        }
      }
      // Kept with the classifier, so that classifying this lab moves its cells as these were (reviewed-stain.ts).
      offsets = move ? [...move] : null;
      raw.forEach((r, i) => {
        const v = Float32Array.from(r);
        if (move) applyOffsets(v, move);
        out.x.push(v);
        out.labels.push(labels[i]!);
      });
    }
    out.datasets[datasetId] = { cells: out.x.length - before, stainFrom, offsets, ...(weight === undefined ? {} : { reviewedStainWeight: weight }) };
  }
  return out;
}

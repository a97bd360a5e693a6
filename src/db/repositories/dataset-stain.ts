// What the analyze job knows of a lab's stain: analyze classifies each image as it arrives, before a stain can
// be measured over many cells, so it takes the measurement the last classify job over the whole dataset made
// with the same classifier (its result's stain: decision and offsets, src/pipeline/stain-step.ts).
import type { DataSource } from 'typeorm';

export interface DatasetStain {
  /** The classify job that measured it. */
  jobId: string;
  /** Per stain column, what to add (empty when that job left the stain as it was). */
  offsets: Map<number, number>;
  note: string;
}

interface StoredOutcome {
  centred?: boolean;
  offsets?: Array<[number, number]>;
  note?: string;
}

/** The dataset's last stain measurement by this classifier, or null when no classify job over it made one. */
export async function lastDatasetStain(ds: DataSource, datasetId: string, classifierId: string): Promise<DatasetStain | null> {
  const rows: { id: string; stain: StoredOutcome | null }[] = await ds.query(
    `SELECT id, result->'stain' AS stain FROM jobs
      WHERE kind = 'classify' AND status = 'succeeded' AND params->>'datasetId' = $1 AND params->>'classifierId' = $2
        AND params->'imageIds' IS NULL AND result->'stain'->'statistic' IS NOT NULL AND jsonb_typeof(result->'stain'->'statistic') = 'number'
      ORDER BY finished_at DESC NULLS LAST LIMIT 1`,
    [datasetId, classifierId],
  );
  const r = rows[0];
  if (!r?.stain) return null;
  const offsets = new Map<number, number>();
  if (r.stain.centred) {
    // Written by decideStain; a result without usable offsets (older jobs) counts as no measurement.
    if (!Array.isArray(r.stain.offsets) || !r.stain.offsets.every((o) => Array.isArray(o) && o.length === 2 && o.every(Number.isFinite))) return null;
    for (const [c, d] of r.stain.offsets) offsets.set(c, d);
  }
  return { jobId: r.id, offsets, note: r.stain.note ?? '' };
}

// What the analyze job knows of a lab's stain: analyze classifies each image as it arrives, before a stain can
// be measured over many cells, so it takes the measurement the last classify job over the whole dataset made
// with the same classifier (its result's stain: decision and offsets, src/pipeline/stain-step.ts). A classifier
// trained with a lab's reviewed cells reads here what the lab's last classify job applied (reviewed-training.ts).
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

export interface DatasetStainQuery {
  /** Only the classify jobs with this classifier (analyze: its own classifier's measurement); else any. */
  classifierId?: string;
  /**
   * Only jobs that measured the stain (analyze: a measurement to apply). Without it, the last classify job over
   * the dataset that says anything of the stain (a classifier's reviewed cells: what that job applied, nothing
   * when it left the stain unmeasured).
   */
  measured?: boolean;
  /** Only jobs whose self-check did not fail (analyze: a move whose count was withheld is not one to apply). */
  checked?: boolean;
}

/**
 * The dataset's last classify job over all its cells that reports a stain (see DatasetStainQuery), or null.
 * A centred result without usable offsets (older jobs) counts as no measurement.
 */
export async function lastDatasetStain(ds: DataSource, datasetId: string, q: DatasetStainQuery = {}): Promise<DatasetStain | null> {
  const rows: { id: string; stain: StoredOutcome | null }[] = await ds.query(
    `SELECT id, result->'stain' AS stain FROM jobs
      WHERE kind = 'classify' AND status = 'succeeded' AND params->>'datasetId' = $1 AND params->'imageIds' IS NULL
        AND ($2::text IS NULL OR params->>'classifierId' = $2) AND result ? 'stain'
        AND (NOT $3::boolean OR jsonb_typeof(result->'stain'->'statistic') = 'number')
        AND (NOT $4::boolean OR coalesce(result->'selfCheck'->>'status', 'passed') <> 'failed')
      ORDER BY finished_at DESC NULLS LAST LIMIT 1`,
    [datasetId, q.classifierId ?? null, q.measured ?? false, q.checked ?? false],
  );
  const r = rows[0];
  if (!r) return null;
  const stain = r.stain ?? {};
  const offsets = new Map<number, number>();
  if (stain.centred) {
    // Written by decideStain; a result without usable offsets (older jobs) counts as no measurement.
    if (!Array.isArray(stain.offsets) || !stain.offsets.every((o) => Array.isArray(o) && o.length === 2 && o.every(Number.isFinite))) return null;
    for (const [c, d] of stain.offsets) offsets.set(c, d);
  }
  return { jobId: r.id, offsets, note: stain.note ?? '' };
}

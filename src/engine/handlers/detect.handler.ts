// The detect job: runs the resident detector over a dataset's images (or a list of images), stores
// each cell (box, mask, score; features in the feature store) and streams each cell as it is stored.
// An image already detected with this detector is skipped, so a retried job writes nothing twice.
import type { JobContext } from '../job-context.js';
import type { DetectParams, JobOutcome } from '../../jobs/job-kinds.js';
import { FeatureStore } from '../feature-store.js';
import { sqlRows, relaxedCommit } from '../../db/sql.js';
import type { DetectedCell } from '../resident-models.js';

interface ImageRow {
  id: string;
  storage_path: string;
  source_path: string;
  detected: boolean;
}

export interface StoredCell {
  id: string;
  box: [number, number, number, number];
  features: Float32Array;
}

/**
 * Stores one image's detections: features to the feature store, cell rows in one transaction. Returns
 * the new cells (none when they were stored before) with their box and features, for the stages that follow.
 */
export async function storeDetections(
  ctx: JobContext<unknown>,
  detectorId: string,
  imageId: string,
  found: DetectedCell[],
  topOnly: boolean,
): Promise<StoredCell[]> {
  const kept = topOnly ? found.slice(0, 1) : found;
  const file = ctx.features.fileFor(detectorId, imageId);
  if (kept.length) await ctx.features.write(file, kept.map((c) => c.features));
  return ctx.ds.transaction(async (m) => {
    await relaxedCommit(m);
    const out: StoredCell[] = [];
    for (let k = 0; k < kept.length; k++) {
      const c = kept[k];
      const rows = await sqlRows<{ id: string }>(m,
        `INSERT INTO cells (image_id, detector_id, index, box, score, mask, feature_ref, job_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (image_id, detector_id, index) DO NOTHING RETURNING id`,
        [imageId, detectorId, k, c.box, c.score, c.mask, FeatureStore.ref(file, k), ctx.jobId],
      );
      if (rows[0]) out.push({ id: rows[0].id, box: c.box, features: c.features });
    }
    return out;
  });
}

export async function runDetect(ctx: JobContext<DetectParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const { row: model, detector } = await ctx.models.detector(p.detectorId);
  const images: ImageRow[] = await ctx.ds.query(
    `SELECT i.id, i.storage_path, i.source_path,
            EXISTS (SELECT 1 FROM cells c WHERE c.image_id = i.id AND c.detector_id = $3) AS detected
       FROM images i
      WHERE ($1::uuid IS NULL OR i.dataset_id = $1) AND ($2::uuid[] IS NULL OR i.id = ANY($2))
      ORDER BY i.dataset_id, i.source_path
      LIMIT $4`,
    [p.datasetId ?? null, p.imageIds ?? null, model.id, p.maxImages ?? 2147483647],
  );
  if (images.length === 0) return { status: 'failed', error: 'no images to detect on' };
  let cells = 0;
  let skipped = 0;
  let failed = 0;
  let noCell = 0;
  const failures: { path: string; reason: string }[] = [];
  const t0 = Date.now();
  await ctx.progress(0, images.length, `detecting on ${images.length} images with ${model.name} ${model.version}`);
  for (let i = 0; i < images.length; i++) {
    if (ctx.cancelled()) return { status: 'cancelled', result: { cells, skipped, failed, failures, detectorId: model.id } };
    const img = images[i];
    if (img.detected) {
      skipped++;
    } else {
      let found;
      try {
        found = await detector.detect(await ctx.blobs.read(img.storage_path, 'image file'));
      } catch (err) {
        // One bad image fails alone; the job goes on.
        failed++;
        const reason = (err as Error).message;
        if (failures.length < 200) failures.push({ path: img.source_path, reason });
        await ctx.item({ itemKind: 'image', itemId: img.id, index: i, ok: false, error: reason.slice(0, 500) });
        await ctx.progress(i + 1, images.length, `${cells} cells, ${failed} images failed`);
        continue;
      }
      const ids = (await storeDetections(ctx, model.id, img.id, found.cells, p.topOnly ?? false)).map((c) => c.id);
      if (ids.length === 0) noCell++;
      for (let k = 0; k < ids.length; k++) await ctx.item({ itemKind: 'cell', itemId: ids[k], index: cells + k, ok: true });
      cells += ids.length;
    }
    const rate = (i + 1) / ((Date.now() - t0) / 1000);
    await ctx.progress(i + 1, images.length, `${cells} cells from ${i + 1 - skipped - failed} images`, { imagesPerSec: Math.round(rate * 100) / 100 });
  }
  return {
    status: 'succeeded',
    result: { cells, skipped, failed, failures, imagesWithoutCells: noCell, detectorId: model.id },
    message: `${cells} cells stored; ${skipped} images already done, ${failed} failed, ${noCell} without a cell`,
  };
}

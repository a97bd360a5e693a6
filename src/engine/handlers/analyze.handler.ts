// The analyze job: the whole chain per image, as a diagnosis tool wants it — detect, encode (the active
// classifier's autoencoder, or the active one), classify (the active classifier, when there is one, from the
// latents or from each cell's morphology, as it was trained) —
// with each cell streamed as soon as its image is done. Stages whose model is missing are skipped and
// said so in the result; a bad image fails alone. A morphology classifier's stain move is the one the last
// classifyCells over the image's dataset measured with the same classifier (dataset-stain.ts), if any.
import type { JobContext } from '../job-context.js';
import type { AnalyzeParams, JobOutcome } from '../../jobs/job-kinds.js';
import { storeDetections, type StoredCell } from './detect.handler.js';
import { residentAutoencoder } from './encode.handler.js';
import { encode } from '../autoencoder/index.js';
import { FEATURE_LENGTH, chwToHwc } from '../feature-store.js';
import { classifyLatents, type CellClassifier, type CellVerdict } from '../classifier/classifier-artifact.js';
import { TrainingData } from '../training-data.js';
import { readClassifierFile } from '../classifier/classifier-file.js';
import { morphologyOfCells } from '../cell-morphology-features.js';
import { ModelEntity } from '../../db/entities/index.js';
import { relaxedCommit } from '../../db/sql.js';
import { lastDatasetStain, type DatasetStain } from './dataset-stain.js';
import { applyOffsets } from '../../evaluation/stain-shift.js';

export async function runAnalyze(ctx: JobContext<AnalyzeParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const { row: det, detector } = await ctx.models.detector();
  const models = ctx.ds.getRepository(ModelEntity);
  const clfRow = await models.findOneBy({ kind: 'classifier', active: true });
  const clf = clfRow
    ? (await ctx.models.get<CellClassifier>('classifier', clfRow.id, (r) => readClassifierFile(ctx.blobs, r.artifactPath))).value
    : null;
  const aeId = clf?.encoderId ?? (await models.findOneBy({ kind: 'autoencoder', active: true }))?.id;
  const ae = aeId ? await residentAutoencoder(ctx, aeId) : null;
  const crops = clf?.features === 'morphology' ? TrainingData.forJob(ctx) : null;
  const images: { id: string; dataset_id: string; storage_path: string; source_path: string; width: number; height: number }[] = await ctx.ds.query(
    `SELECT id, dataset_id, storage_path, source_path, width, height FROM images WHERE ($1::uuid IS NULL OR dataset_id = $1) AND ($2::uuid[] IS NULL OR id = ANY($2)) ORDER BY source_path`,
    [p.datasetId ?? null, p.imageIds ?? null],
  );
  if (images.length === 0) return { status: 'failed', error: 'no images to analyze' };
  const counts: Record<string, number> = {};
  let cells = 0;
  let flagged = 0;
  let failed = 0;
  const failures: { path: string; reason: string }[] = [];
  // Per dataset: the stain measurement its last classifyCells made with this classifier (null: none).
  const stains = new Map<string, DatasetStain | null>();
  if (crops && clf?.stain) for (const d of new Set(images.map((im) => im.dataset_id))) stains.set(d, await lastDatasetStain(ctx.ds, d, clfRow!.id));
  await ctx.progress(0, images.length, `analyzing ${images.length} images`);
  for (let i = 0; i < images.length; i++) {
    if (ctx.cancelled()) return { status: 'cancelled', result: { cells, counts, flagged, failed, failures } };
    const img = images[i];
    let stored: StoredCell[];
    try {
      // An image detected before keeps its cells; they are encoded and classified again with the
      // current models, so a new classifier's verdict replaces the old one.
      const known: { id: string; box: StoredCell['box']; feature_ref: string }[] = await ctx.ds.query(
        `SELECT id, box, feature_ref FROM cells WHERE image_id = $1 AND detector_id = $2 AND feature_ref IS NOT NULL ORDER BY index`,
        [img.id, det.id],
      );
      if (known.length) {
        stored = [];
        for (const k of known) stored.push({ id: k.id, box: k.box, features: await ctx.features.read(k.feature_ref) });
      } else {
        const found = await detector.detect(await ctx.blobs.read(img.storage_path, 'image file'));
        stored = await storeDetections(ctx, det.id, img.id, found.cells, p.topOnly ?? false);
      }
    } catch (err) {
      failed++;
      const reason = (err as Error).message;
      if (failures.length < 200) failures.push({ path: img.source_path, reason });
      await ctx.item({ itemKind: 'image', itemId: img.id, index: i, ok: false, error: reason.slice(0, 500) });
      continue;
    }
    let z: Float32Array | null = null;
    let dim = 0;
    if (ae && stored.length) {
      const feats = new Float32Array(stored.length * FEATURE_LENGTH);
      stored.forEach((c, k) => chwToHwc(c.features, feats, k * FEATURE_LENGTH));
      z = await encode(ae.model, feats, stored.length);
      dim = z.length / stored.length;
    }
    // verdicts[k] for stored[k]; null where the cell could not be classified
    let verdicts: Array<CellVerdict | null> | null = null;
    if (clf && crops && stored.length) {
      const m = await morphologyOfCells(crops, stored.map((c) => ({ id: c.id, box: c.box, storagePath: img.storage_path, width: img.width, height: img.height })));
      const offsets = stains.get(img.dataset_id)?.offsets;
      if (offsets) for (let r = 0; r < m.x.rows; r++) applyOffsets(m.x.data, offsets, r * m.x.cols);
      const v = m.x.rows ? classifyLatents(clf, m.x) : [];
      verdicts = stored.map(() => null);
      m.rows.forEach((r, i) => (verdicts![r] = v[i]!));
    } else if (clf && z) verdicts = classifyLatents(clf, { data: z, rows: stored.length, cols: dim });
    if (z || verdicts) {
      await ctx.ds.transaction(async (m) => {
        await relaxedCommit(m);
        for (let k = 0; k < stored.length; k++) {
          const v = verdicts?.[k] ?? null;
          const prediction = v ? { ...v, modelId: clfRow!.id } : null;
          if (z) await m.query(`UPDATE cells SET latent = $2, encoder_id = $3, prediction = $4 WHERE id = $1`, [stored[k].id, Array.from(z.subarray(k * dim, (k + 1) * dim)), ae!.id, prediction]);
          else await m.query(`UPDATE cells SET prediction = $2 WHERE id = $1`, [stored[k].id, prediction]);
          if (v?.flagged) flagged++;
          else if (v) counts[v.label!] = (counts[v.label!] ?? 0) + 1;
        }
      });
    }
    for (const c of stored) await ctx.item({ itemKind: 'cell', itemId: c.id, index: cells++, ok: true });
    await ctx.progress(i + 1, images.length, `${cells} cells`);
  }
  const stages = ['detect', ...(ae ? ['encode'] : []), ...(clf ? ['classify'] : [])];
  return {
    status: 'succeeded',
    result: {
      cells, counts, flagged, failed, failures, stages, detectorId: det.id, autoencoderId: ae?.id ?? null, classifierId: clfRow?.id ?? null,
      ...(clf?.features === 'morphology' ? { stain: stainSummary(stains) } : {}),
    },
    message: `${cells} cells (${stages.join(' → ')})`,
  };
}

/** The result's stain: per dataset, whose measurement was applied (or why none). */
function stainSummary(stains: Map<string, DatasetStain | null>): { centred: boolean; datasets: Record<string, { fromJob: string | null; centred: boolean; note: string }>; note: string } {
  const datasets = Object.fromEntries(
    [...stains].map(([d, s]) => [d, s ? { fromJob: s.jobId, centred: s.offsets.size > 0, note: `as classify job ${s.jobId} measured: ${s.note}` } : { fromJob: null, centred: false, note: 'stain not adapted: no classifyCells over this dataset with this classifier yet' }]),
  );
  const used = [...stains.values()].filter((s) => s && s.offsets.size > 0).length;
  const note = stains.size === 0
    ? 'stain not adapted: the classifier has no stain reference'
    : used
      ? `stain moved in ${used} of ${stains.size} dataset(s), as their last classifyCells with this classifier measured it`
      : 'stain not adapted: analyze classifies each image as it arrives, so it takes the stain measured by the last classifyCells over the dataset with this classifier, and none moved it';
  return { centred: used > 0, datasets, note };
}

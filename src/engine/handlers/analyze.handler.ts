// The analyze job: the whole chain per image, as a diagnosis tool wants it — detect, encode (the active
// classifier's autoencoder, or the active one), classify (the active classifier, when there is one, from the
// latents or from each cell's morphology, as it was trained, through the pipeline's classify stage) —
// with each cell streamed as soon as its image is done. Stages whose model is missing are skipped and
// said so in the result; a bad image fails alone. A morphology classifier's stain move is the one the last
// classifyCells over the image's dataset measured with the same classifier (dataset-stain.ts), if any.
import type { JobContext } from '../job-context.js';
import type { AnalyzeParams, JobOutcome } from '../../jobs/job-kinds.js';
import { storeDetections, type StoredCell } from './detect.handler.js';
import { residentAutoencoder, residentClassifier } from './resident.js';
import { TrainingData } from '../training-data.js';
import type { DatasetStain } from '../../db/repositories/index.js';
import { encodeCells } from '../../pipeline/encode.js';
import { morphologyOfCells } from '../../pipeline/morphology.js';
import { classifyCells } from '../../pipeline/classify.js';
import { selfCheck, selfCheckReason, type SelfCheck } from '../classifier/self-check.js';
import type { CellVerdict } from '../../pipeline/types.js';

export async function runAnalyze(ctx: JobContext<AnalyzeParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const { row: det, detector } = await ctx.models.detector();
  const clfRow = await ctx.repos.models.active('classifier');
  const clf = clfRow ? (await residentClassifier(ctx, clfRow.id)).clf : null;
  const aeId = clf?.encoderId ?? (await ctx.repos.models.active('autoencoder'))?.id;
  const ae = aeId ? await residentAutoencoder(ctx, aeId) : null;
  const crops = clf?.features === 'morphology' ? TrainingData.forJob(ctx) : null;
  const images = await ctx.repos.cells.imagesToAnalyze({ datasetId: p.datasetId, imageIds: p.imageIds });
  if (images.length === 0) return { status: 'failed', error: 'no images to analyze' };
  const counts: Record<string, number> = {};
  let cells = 0;
  let flagged = 0;
  let failed = 0;
  const failures: { path: string; reason: string }[] = [];
  // Every verdict the job writes (class index, -1 when flagged), for the self-check over the whole job at the end.
  const verdictLog: Array<{ id: string; k: number; prediction: Record<string, unknown> }> = [];
  // Per dataset: the stain measurement its last classifyCells made with this classifier (null: none).
  const stains = new Map<string, DatasetStain | null>();
  if (crops && clf?.stain) for (const d of new Set(images.map((im) => im.dataset_id))) stains.set(d, await ctx.repos.lastDatasetStain(d, { classifierId: clfRow!.id, measured: true }));
  await ctx.progress(0, images.length, `analyzing ${images.length} images`);
  for (let i = 0; i < images.length; i++) {
    if (ctx.cancelled()) return { status: 'cancelled', result: { cells, counts, flagged, failed, failures } };
    const img = images[i]!;
    let stored: StoredCell[];
    try {
      // An image detected before keeps its cells; they are encoded and classified again with the
      // current models, so a new classifier's verdict replaces the old one.
      const known = await ctx.repos.cells.detectedCells(img.id, det.id);
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
    const z = ae && stored.length ? await encodeCells(ae.model, stored.map((c) => c.features)) : null;
    const dim = z ? z.length / stored.length : 0;
    // The classify stage per image: verdicts[k] for stored[k]; null where the cell could not be classified.
    let verdicts: Array<CellVerdict | null> | null = null;
    if (clf && crops && stored.length) {
      const m = await morphologyOfCells(crops, stored.map((c) => ({ id: c.id, box: c.box, storagePath: img.storage_path, width: img.width, height: img.height })));
      // Image by image: the augmented forest, never the plain one (too few cells to measure the lab; classify.ts).
      const v = m.x.rows ? classifyCells(clf, m.x, { offsets: stains.get(img.dataset_id)?.offsets ?? new Map() }).verdicts : [];
      verdicts = stored.map(() => null);
      m.rows.forEach((r, i) => (verdicts![r] = v[i]!));
    } else if (clf && z) verdicts = classifyCells(clf, { data: z, rows: stored.length, cols: dim }).verdicts;
    if (z || verdicts) {
      await ctx.repos.cells.writeResults(stored.map((c, k) => {
        const v = verdicts?.[k] ?? null;
        if (v?.flagged) flagged++;
        else if (v) counts[v.label!] = (counts[v.label!] ?? 0) + 1;
        if (v) verdictLog.push({ id: c.id, k: v.flagged ? -1 : clf!.classNames.indexOf(v.label!), prediction: { ...v, modelId: clfRow!.id } });
        return { id: c.id, prediction: v ? { ...v, modelId: clfRow!.id } : null, ...(z ? { latent: { values: z.subarray(k * dim, (k + 1) * dim), encoderId: ae!.id } } : {}) };
      }));
    }
    for (const c of stored) await ctx.item({ itemKind: 'cell', itemId: c.id, index: cells++, ok: true });
    await ctx.progress(i + 1, images.length, `${cells} cells`);
  }
  const stages = ['detect', ...(ae ? ['encode'] : []), ...(clf ? ['classify'] : [])];
  // The job's count checked as a classify job's is (its class mix; each image was classified alone, so there are
  // no lab-wide views here): a failed check withholds every class it counted, as classify does.
  const check: SelfCheck | null = clf && verdictLog.length ? selfCheck({ classes: clf.classNames, predicted: verdictLog.map((v) => v.k) }) : null;
  if (check?.status === 'failed') {
    const reason = selfCheckReason(check);
    const withheld = verdictLog.filter((v) => v.k >= 0);
    await ctx.repos.cells.writeResults(withheld.map((v) => ({ id: v.id, prediction: { ...v.prediction, label: null, flagged: true, reason } })));
    flagged += withheld.length;
    for (const k of Object.keys(counts)) delete counts[k];
  }
  return {
    status: 'succeeded',
    result: {
      cells, counts, flagged, failed, failures, stages, detectorId: det.id, autoencoderId: ae?.id ?? null, classifierId: clfRow?.id ?? null,
      ...(clf?.features === 'morphology' ? { stain: stainSummary(stains) } : {}),
      ...(check ? { selfCheck: check } : {}),
    },
    message: `${check?.warning ? `${check.warning} ` : ''}${cells} cells (${stages.join(' → ')})`,
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

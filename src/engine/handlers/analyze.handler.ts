// The analyze job: the whole chain per image, as a diagnosis tool wants it — detect, encode (the active
// classifier's autoencoder, or the active one), classify (the active classifier, when there is one, from the
// latents or from each cell's morphology, as it was trained, through the pipeline's classify stage) —
// with each cell streamed as soon as its image is done. Stages whose model is missing are skipped and
// said so in the result; a bad image fails alone.
// The streamed verdicts are provisional: an image's few cells cannot measure a lab's stain, so a morphology
// classifier moves them as the last classifyCells over the dataset with the same classifier measured (dataset-stain.ts),
// if any. Once every image is done, each dataset's cells are classified together through the classify job's own path
// (classifyCells without offsets: the default stain step, or a reviewed lab's move; forest routing, views and self-check) and those verdicts
// replace the provisional ones: the count analyze reports is the one a classify job over the same cells reports.
import type { JobContext } from '../job-context.js';
import type { AnalyzeParams, JobOutcome } from '../../jobs/job-kinds.js';
import { storeDetections, type StoredCell } from './detect.handler.js';
import { residentAutoencoder, residentClassifier } from './resident.js';
import { TrainingData } from '../training-data.js';
import type { DatasetStain } from '../../db/repositories/index.js';
import { encodeCells } from '../../pipeline/encode.js';
import { morphologyOfCells } from '../../pipeline/morphology.js';
import { classifyCells } from '../../pipeline/classify.js';
import { classifyCellsInWorker } from '../cell-classifying.js';
import { concatRows, type FeatureMatrix } from '../classifier/feature-matrix.js';
import type { CellClassifier } from '../classifier/classifier-artifact.js';
import type { SelfCheck } from '../classifier/self-check.js';
import type { LabStainOutcome } from '../../pipeline/lab-classification.js';
import type { CellVerdict } from '../../pipeline/types.js';
import { reviewedLabStain } from '../reviewed-stain.js';

/** What a cancelled job's result says of the verdicts it had written (`finalDatasets`: those whose final classification was written). */
const PROVISIONAL = 'the verdicts written before the cancel are provisional (image by image, not classified together nor self-checked), except in the datasets listed in finalDatasets; classify the dataset (or analyze it again) for a checked count';

/** One dataset's classified cells, for the job's final classification: their ids and rows, in order. */
interface DatasetBatch {
  ids: string[];
  parts: FeatureMatrix[];
}

/** One dataset's final classification: what the classify stage said of it. */
interface DatasetVerdict {
  cells: number;
  stain: LabStainOutcome | null;
  selfCheck: SelfCheck | null;
}

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
  // The provisional count as images stream; the final one replaces it once each dataset is classified together.
  let counts: Record<string, number> = {};
  let cells = 0;
  let flagged = 0;
  let failed = 0;
  const failures: { path: string; reason: string }[] = [];
  // Per dataset, the rows of every cell the job classified, for their final classification together.
  const batches = new Map<string, DatasetBatch>();
  const keep = (datasetId: string, ids: string[], x: FeatureMatrix) => {
    if (!x.rows) return;
    const b = batches.get(datasetId) ?? { ids: [], parts: [] };
    b.ids.push(...ids);
    b.parts.push(x);
    batches.set(datasetId, b);
  };
  // Per dataset: the stain measurement its last classifyCells made with this classifier (null: none).
  const stains = new Map<string, DatasetStain | null>();
  if (crops && clf?.stain) for (const d of new Set(images.map((im) => im.dataset_id))) stains.set(d, await ctx.repos.lastDatasetStain(d, { classifierId: clfRow!.id, measured: true, checked: true }));
  await ctx.progress(0, images.length, `analyzing ${images.length} images`);
  for (let i = 0; i < images.length; i++) {
    if (ctx.cancelled()) return { status: 'cancelled', result: { cells, counts, flagged, failed, failures, ...(cells ? { provisional: PROVISIONAL, finalDatasets: [] } : {}) } };
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
    // Cells whose crop could not be read (the image moved since it was detected): each fails alone with its reason,
    // and keeps whatever verdict it had (a null written here would erase it).
    const unreadable = new Map<number, string>();
    if (clf && crops && stored.length) {
      const m = await morphologyOfCells(crops, stored.map((c) => ({ id: c.id, box: c.box, storagePath: img.storage_path, width: img.width, height: img.height })));
      // Image by image: the augmented forest, never the plain one (too few cells to measure the lab; classify.ts).
      const v = m.x.rows ? classifyCells(clf, m.x, { offsets: stains.get(img.dataset_id)?.offsets ?? new Map() }).verdicts : [];
      verdicts = stored.map(() => null);
      m.rows.forEach((r, i) => (verdicts![r] = v[i]!));
      for (const f of m.failed) unreadable.set(f.index, f.reason);
      keep(img.dataset_id, m.rows.map((r) => stored[r]!.id), m.x);
    } else if (clf && z) {
      const x = { data: z, rows: stored.length, cols: dim };
      verdicts = classifyCells(clf, x).verdicts;
      keep(img.dataset_id, stored.map((c) => c.id), { data: Float32Array.from(z), rows: stored.length, cols: dim });
    }
    if (z || verdicts) {
      await ctx.repos.cells.writeResults(stored.map((c, k) => {
        const v = verdicts?.[k] ?? null;
        if (v?.flagged) flagged++;
        else if (v) counts[v.label!] = (counts[v.label!] ?? 0) + 1;
        const prediction = unreadable.has(k) ? undefined : v ? { ...v, modelId: clfRow!.id } : null;
        return { id: c.id, prediction, ...(z ? { latent: { values: z.subarray(k * dim, (k + 1) * dim), encoderId: ae!.id } } : {}) };
      }));
    }
    for (const [k, c] of stored.entries()) {
      const why = unreadable.get(k);
      await ctx.item({ itemKind: 'cell', itemId: c.id, index: cells++, ok: why === undefined, ...(why !== undefined ? { error: why.slice(0, 500) } : {}) });
    }
    await ctx.progress(i + 1, images.length, `${cells} cells`);
  }
  const stages = ['detect', ...(ae ? ['encode'] : []), ...(clf ? ['classify'] : [])];
  let final = new Map<string, DatasetVerdict>();
  if (clf && batches.size) {
    const out = await classifyTogether(ctx, clf, clfRow!, batches, images.length);
    if ('cancelled' in out) return { status: 'cancelled', result: { cells, counts, flagged, failed, failures, provisional: PROVISIONAL, finalDatasets: out.finalDatasets } };
    final = out.datasets;
    ({ flagged, counts } = out);
  }
  const check = worstCheck([...final.values()].map((d) => d.selfCheck));
  return {
    status: 'succeeded',
    result: {
      cells, counts, flagged, failed, failures, stages, detectorId: det.id, autoencoderId: ae?.id ?? null, classifierId: clfRow?.id ?? null,
      ...(clf?.features === 'morphology' ? { stain: stainSummary(stains, final) } : {}),
      ...(check ? { selfCheck: check } : {}),
    },
    message: `${check?.warning ? `${check.warning} ` : ''}${cells} cells (${stages.join(' → ')})`,
  };
}

/**
 * The job's cells classified again per dataset, all of a dataset's together, in a worker thread (as the classify job
 * does: a large job's cells would hold the event loop past its lease), and their verdicts written over the provisional
 * ones, a dataset at a time in one transaction (a dataset is all final or all provisional). A failed self-check
 * withholds every class of that dataset's count (flag reason SELF_CHECK), as classify does. A lab whose reviewed cells
 * trained the classifier is moved as those cells were, as the classify job moves it (reviewed-stain.ts).
 * Progress stays on the job's scale of images (its item summary counts images), the message saying which dataset.
 */
async function classifyTogether(ctx: JobContext<AnalyzeParams>, clf: CellClassifier, clfRow: { id: string; metrics: unknown }, batches: Map<string, DatasetBatch>, images: number):
  Promise<{ cancelled: true; finalDatasets: string[] } | { datasets: Map<string, DatasetVerdict>; counts: Record<string, number>; flagged: number }> {
  const datasets = new Map<string, DatasetVerdict>();
  const counts: Record<string, number> = {};
  let flagged = 0;
  for (const [datasetId, b] of batches) {
    await ctx.progress(images, images, `classifying ${b.ids.length} cells of dataset ${datasetId} together (the classify job's stain step and self-check)`);
    const x = concatRows(b.parts);
    const lab = reviewedLabStain(clf, clfRow.metrics as Record<string, unknown> | null, datasetId, x.rows, 'auto');
    const out = await classifyCellsInWorker(clf, x, lab ? { labMove: { offsets: lab.offsets, note: lab.stain.note } } : {}, { cancelled: () => ctx.cancelled() });
    if (out.status === 'cancelled') return { cancelled: true, finalDatasets: [...datasets.keys()] };
    await ctx.repos.cells.writeResults(b.ids.map((id, r) => ({ id, prediction: { ...out.verdicts[r]!, modelId: clfRow.id } })));
    for (const v of out.verdicts) {
      if (v.flagged) flagged++;
      else counts[v.label!] = (counts[v.label!] ?? 0) + 1;
    }
    datasets.set(datasetId, { cells: b.ids.length, stain: lab?.stain ?? out.stain, selfCheck: out.selfCheck });
  }
  await ctx.progress(images, images, `${[...datasets.values()].reduce((n, d) => n + d.cells, 0)} cells classified, ${flagged} flagged`);
  return { datasets, counts, flagged };
}

const SEVERITY = { passed: 0, warning: 1, failed: 2 } as const;

/** The job's check: its one dataset's, or the gravest of its datasets' (each says what it found in its own words). */
function worstCheck(checks: Array<SelfCheck | null>): SelfCheck | null {
  let worst: SelfCheck | null = null;
  for (const c of checks) if (c && (!worst || SEVERITY[c.status] > SEVERITY[worst.status])) worst = c;
  return worst;
}

/**
 * The result's stain, per dataset: what the final classification's stain step did (`final`: its step, shift and note,
 * and that dataset's self-check status), and which measurement the provisional, streamed verdicts took (`provisional`).
 */
function stainSummary(stains: Map<string, DatasetStain | null>, final: Map<string, DatasetVerdict>) {
  const ids = new Set([...stains.keys(), ...final.keys()]);
  const datasets = Object.fromEntries([...ids].map((d) => {
    const s = stains.get(d) ?? null;
    const f = final.get(d);
    const provisional = s
      ? { fromJob: s.jobId, centred: s.offsets.size > 0, note: `as classify job ${s.jobId} measured: ${s.note}` }
      : { fromJob: null, centred: false, note: 'stain not adapted: no classifyCells over this dataset with this classifier yet (or its self-check failed)' };
    return [d, { centred: f?.stain?.centred ?? false, cells: f?.cells ?? 0, step: f?.stain?.step ?? null, statistic: f?.stain?.statistic ?? null, note: f?.stain?.note ?? 'no cell classified', selfCheck: f?.selfCheck?.status ?? null, provisional }];
  }));
  const moved = Object.values(datasets).filter((d) => d.centred).length;
  const note = stains.size === 0 && final.size === 0
    ? 'stain not adapted: the classifier has no stain reference'
    : `each dataset's cells classified together once every image was done, by the classify job's stain step (moved in ${moved} of ${ids.size} dataset(s)); ` +
      "the verdicts streamed image by image were provisional, with the stain the dataset's last classifyCells with this classifier measured";
  return { centred: moved > 0, datasets, note };
}

// The classify job: gives each cell of a dataset (or of listed images) a class and its probabilities with
// the resident classifier, or flags it, and streams each cell. An adapter: it reads the cells (a latent
// classifier's encoded by its encoder; a morphology classifier's measured from their crops), hands all of
// them at once to the pipeline's classify stage (src/pipeline/classify.ts: stain step, forest, neighbour
// consensus, verdicts, the batch's self-check), run in a worker thread (cell-classifying.ts), and writes the
// verdicts. A failed self-check has flagged every cell it would have counted (reason: self-check failed); the
// result and message say why.
import { treeProgress, type JobContext } from '../job-context.js';
import type { ClassifyParams, JobOutcome } from '../../jobs/job-kinds.js';
import { TrainingData } from '../training-data.js';
import { residentClassifier } from './resident.js';
import { morphologyOfCells } from '../../pipeline/morphology.js';
import { classifyCellsInWorker } from '../cell-classifying.js';
import { concatRows, type FeatureMatrix } from '../classifier/feature-matrix.js';
import { VerdictChanges } from '../verdict-changes.js';
import { reviewedLabStain } from '../reviewed-stain.js';
import { SELF_TRAINING_BY_DEFAULT } from '../../pipeline/defaults.js';

const CHUNK = 256;
export async function runClassify(ctx: JobContext<ClassifyParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const { row, clf } = await residentClassifier(ctx, p.classifierId);
  const morphology = clf.features === 'morphology';
  const cells = await ctx.repos.cells.cellsToClassify({ datasetId: p.datasetId, imageIds: p.imageIds, encoderId: morphology ? null : clf.encoderId });
  if (cells.length === 0) {
    return { status: 'failed', error: morphology ? 'no detected cells: run detectCells first' : `no cells encoded with the classifier's encoder ${clf.encoderId}: run encodeCells first` };
  }
  // Row r of x is cell order[r]; the cells left out (their image unreadable) are reported alone.
  let x: FeatureMatrix;
  let order: number[];
  const unmeasured = new Map<number, string>();
  if (morphology) {
    const crops = TrainingData.forJob(ctx);
    const parts: FeatureMatrix[] = [];
    order = [];
    await ctx.progress(0, cells.length, `measuring ${cells.length} cells`);
    for (let s = 0; s < cells.length; s += CHUNK) {
      if (ctx.cancelled()) return { status: 'cancelled', result: { classified: 0, flagged: 0, counts: {} } };
      const chunk = cells.slice(s, s + CHUNK);
      const m = await morphologyOfCells(crops, chunk.map((c) => ({ id: c.id, box: c.box, storagePath: c.storage_path, width: c.width, height: c.height })));
      parts.push(m.x);
      for (const r of m.rows) order.push(s + r);
      for (const f of m.failed) unmeasured.set(s + f.index, f.reason || 'unreadable');
      await ctx.progress(Math.min(s + CHUNK, cells.length), cells.length, `measured ${Math.min(s + CHUNK, cells.length)} of ${cells.length} cells`);
    }
    x = concatRows(parts);
  } else {
    order = cells.map((_, k) => k);
    const cols = cells[0]!.latent!.length;
    const data = new Float32Array(cells.length * cols);
    cells.forEach((c, k) => data.set(c.latent!, k * cols));
    x = { data, rows: cells.length, cols };
  }
  await ctx.progress(0, cells.length, `classifying ${cells.length} cells`);
  // A classifier trained with this lab's reviewed cells moves the lab as those cells were moved (reviewed-stain.ts).
  const lab = reviewedLabStain(clf, row.metrics, p.datasetId, x.rows, p.stainAdaptation ?? 'auto');
  // In a worker thread: on the event loop, 20,000 cells held it 3-4 s, 12-15 s with consensus (cell-classifying.ts),
  // near or past the job's lease (max(5 s, 2 heartbeats)).
  const classified = await classifyCellsInWorker(
    clf, x, { stainAdaptation: p.stainAdaptation ?? 'auto', consensus: p.neighbourConsensus ?? false, selfTraining: p.selfTraining ?? SELF_TRAINING_BY_DEFAULT, ...(lab ? { labMove: { offsets: lab.offsets, note: lab.stain.note } } : {}) },
    // The refit is most of self-training's 11 s (self-training.ts), which the job would otherwise spend at "classifying N
    // cells"; its own done/total (trees), as measuring and writing each report theirs (cells).
    { cancelled: () => ctx.cancelled(), onSelfTrainingTree: treeProgress(ctx, (done, total) => `self-training on ${cells.length} cells: fitted ${done} of ${total} trees of the refitted forest`) },
  );
  if (classified.status === 'cancelled') return { status: 'cancelled', result: { classified: 0, flagged: 0, counts: {} } };
  const { verdicts, consensus, selfCheck: check, selfTraining } = classified;
  const stain = lab?.stain ?? classified.stain;
  const verdictOf = new Map(order.map((k, r) => [k, verdicts[r]!]));
  let done = 0;
  let flagged = 0;
  let unreadable = 0;
  // What this job changes of the cells' earlier verdicts (after a retraining: what the reviews taught).
  const changes = new VerdictChanges();
  const counts: Record<string, number> = {};
  for (let s = 0; s < cells.length; s += CHUNK) {
    if (ctx.cancelled()) return { status: 'cancelled', result: { classified: done, flagged, counts } };
    const chunk = cells.slice(s, s + CHUNK);
    const writes: Array<{ id: string; prediction: unknown }> = [];
    for (let i = 0; i < chunk.length; i++) {
      const v = verdictOf.get(s + i);
      if (v) writes.push({ id: chunk[i]!.id, prediction: { ...v, modelId: row.id } });
      else {
        unreadable++;
        await ctx.item({ itemKind: 'cell', itemId: chunk[i]!.id, index: done + i, ok: false, error: (unmeasured.get(s + i) ?? 'unreadable').slice(0, 500) });
      }
    }
    await ctx.repos.cells.writeResults(writes);
    for (let i = 0; i < chunk.length; i++) {
      const v = verdictOf.get(s + i);
      if (!v) continue;
      changes.add(chunk[i]!.id, chunk[i]!.before, v);
      if (v.flagged) flagged++;
      else counts[v.label!] = (counts[v.label!] ?? 0) + 1;
      await ctx.item({ itemKind: 'cell', itemId: chunk[i]!.id, index: done + i, ok: true });
    }
    done += chunk.length;
    await ctx.progress(done, cells.length, `${done} cells classified, ${flagged} flagged`);
  }
  const bad = unreadable ? `, ${unreadable} unreadable` : '';
  return {
    status: 'succeeded',
    result: {
      classified: done - unreadable, flagged, counts, unreadable, features: clf.features, classifierId: row.id, changes: changes.summary(),
      ...(stain ? { stain } : {}), ...(consensus ? { consensus } : {}), ...(check ? { selfCheck: check } : {}), ...(selfTraining ? { selfTraining } : {}),
    },
    message:
      `${check?.warning ? `${check.warning} ` : ''}${done - unreadable} cells: ${JSON.stringify(counts)}, ${flagged} flagged${bad}` +
      `${stain ? `; ${stain.note}` : ''}${consensus ? `; ${consensus.note}` : ''}${selfTraining ? `; ${selfTraining.note}` : ''}`,
  };
}

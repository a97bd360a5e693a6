// The classify job: gives each cell of a dataset (or of listed images) a class and its probabilities with
// the resident classifier, or flags it when it looks unlike the training data, and streams each cell. A
// latent classifier needs cells encoded by its encoder; a morphology classifier measures each cell's crop,
// first all of them, then the lab's stain step, the forest, neighbour consensus when asked and the job's
// self-check (classifier/lab-classification.ts) before any verdict is written. A failed self-check flags every
// cell it would have counted (reason: self-check failed) and says why in the result and message.
import type { JobContext } from '../job-context.js';
import type { ClassifyParams, JobOutcome } from '../../jobs/job-kinds.js';
import { classifyLatents, type CellClassifier } from '../classifier/classifier-artifact.js';
import { relaxedCommit } from '../../db/sql.js';
import { TrainingData } from '../training-data.js';
import { readClassifierFile } from '../classifier/classifier-file.js';
import { morphologyOfCells } from '../cell-morphology-features.js';
import { MORPHOLOGY_LENGTH } from '../../imaging/cell-morphology.js';
import { predictProba } from '../classifier/random-forest.js';
import { decideConsensus, type ConsensusOutcome } from '../classifier/consensus-decision.js';
import { checkBatch, classifyLab, type LabStainOutcome } from '../classifier/lab-classification.js';
import { stainStepOf } from '../classifier/stain-steps.js';
import { selfCheckReason, type SelfCheck } from '../classifier/self-check.js';
import { VerdictChanges } from '../verdict-changes.js';

const CHUNK = 256;
export async function runClassify(ctx: JobContext<ClassifyParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const { row, value: clf } = await ctx.models.get<CellClassifier>('classifier', p.classifierId, (r) => readClassifierFile(ctx.blobs, r.artifactPath));
  ctx.models.reportRuntime({ name: 'random-forest', backend: 'typescript', device: 'cpu', detail: `${clf.forest.trees.length} trees` });
  const morphology = clf.features === 'morphology';
  const cells: { id: string; latent: number[] | null; box: [number, number, number, number]; storage_path: string; width: number; height: number; before: { label: string | null; flagged: boolean } | null }[] = await ctx.ds.query(
    `SELECT c.id, c.latent, c.box, i.storage_path, i.width, i.height, c.prediction AS before FROM cells c JOIN images i ON i.id = c.image_id
      WHERE ($1::uuid IS NULL OR i.dataset_id = $1) AND ($2::uuid[] IS NULL OR i.id = ANY($2))
        AND ($3::uuid IS NULL OR (c.latent IS NOT NULL AND c.encoder_id = $3))
      ORDER BY i.source_path, c.index`,
    [p.datasetId ?? null, p.imageIds ?? null, morphology ? null : clf.encoderId],
  );
  if (cells.length === 0) {
    return { status: 'failed', error: morphology ? 'no detected cells: run detectCells first' : `no cells encoded with the classifier's encoder ${clf.encoderId}: run encodeCells first` };
  }
  const crops = morphology ? TrainingData.forJob(ctx) : null;
  let done = 0;
  let flagged = 0;
  let unreadable = 0;
  // What this job changes of the cells' earlier verdicts (after a retraining: what the reviews taught).
  const changes = new VerdictChanges();
  const counts: Record<string, number> = {};
  // Morphology: every cell measured first (cell k's values at k * MORPHOLOGY_LENGTH, or why it could not be
  // measured), then the stain decision over all of them.
  const measured = crops ? new Float32Array(cells.length * MORPHOLOGY_LENGTH) : null;
  const unmeasured = new Map<number, string>();
  const valuesOf = (k: number) => measured!.subarray(k * MORPHOLOGY_LENGTH, (k + 1) * MORPHOLOGY_LENGTH);
  let stain: LabStainOutcome | null = null;
  let check: SelfCheck | null = null;
  if (crops) {
    await ctx.progress(0, cells.length, `measuring ${cells.length} cells`);
    for (let s = 0; s < cells.length; s += CHUNK) {
      if (ctx.cancelled()) return { status: 'cancelled', result: { classified: 0, flagged: 0, counts: {} } };
      const chunk = cells.slice(s, s + CHUNK);
      const m = await morphologyOfCells(crops, chunk.map((c) => ({ id: c.id, box: c.box, storagePath: c.storage_path, width: c.width, height: c.height })));
      m.rows.forEach((r, i) => valuesOf(s + r).set(m.x.data.subarray(i * MORPHOLOGY_LENGTH, (i + 1) * MORPHOLOGY_LENGTH)));
      for (const f of m.failed) unmeasured.set(s + f.index, f.reason || 'unreadable');
      await ctx.progress(Math.min(s + CHUNK, cells.length), cells.length, `measured ${Math.min(s + CHUNK, cells.length)} of ${cells.length} cells`);
    }
  }
  // The cells that can be classified, in order: row r of the matrix below is cell order[r].
  const order = cells.flatMap((_, k) => (unmeasured.has(k) ? [] : [k]));
  // Every cell's values in one matrix (morphology: as the stain step moved them), their probabilities (after
  // neighbour consensus when asked), before any verdict is written.
  const cols = measured ? MORPHOLOGY_LENGTH : cells[0]!.latent!.length;
  let data: Float32Array | Float64Array;
  let proba: Float64Array;
  let consensus: ConsensusOutcome | null = null;
  const K = clf.classNames.length;
  if (measured) {
    const { step, limit } = stainStepOf(p.stainAdaptation);
    const lab = classifyLab(clf, order.map(valuesOf), { step, limit, mode: p.stainAdaptation ?? 'auto', neighbourConsensus: p.neighbourConsensus ?? false });
    ({ stain, consensus, proba, selfCheck: check } = lab);
    data = lab.x.data;
  } else {
    data = new Float32Array(order.length * cols);
    order.forEach((k, r) => data.set(cells[k]!.latent!, r * cols));
    proba = order.length ? predictProba(clf.forest, { data, rows: order.length, cols }) : new Float64Array(0);
    // Latent classifiers say so only when consensus was asked for (their results are otherwise as before).
    if (p.neighbourConsensus) ({ consensus, proba } = decideConsensus({ data, rows: order.length, cols }, proba, K, true, clf.features));
    check = checkBatch(clf, { data, rows: order.length, cols }, proba);
  }
  await ctx.progress(0, cells.length, `classifying ${cells.length} cells${stain ? ` (${stain.note})` : ''}`);
  const withheld = check?.status === 'failed' ? selfCheckReason(check) : null;
  // The chunks' classifiable cells are consecutive rows of x: the next chunk's start at row r0.
  let r0 = 0;
  for (let s = 0; s < cells.length; s += CHUNK) {
    if (ctx.cancelled()) return { status: 'cancelled', result: { classified: done, flagged, counts } };
    const chunk = cells.slice(s, s + CHUNK);
    // verdicts[i] belongs to chunk[rows[i]]; a cell whose image cannot be read any more is reported alone.
    const rows: number[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const why = unmeasured.get(s + i);
      if (why === undefined) rows.push(i);
      else {
        unreadable++;
        await ctx.item({ itemKind: 'cell', itemId: chunk[i]!.id, index: done + i, ok: false, error: why.slice(0, 500) });
      }
    }
    const xc = { data: data.subarray(r0 * cols, (r0 + rows.length) * cols), rows: rows.length, cols };
    const verdicts = rows.length ? classifyLatents(clf, xc, proba.subarray(r0 * K, (r0 + rows.length) * K)) : [];
    // A failed self-check withholds every class the job would have counted (the probabilities stay, for review).
    if (withheld) for (const v of verdicts) if (!v.flagged) Object.assign(v, { label: null, flagged: true, reason: withheld });
    await ctx.ds.transaction(async (m) => {
      await relaxedCommit(m);
      for (let i = 0; i < rows.length; i++) {
        await m.query(`UPDATE cells SET prediction = $2 WHERE id = $1`, [chunk[rows[i]!].id, { ...verdicts[i], modelId: row.id }]);
      }
    });
    for (let i = 0; i < rows.length; i++) {
      const v = verdicts[i]!;
      changes.add(chunk[rows[i]!].id, chunk[rows[i]!].before, v);
      if (v.flagged) flagged++;
      else counts[v.label!] = (counts[v.label!] ?? 0) + 1;
      await ctx.item({ itemKind: 'cell', itemId: chunk[rows[i]!].id, index: done + rows[i]!, ok: true });
    }
    done += chunk.length;
    r0 += rows.length;
    await ctx.progress(done, cells.length, `${done} cells classified, ${flagged} flagged`);
  }
  const bad = unreadable ? `, ${unreadable} unreadable` : '';
  return {
    status: 'succeeded',
    result: {
      classified: done - unreadable, flagged, counts, unreadable, features: clf.features, classifierId: row.id, changes: changes.summary(),
      ...(stain ? { stain } : {}), ...(consensus ? { consensus } : {}), ...(check ? { selfCheck: check } : {}),
    },
    message:
      `${check?.warning ? `${check.warning} ` : ''}${done - unreadable} cells: ${JSON.stringify(counts)}, ${flagged} flagged${bad}` +
      `${stain ? `; ${stain.note}` : ''}${consensus ? `; ${consensus.note}` : ''}`,
  };
}

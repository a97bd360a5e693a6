// The classify job: gives each cell of a dataset (or of listed images) a class and its probabilities with
// the resident classifier, or flags it when it looks unlike the training data, and streams each cell. A
// latent classifier needs cells encoded by its encoder; a morphology classifier measures each cell's crop,
// first all of them: the cells' stain is compared with the training cells' (src/evaluation/stain-shift.ts)
// and, when it differs by more than a class mix explains, moved onto the training medians before the forest;
// then each cell's probabilities are averaged with those of its nearest neighbours among the job's cells
// (neighbour-consensus.ts) before the verdicts are written.
import type { JobContext } from '../job-context.js';
import type { ClassifyParams, JobOutcome } from '../../jobs/job-kinds.js';
import { classifyLatents, type CellClassifier } from '../classifier/classifier-artifact.js';
import { relaxedCommit } from '../../db/sql.js';
import { TrainingData } from '../training-data.js';
import { readClassifierFile } from '../classifier/classifier-file.js';
import { morphologyOfCells } from '../cell-morphology-features.js';
import { decideStain, type StainOutcome } from '../classifier/stain-adaptation.js';
import { applyOffsets } from '../../evaluation/stain-shift.js';
import { MORPHOLOGY_LENGTH } from '../../imaging/cell-morphology.js';
import { predictProba } from '../classifier/random-forest.js';
import { decideConsensus, type ConsensusOutcome } from '../classifier/consensus-decision.js';
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
  let stain: StainOutcome | null = null;
  let offsets = new Map<number, number>();
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
  if (measured) ({ stain, offsets } = decideStain(clf, order.map(valuesOf), p.stainAdaptation ?? 'auto'));
  // Every cell's values in one matrix (morphology moved by the stain offsets), their probabilities, then the
  // neighbour consensus over all of them, before any verdict is written.
  const cols = measured ? MORPHOLOGY_LENGTH : cells[0]!.latent!.length;
  const data = new Float32Array(order.length * cols);
  order.forEach((k, r) => {
    if (measured) {
      data.set(valuesOf(k), r * cols);
      applyOffsets(data, offsets, r * cols);
    } else data.set(cells[k]!.latent!, r * cols);
  });
  const x = { data, rows: order.length, cols };
  await ctx.progress(0, cells.length, `classifying ${cells.length} cells${stain ? ` (${stain.note})` : ''}`);
  const K = clf.classNames.length;
  let proba = x.rows ? predictProba(clf.forest, x) : new Float64Array(0);
  let consensus: ConsensusOutcome | null = null;
  // Latent classifiers say so only when consensus was asked for (their results are otherwise as before).
  if (measured || p.neighbourConsensus) ({ consensus, proba } = decideConsensus(x, proba, K, p.neighbourConsensus ?? false, clf.features));
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
    result: { classified: done - unreadable, flagged, counts, unreadable, features: clf.features, classifierId: row.id, changes: changes.summary(), ...(stain ? { stain } : {}), ...(consensus ? { consensus } : {}) },
    message: `${done - unreadable} cells: ${JSON.stringify(counts)}, ${flagged} flagged${bad}${stain ? `; ${stain.note}` : ''}${consensus ? `; ${consensus.note}` : ''}`,
  };
}

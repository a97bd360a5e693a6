// The classify job: gives each cell of a dataset (or of listed images) a class and its probabilities with
// the resident classifier, or flags it when it looks unlike the training data, and streams each cell. A
// latent classifier needs cells encoded by its encoder; a morphology classifier measures each cell's crop.
import { readFile } from 'node:fs/promises';
import type { JobContext } from '../job-context.js';
import type { ClassifyParams, JobOutcome } from '../../jobs/job-kinds.js';
import { classifierFromJson, classifyLatents, type CellClassifier } from '../classifier/classifier-artifact.js';
import { relaxedCommit } from '../../db/sql.js';
import { TrainingData } from '../training-data.js';
import { morphologyOfCells } from '../cell-morphology-features.js';

const CHUNK = 256;

export async function runClassify(ctx: JobContext<ClassifyParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const { row, value: clf } = await ctx.models.get<CellClassifier>('classifier', p.classifierId, async (r) => classifierFromJson(await readFile(r.artifactPath, 'utf8')));
  ctx.models.reportRuntime({ name: 'random-forest', backend: 'typescript', device: 'cpu', detail: `${clf.forest.trees.length} trees` });
  const morphology = clf.features === 'morphology';
  const cells: { id: string; latent: number[] | null; box: [number, number, number, number]; storage_path: string; width: number; height: number }[] = await ctx.ds.query(
    `SELECT c.id, c.latent, c.box, i.storage_path, i.width, i.height FROM cells c JOIN images i ON i.id = c.image_id
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
  const counts: Record<string, number> = {};
  await ctx.progress(0, cells.length, `classifying ${cells.length} cells`);
  for (let s = 0; s < cells.length; s += CHUNK) {
    if (ctx.cancelled()) return { status: 'cancelled', result: { classified: done, flagged, counts } };
    const chunk = cells.slice(s, s + CHUNK);
    // verdicts[i] belongs to chunk[rows[i]]; a cell whose image cannot be read any more is reported alone.
    let rows = chunk.map((_, i) => i);
    let x;
    if (crops) {
      const m = await morphologyOfCells(crops, chunk.map((c) => ({ id: c.id, box: c.box, storagePath: c.storage_path, width: c.width, height: c.height })));
      rows = m.rows;
      x = m.x;
      for (const f of m.failed) {
        unreadable++;
        await ctx.item({ itemKind: 'cell', itemId: f.id, index: done + f.index, ok: false, error: f.reason.slice(0, 500) });
      }
    } else {
      const dim = chunk[0].latent!.length;
      const data = new Float32Array(chunk.length * dim);
      chunk.forEach((c, i) => data.set(c.latent!, i * dim));
      x = { data, rows: chunk.length, cols: dim };
    }
    const verdicts = x.rows ? classifyLatents(clf, x) : [];
    await ctx.ds.transaction(async (m) => {
      await relaxedCommit(m);
      for (let i = 0; i < rows.length; i++) {
        await m.query(`UPDATE cells SET prediction = $2 WHERE id = $1`, [chunk[rows[i]!].id, { ...verdicts[i], modelId: row.id }]);
      }
    });
    for (let i = 0; i < rows.length; i++) {
      const v = verdicts[i]!;
      if (v.flagged) flagged++;
      else counts[v.label!] = (counts[v.label!] ?? 0) + 1;
      await ctx.item({ itemKind: 'cell', itemId: chunk[rows[i]!].id, index: done + rows[i]!, ok: true });
    }
    done += chunk.length;
    await ctx.progress(done, cells.length, `${done} cells classified, ${flagged} flagged`);
  }
  const bad = unreadable ? `, ${unreadable} unreadable` : '';
  return {
    status: 'succeeded',
    result: { classified: done - unreadable, flagged, counts, unreadable, features: clf.features, classifierId: row.id },
    message: `${done - unreadable} cells: ${JSON.stringify(counts)}, ${flagged} flagged${bad}`,
  };
}

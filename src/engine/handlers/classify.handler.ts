// The classify job: gives each encoded cell of a dataset (or of listed images) a class and its
// probabilities with the resident classifier, or flags it when it looks unlike the training data, and
// streams each cell. Cells must carry latents of the encoder the classifier was trained on.
import { readFile } from 'node:fs/promises';
import type { JobContext } from '../job-context.js';
import type { ClassifyParams, JobOutcome } from '../../jobs/job-kinds.js';
import { classifierFromJson, classifyLatents, type CellClassifier } from '../classifier/classifier-artifact.js';
import { relaxedCommit } from '../../db/sql.js';

const CHUNK = 256;

export async function runClassify(ctx: JobContext<ClassifyParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const { row, value: clf } = await ctx.models.get<CellClassifier>('classifier', p.classifierId, async (r) => classifierFromJson(await readFile(r.artifactPath, 'utf8')));
  ctx.models.reportRuntime({ name: 'random-forest', backend: 'typescript', device: 'cpu', detail: `${clf.forest.trees.length} trees` });
  const cells: { id: string; latent: number[] }[] = await ctx.ds.query(
    `SELECT c.id, c.latent FROM cells c JOIN images i ON i.id = c.image_id
      WHERE ($1::uuid IS NULL OR i.dataset_id = $1) AND ($2::uuid[] IS NULL OR i.id = ANY($2))
        AND c.latent IS NOT NULL AND c.encoder_id = $3
      ORDER BY i.source_path, c.index`,
    [p.datasetId ?? null, p.imageIds ?? null, clf.encoderId],
  );
  if (cells.length === 0) return { status: 'failed', error: `no cells encoded with the classifier's encoder ${clf.encoderId}: run encodeCells first` };
  let done = 0;
  let flagged = 0;
  const counts: Record<string, number> = {};
  await ctx.progress(0, cells.length, `classifying ${cells.length} cells`);
  for (let s = 0; s < cells.length; s += CHUNK) {
    if (ctx.cancelled()) return { status: 'cancelled', result: { classified: done, flagged, counts } };
    const chunk = cells.slice(s, s + CHUNK);
    const dim = chunk[0].latent.length;
    const data = new Float32Array(chunk.length * dim);
    chunk.forEach((c, i) => data.set(c.latent, i * dim));
    const verdicts = classifyLatents(clf, { data, rows: chunk.length, cols: dim });
    await ctx.ds.transaction(async (m) => {
      await relaxedCommit(m);
      for (let i = 0; i < chunk.length; i++) {
        await m.query(`UPDATE cells SET prediction = $2 WHERE id = $1`, [chunk[i].id, { ...verdicts[i], modelId: row.id }]);
      }
    });
    for (let i = 0; i < chunk.length; i++) {
      const v = verdicts[i];
      if (v.flagged) flagged++;
      else counts[v.label!] = (counts[v.label!] ?? 0) + 1;
      await ctx.item({ itemKind: 'cell', itemId: chunk[i].id, index: done + i, ok: true });
    }
    done += chunk.length;
    await ctx.progress(done, cells.length, `${done} cells classified, ${flagged} flagged`);
  }
  return { status: 'succeeded', result: { classified: done, flagged, counts, classifierId: row.id }, message: `${done} cells: ${JSON.stringify(counts)}, ${flagged} flagged` };
}

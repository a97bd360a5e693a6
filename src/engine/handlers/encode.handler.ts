// The encode job: turns each cell's instance features into its 50-d AE-CFE latent with the resident
// autoencoder (the pipeline's encodeCells), stores it in the cell row and streams each cell. Cells already
// encoded with the same autoencoder are skipped, so a rerun writes nothing twice.
import type { JobContext } from '../job-context.js';
import type { EncodeParams, JobOutcome } from '../../jobs/job-kinds.js';
import { encodeCells } from '../../pipeline/encode.js';
import { residentAutoencoder } from './resident.js';
import { chooseTrainingWorkers, createTrainingPool, type TrainingPool } from '../autoencoder/index.js';

export { residentAutoencoder };

const CHUNK = 64;
/** Below this many cells the worker threads' start-up (a second or two) outweighs what they save. */
const POOL_MIN_CELLS = 2048;

export async function runEncode(ctx: JobContext<EncodeParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const { id: encoderId, model } = await residentAutoencoder(ctx, p.autoencoderId);
  const cells = await ctx.repos.cells.cellsToEncode(p.datasetId, p.detectorId, encoderId);
  let done = 0;
  let failed = 0;
  const t0 = Date.now();
  await ctx.progress(0, cells.length, `encoding ${cells.length} cells`);
  // Many cells: the chunks are cut between worker threads (the engine's choice, as for training).
  const workers = cells.length >= POOL_MIN_CELLS ? chooseTrainingWorkers(model, CHUNK) : 0;
  const pool: TrainingPool | null = workers > 0 ? await createTrainingPool(model, { workers }).catch(() => null) : null;
  try {
    for (let s = 0; s < cells.length; s += CHUNK) {
      if (ctx.cancelled()) return { status: 'cancelled', result: { encoded: done, encoderId } };
      const all = cells.slice(s, s + CHUNK);
      // A cell whose feature file cannot be read fails alone, with its reason: thrown, it would fail the job on the
      // same cell at every retry (encoded cells are skipped) and leave every cell after it unencoded.
      const chunk: typeof all = [];
      const index: number[] = [];
      const feats: Float32Array[] = [];
      for (const [i, c] of all.entries()) {
        try {
          feats.push(await ctx.features.read(c.feature_ref));
          chunk.push(c);
          index.push(s + i);
        } catch (err) {
          failed++;
          await ctx.item({ itemKind: 'cell', itemId: c.id, index: s + i, ok: false, error: (err as Error).message.slice(0, 500) });
        }
      }
      if (chunk.length) {
        const z = await encodeCells(model, feats, { chunk: CHUNK, pool });
        const dim = z.length / chunk.length;
        await ctx.repos.cells.writeResults(chunk.map((c, i) => ({ id: c.id, latent: { values: z.subarray(i * dim, (i + 1) * dim), encoderId } })));
        for (const [k, c] of chunk.entries()) await ctx.item({ itemKind: 'cell', itemId: c.id, index: index[k]!, ok: true });
      }
      done += chunk.length;
      await ctx.progress(s + all.length, cells.length, `${done} cells encoded${failed ? `, ${failed} failed` : ''}`, { cellsPerSec: Math.round(done / ((Date.now() - t0) / 1000)) });
    }
  } finally {
    await pool?.close();
  }
  return { status: 'succeeded', result: { encoded: done, failed, encoderId }, message: `${done} cells encoded` };
}

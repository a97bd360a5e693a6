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
  const t0 = Date.now();
  await ctx.progress(0, cells.length, `encoding ${cells.length} cells`);
  // Many cells: the chunks are cut between worker threads (the engine's choice, as for training).
  const workers = cells.length >= POOL_MIN_CELLS ? chooseTrainingWorkers(model, CHUNK) : 0;
  const pool: TrainingPool | null = workers > 0 ? await createTrainingPool(model, { workers }).catch(() => null) : null;
  try {
    for (let s = 0; s < cells.length; s += CHUNK) {
      if (ctx.cancelled()) return { status: 'cancelled', result: { encoded: done, encoderId } };
      const chunk = cells.slice(s, s + CHUNK);
      const feats: Float32Array[] = [];
      for (const c of chunk) feats.push(await ctx.features.read(c.feature_ref));
      const z = await encodeCells(model, feats, { chunk: CHUNK, pool });
      const dim = z.length / chunk.length;
      await ctx.repos.cells.writeResults(chunk.map((c, i) => ({ id: c.id, latent: { values: z.subarray(i * dim, (i + 1) * dim), encoderId } })));
      for (let i = 0; i < chunk.length; i++) await ctx.item({ itemKind: 'cell', itemId: chunk[i]!.id, index: done + i, ok: true });
      done += chunk.length;
      await ctx.progress(done, cells.length, `${done} cells encoded`, { cellsPerSec: Math.round(done / ((Date.now() - t0) / 1000)) });
    }
  } finally {
    await pool?.close();
  }
  return { status: 'succeeded', result: { encoded: done, encoderId }, message: `${done} cells encoded` };
}

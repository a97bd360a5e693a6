// The encode job: turns each cell's instance features into its 50-d AE-CFE latent with the resident
// autoencoder, stores it in the cell row and streams each cell. Cells already encoded with the same
// autoencoder are skipped, so a rerun writes nothing twice.
import type { JobContext } from '../job-context.js';
import type { EncodeParams, JobOutcome } from '../../jobs/job-kinds.js';
import { loadAutoencoder, disposeAutoencoder, encode, describeAutoencoder, type AutoencoderModel } from '../autoencoder/index.js';
import { FEATURE_LENGTH, chwToHwc } from '../feature-store.js';
import { relaxedCommit } from '../../db/sql.js';

const CHUNK = 64;

export async function residentAutoencoder(ctx: JobContext<unknown>, id?: string): Promise<{ id: string; model: AutoencoderModel }> {
  const { row, value } = await ctx.models.get('autoencoder', id, async (r) => loadAutoencoder(new Uint8Array(await ctx.blobs.read(r.artifactPath))), disposeAutoencoder);
  const info = describeAutoencoder(value);
  ctx.models.reportRuntime({ name: 'tfjs', backend: info.backend, device: info.device });
  return { id: row.id, model: value };
}

export async function runEncode(ctx: JobContext<EncodeParams>): Promise<JobOutcome> {
  const p = ctx.params;
  const { id: encoderId, model } = await residentAutoencoder(ctx, p.autoencoderId);
  const cells: { id: string; feature_ref: string }[] = await ctx.ds.query(
    `SELECT c.id, c.feature_ref FROM cells c JOIN images i ON i.id = c.image_id
      WHERE i.dataset_id = $1 AND c.feature_ref IS NOT NULL AND ($2::uuid IS NULL OR c.detector_id = $2)
        AND c.encoder_id IS DISTINCT FROM $3
      ORDER BY i.source_path, c.index`,
    [p.datasetId, p.detectorId ?? null, encoderId],
  );
  let done = 0;
  const t0 = Date.now();
  await ctx.progress(0, cells.length, `encoding ${cells.length} cells`);
  for (let s = 0; s < cells.length; s += CHUNK) {
    if (ctx.cancelled()) return { status: 'cancelled', result: { encoded: done, encoderId } };
    const chunk = cells.slice(s, s + CHUNK);
    const feats = new Float32Array(chunk.length * FEATURE_LENGTH);
    for (let i = 0; i < chunk.length; i++) chwToHwc(await ctx.features.read(chunk[i].feature_ref), feats, i * FEATURE_LENGTH);
    const z = await encode(model, feats, chunk.length);
    const dim = z.length / chunk.length;
    await ctx.ds.transaction(async (m) => {
      await relaxedCommit(m);
      for (let i = 0; i < chunk.length; i++) {
        await m.query(`UPDATE cells SET latent = $2, encoder_id = $3 WHERE id = $1`, [chunk[i].id, Array.from(z.subarray(i * dim, (i + 1) * dim)), encoderId]);
      }
    });
    for (let i = 0; i < chunk.length; i++) await ctx.item({ itemKind: 'cell', itemId: chunk[i].id, index: done + i, ok: true });
    done += chunk.length;
    await ctx.progress(done, cells.length, `${done} cells encoded`, { cellsPerSec: Math.round(done / ((Date.now() - t0) / 1000)) });
  }
  return { status: 'succeeded', result: { encoded: done, encoderId }, message: `${done} cells encoded` };
}

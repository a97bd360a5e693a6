// The resident models as the handlers take them: the classifier and the autoencoder, loaded once per
// engine (resident-models.ts) from the object store, and reported with the runtime that runs them.
import { gunzipSync } from 'node:zlib';
import type { JobContext } from '../job-context.js';
import type { CellClassifier } from '../classifier/classifier-artifact.js';
import { readClassifierFile } from '../classifier/classifier-file.js';
import { loadAutoencoder, disposeAutoencoder, describeAutoencoder, type AutoencoderModel } from '../autoencoder/index.js';
import type { ModelEntity } from '../../db/entities/index.js';

/**
 * A bundled latent classifier reads the latents of the bundled encoder as this database registered it (its row's
 * params.encoderId, src/services/model.service.ts), not of the id its file was trained with elsewhere.
 */
export function withRowEncoder(clf: CellClassifier, row: Pick<ModelEntity, 'params'>): CellClassifier {
  const id = (row.params as Record<string, unknown> | null)?.encoderId;
  return clf.features === 'latent' && (row.params as Record<string, unknown> | null)?.bundled === true && typeof id === 'string' && id !== clf.encoderId
    ? { ...clf, encoderId: id }
    : clf;
}

/** gzip's magic bytes: the autoencoder bundled in models/ is kept gzipped. */
const ungzip = (b: Buffer): Buffer => (b.length > 2 && b[0] === 0x1f && b[1] === 0x8b ? gunzipSync(b) : b);

export async function residentClassifier(ctx: JobContext<unknown>, id?: string): Promise<{ row: ModelEntity; clf: CellClassifier }> {
  const { row, value } = await ctx.models.get<CellClassifier>('classifier', id, async (r) => withRowEncoder(await readClassifierFile(ctx.blobs, r.artifactPath), r));
  ctx.models.reportRuntime({ name: 'random-forest', backend: 'typescript', device: 'cpu', detail: `${value.forest.trees.length} trees` });
  return { row, clf: value };
}

export async function residentAutoencoder(ctx: JobContext<unknown>, id?: string): Promise<{ id: string; model: AutoencoderModel }> {
  const { row, value } = await ctx.models.get('autoencoder', id, async (r) => loadAutoencoder(new Uint8Array(ungzip(await ctx.blobs.read(r.artifactPath)))), disposeAutoencoder);
  const info = describeAutoencoder(value);
  ctx.models.reportRuntime({ name: 'tfjs', backend: info.backend, device: info.device });
  return { id: row.id, model: value };
}

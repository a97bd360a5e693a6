// The resident models as the handlers take them: the classifier and the autoencoder, loaded once per
// engine (resident-models.ts) from the object store, and reported with the runtime that runs them.
import type { JobContext } from '../job-context.js';
import type { CellClassifier } from '../classifier/classifier-artifact.js';
import { readClassifierFile } from '../classifier/classifier-file.js';
import { loadAutoencoder, disposeAutoencoder, describeAutoencoder, type AutoencoderModel } from '../autoencoder/index.js';
import type { ModelEntity } from '../../db/entities/index.js';

export async function residentClassifier(ctx: JobContext<unknown>, id?: string): Promise<{ row: ModelEntity; clf: CellClassifier }> {
  const { row, value } = await ctx.models.get<CellClassifier>('classifier', id, (r) => readClassifierFile(ctx.blobs, r.artifactPath));
  ctx.models.reportRuntime({ name: 'random-forest', backend: 'typescript', device: 'cpu', detail: `${value.forest.trees.length} trees` });
  return { row, clf: value };
}

export async function residentAutoencoder(ctx: JobContext<unknown>, id?: string): Promise<{ id: string; model: AutoencoderModel }> {
  const { row, value } = await ctx.models.get('autoencoder', id, async (r) => loadAutoencoder(new Uint8Array(await ctx.blobs.read(r.artifactPath))), disposeAutoencoder);
  const info = describeAutoencoder(value);
  ctx.models.reportRuntime({ name: 'tfjs', backend: info.backend, device: info.device });
  return { id: row.id, model: value };
}

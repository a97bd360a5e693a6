// The resident models as the handlers take them: the classifier and the autoencoder, loaded once per
// engine (resident-models.ts) and reported with the runtime that runs them.
import { readFile } from 'node:fs/promises';
import type { JobContext } from '../job-context.js';
import { classifierFromJson, type CellClassifier } from '../classifier/classifier-artifact.js';
import { loadAutoencoder, disposeAutoencoder, describeAutoencoder, type AutoencoderModel } from '../autoencoder/index.js';
import type { ModelEntity } from '../../db/entities/index.js';

export async function residentClassifier(ctx: JobContext<unknown>, id?: string): Promise<{ row: ModelEntity; clf: CellClassifier }> {
  const { row, value } = await ctx.models.get<CellClassifier>('classifier', id, async (r) => classifierFromJson(await readFile(r.artifactPath, 'utf8')));
  ctx.models.reportRuntime({ name: 'random-forest', backend: 'typescript', device: 'cpu', detail: `${value.forest.trees.length} trees` });
  return { row, clf: value };
}

export async function residentAutoencoder(ctx: JobContext<unknown>, id?: string): Promise<{ id: string; model: AutoencoderModel }> {
  const { row, value } = await ctx.models.get('autoencoder', id, async (r) => loadAutoencoder(new Uint8Array(await readFile(r.artifactPath))), disposeAutoencoder);
  const info = describeAutoencoder(value);
  ctx.models.reportRuntime({ name: 'tfjs', backend: info.backend, device: info.device });
  return { id: row.id, model: value };
}

// Models: registering the ones shipped in the repository's models/ folder, listing, and choosing the
// active one of each kind (the one engines keep resident).
import type { DataSource } from 'typeorm';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelEntity } from '../db/entities/index.js';
import { ModelRepository } from '../db/repositories/model.repository.js';
import { NotFoundError } from './errors.js';
import { logger } from '../logger.js';

const log = logger('models');

/**
 * Bundled models: metadata file beside the artifact, and the kind it is. The metadata may carry `params` (a
 * classifier's class map and features, as a trained one has them) and `active: false` for a model that is
 * registered but not made active on a fresh install (the user picks it: `leukograph models --use common5_ig`).
 * A latent classifier names its bundled encoder's metadata (`encoder`): the encoder is registered first (it
 * comes earlier here), and the classifier's row points at that registration (params.encoderId, parentId),
 * since the id its artifact was trained with belongs to the database it was trained in.
 */
const BUNDLED = [
  { kind: 'detector', meta: 'detector.json' },
  { kind: 'classifier', meta: 'classifier-common5.meta.json' },
  { kind: 'classifier', meta: 'classifier-common5-ig.meta.json' },
  { kind: 'autoencoder', meta: 'aecfe-cpu.meta.json' },
  { kind: 'classifier', meta: 'aecfe-cpu-forest-common5.meta.json' },
] as const;

interface BundledMeta {
  name?: string;
  version?: string;
  file: string;
  metrics?: Record<string, unknown>;
  params?: Record<string, unknown>;
  active?: boolean;
  /** An autoencoder's preset (cpu, paper). */
  preset?: string;
  /** A latent classifier: the metadata file of the bundled autoencoder it reads the latents of. */
  encoder?: string;
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/**
 * Registers each bundled model whose artifact is present and not yet known (by checksum), and makes
 * it active when no model of its kind is. Safe to call from several processes at once.
 */
export async function registerBundledModels(ds: DataSource, modelsDir: string): Promise<void> {
  // Each bundled model's row id by its metadata file, as this database holds it: a latent classifier links to its encoder's.
  const registered = new Map<string, string>();
  for (const b of BUNDLED) {
    const metaPath = join(modelsDir, b.meta);
    if (!existsSync(metaPath)) continue;
    const meta = JSON.parse(readFileSync(metaPath, 'utf8')) as BundledMeta;
    const artifact = join(modelsDir, meta.file);
    if (!existsSync(artifact)) continue;
    const checksum = sha256File(artifact);
    const encoderId = meta.encoder ? (registered.get(meta.encoder) ?? null) : null;
    if (meta.encoder && !encoderId) {
      log.warn('bundled latent classifier left out: its encoder is not registered', { meta: b.meta, encoder: meta.encoder });
      continue;
    }
    const link = encoderId ? { params: { encoderId }, parentId: encoderId } : { params: {}, parentId: null };
    await ds.transaction(async (m) => {
      await m.query(`SELECT pg_advisory_xact_lock(771002)`);
      const known = await m.getRepository(ModelEntity).findOneBy({ kind: b.kind, checksum });
      if (known) {
        if (known.artifactPath !== artifact) await m.getRepository(ModelEntity).update(known.id, { artifactPath: artifact });
        registered.set(b.meta, known.id);
        return;
      }
      const anyActive = await m.getRepository(ModelEntity).existsBy({ kind: b.kind, active: true });
      const row = await m.getRepository(ModelEntity).save({
        kind: b.kind, name: meta.name ?? b.kind, version: String(meta.version ?? '1'), preset: meta.preset ?? null,
        metrics: meta.metrics ?? {}, params: { ...(meta.params ?? {}), ...link.params, bundled: true, meta: b.meta }, artifactPath: artifact, checksum,
        active: !anyActive && meta.active !== false, datasetIds: [], jobId: null, parentId: link.parentId,
      });
      registered.set(b.meta, row.id);
      log.info('bundled model registered', { kind: b.kind, id: row.id, active: row.active });
    });
  }
}

export class ModelService {
  private readonly models: ModelRepository;

  constructor(ds: DataSource) {
    this.models = new ModelRepository(ds);
  }

  async active(kind: string): Promise<ModelEntity | null> {
    return this.models.active(kind);
  }

  /** Makes a model the active one of its kind; engines pick it up on their next job of that kind. */
  async activate(id: string): Promise<ModelEntity> {
    const model = await this.models.activate(id);
    if (!model) throw new NotFoundError('model', id);
    return model;
  }
}

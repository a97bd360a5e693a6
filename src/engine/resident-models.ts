// The models an engine keeps in memory: the active detector, autoencoder and classifier, loaded once
// and reused by every job. A model made active later is loaded on the next job that asks for it.
import type { DataSource } from 'typeorm';
import { ModelEntity } from '../db/entities/index.js';
import type { EngineRuntimeStatus, EngineStatusDoc } from '../db/entities/engine.entity.js';

/** What the detect job needs of a detector (engine/detector implements it). */
export interface DetectedCell {
  box: [number, number, number, number];
  score: number;
  mask: { size: [number, number]; counts: number[] };
  /** 256x14x14, CHW */
  features: Float32Array;
}

export interface CellDetector {
  detect(image: Buffer): Promise<{ width: number; height: number; cells: DetectedCell[] }>;
  runtime(): EngineRuntimeStatus;
  dispose(): Promise<void>;
}

export interface ModelLoaders {
  detector(artifactPath: string): Promise<CellDetector>;
}

interface Loaded<T> {
  row: ModelEntity;
  value: Promise<T>;
}

export class ResidentModels {
  private detectorSlot: Loaded<CellDetector> | null = null;
  private extra = new Map<string, Loaded<unknown>>();
  private runtimes = new Map<string, EngineRuntimeStatus>();

  constructor(private readonly ds: DataSource, private readonly loaders: ModelLoaders) {}

  private async row(kind: string, id?: string): Promise<ModelEntity> {
    const repo = this.ds.getRepository(ModelEntity);
    const row = id ? await repo.findOneBy({ id, kind }) : await repo.findOneBy({ kind, active: true });
    if (!row) throw new Error(id ? `no ${kind} model ${id}` : `no active ${kind} model: train or register one first`);
    return row;
  }

  /** The active detector (or a given one), loaded once; a failed load is forgotten so it can be retried. */
  async detector(id?: string): Promise<{ row: ModelEntity; detector: CellDetector }> {
    const row = await this.row('detector', id);
    if (this.detectorSlot?.row.id !== row.id) {
      const old = this.detectorSlot;
      const value = this.loaders.detector(row.artifactPath);
      this.detectorSlot = { row, value };
      value.then((d) => this.reportRuntime(d.runtime()), () => {
        if (this.detectorSlot?.value === value) this.detectorSlot = null;
      });
      if (old) void old.value.then((d) => d.dispose()).catch(() => undefined);
    }
    return { row, detector: await this.detectorSlot!.value };
  }

  /**
   * Any other resident model (autoencoder, classifier): `load` turns the row into the in-memory model,
   * `dispose` frees one that is replaced. One per kind stays resident.
   */
  async get<T>(kind: string, id: string | undefined, load: (row: ModelEntity) => Promise<T>, dispose?: (v: T) => void): Promise<{ row: ModelEntity; value: T }> {
    const row = await this.row(kind, id);
    const cur = this.extra.get(kind) as Loaded<T> | undefined;
    if (cur?.row.id !== row.id) {
      const value = load(row);
      this.extra.set(kind, { row, value });
      value.catch(() => {
        if (this.extra.get(kind)?.value === value) this.extra.delete(kind);
      });
      if (cur && dispose) void cur.value.then(dispose).catch(() => undefined);
    }
    return { row, value: await (this.extra.get(kind)!.value as Promise<T>) };
  }

  /** Records which backend and device an ML runtime uses, for the engine status. */
  reportRuntime(r: EngineRuntimeStatus): void {
    this.runtimes.set(r.name, r);
  }

  /** For the engine status. */
  status(): { models: EngineStatusDoc['models']; runtimes: EngineRuntimeStatus[] } {
    const models: EngineStatusDoc['models'] = [];
    const runtimes = [...this.runtimes.values()];
    const slots: Loaded<unknown>[] = [...(this.detectorSlot ? [this.detectorSlot] : []), ...this.extra.values()];
    for (const s of slots) models.push({ id: s.row.id, kind: s.row.kind, name: s.row.name, version: s.row.version });
    return { models, runtimes };
  }
}

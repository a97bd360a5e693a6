// What an engine can run, advertised in its row of the engines table so that any process can see it:
// the job kinds it takes (LEUKOGRAPH_ENGINE_KINDS, default all), whether it has a GPU (a hardware WebGPU
// adapter, what its backends would use; LEUKOGRAPH_ENGINE_GPU=yes|no overrides) and the store it sees.
// GPU-heavy kinds go to engines with a GPU: an engine without one leaves them in the queue while a live
// engine with a GPU takes that kind, and takes them itself when none does.
import { sqlRows } from '../db/sql.js';
import type { DataSource } from 'typeorm';
import type { JobKind } from '../jobs/job-kinds.js';
import type { GpuSetting } from '../config.js';
import { probeWebgpu } from './backends/webgpu.js';

/** Training loops: minutes on a GPU, hours on two CPU cores (docs/gpu.md). */
export const GPU_PREFERRED: readonly JobKind[] = ['train-autoencoder', 'evaluate'];

export interface EngineCapabilities {
  gpu: boolean;
  /** The adapter, or why there is none / who said so. */
  gpuDetail: string;
  kinds: JobKind[];
  /** The object store's location (without credentials). */
  storage: string;
}

export async function detectCapabilities(setting: GpuSetting, kinds: JobKind[], storage: string): Promise<EngineCapabilities> {
  if (setting !== 'auto') return { gpu: setting === 'yes', gpuDetail: `LEUKOGRAPH_ENGINE_GPU=${setting}`, kinds, storage };
  const probe = await probeWebgpu(false, 10_000);
  return { gpu: probe.ok, gpuDetail: probe.ok ? probe.description : probe.reason, kinds, storage };
}

/** Whether another live engine with a GPU takes `kind` (then an engine without one leaves it be). */
export async function gpuEngineTakes(ds: DataSource, kind: JobKind, selfId: string, staleMs: number): Promise<boolean> {
  const rows = await sqlRows(ds,
    `SELECT 1 FROM engines
      WHERE id <> $1 AND heartbeat_at > now() - make_interval(secs => $2)
        AND (status->'capabilities'->>'gpu')::boolean AND status->'capabilities'->'kinds' ? $3
      LIMIT 1`,
    [selfId, staleMs / 1000, kind],
  );
  return rows.length > 0;
}

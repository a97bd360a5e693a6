// Runtime configuration: environment variables, overridden by command-line flags.
import { resolve, join, delimiter } from 'node:path';
import { isLoopbackHost } from './http/loopback.js';
import { storageKind } from './storage/open-store.js';
import { JOB_KINDS, type JobKind } from './jobs/job-kinds.js';

export interface Config {
  host: string;
  port: number;
  /** Where the embedded database, uploaded images, feature stores and model artifacts live. */
  dataDir: string;
  /** A PostgreSQL URL; when absent an embedded server is started under dataDir. */
  databaseUrl: string | null;
  /** Where objects that are not rows live (src/storage): file:///dir, postgres: or s3://...; null: dataDir. */
  storageUrl: string | null;
  /** Bearer token for mutations; required when listening beyond loopback. */
  token: string | null;
  /** Server-side folders that dataset imports may read from. */
  dataRoots: string[];
  /** Largest image accepted, in bytes and in decoded pixels. */
  maxImageBytes: number;
  maxImagePixels: number;
  /** Engine liveness: heartbeat period and the silence after which its jobs are recovered. */
  heartbeatMs: number;
  engineStaleMs: number;
  /** Job kinds this process's engine takes (LEUKOGRAPH_ENGINE_KINDS); null: all. */
  engineKinds: JobKind[] | null;
  /** Whether the engine says it has a GPU (LEUKOGRAPH_ENGINE_GPU); auto: a hardware WebGPU adapter. */
  engineGpu: GpuSetting;
  /** Allows job parameters that only tests use (per-item throttling). */
  testHooks: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`${name} must be a number, got "${v}"`);
  return n;
}

export type GpuSetting = 'auto' | 'yes' | 'no';

export function parseGpuSetting(v: string | undefined): GpuSetting {
  if (v === undefined || v === '' || v === 'auto') return 'auto';
  if (['yes', '1', 'true'].includes(v)) return 'yes';
  if (['no', '0', 'false'].includes(v)) return 'no';
  throw new Error(`LEUKOGRAPH_ENGINE_GPU=${v}: expected auto, yes or no`);
}

/** LEUKOGRAPH_ENGINE_KINDS: a comma-separated list of job kinds; empty or unset: all. */
export function parseEngineKinds(v: string | undefined): JobKind[] | null {
  if (!v) return null;
  const kinds = v.split(',').map((k) => k.trim()).filter(Boolean);
  const unknown = kinds.filter((k) => !(JOB_KINDS as readonly string[]).includes(k));
  if (unknown.length || kinds.length === 0) throw new Error(`LEUKOGRAPH_ENGINE_KINDS=${v}: unknown job kind(s) ${unknown.join(', ')}; known: ${JOB_KINDS.join(', ')}`);
  return kinds as JobKind[];
}

export function loadConfig(overrides: Partial<Config> = {}): Config {
  const dataDir = resolve(overrides.dataDir ?? process.env.LEUKOGRAPH_DATA_DIR ?? join(process.cwd(), '.data'));
  const roots = process.env.LEUKOGRAPH_DATA_ROOTS
    ? process.env.LEUKOGRAPH_DATA_ROOTS.split(delimiter).filter(Boolean)
    : [join(dataDir, 'imports')];
  const cfg: Config = {
    host: process.env.HOST ?? '127.0.0.1',
    port: envInt('PORT', 4000),
    dataDir,
    databaseUrl: process.env.DATABASE_URL || null,
    storageUrl: process.env.LEUKOGRAPH_STORAGE_URL || null,
    token: process.env.LEUKOGRAPH_TOKEN || null,
    dataRoots: roots.map((r) => resolve(r)),
    maxImageBytes: envInt('LEUKOGRAPH_MAX_IMAGE_BYTES', 32 * 1024 * 1024),
    maxImagePixels: envInt('LEUKOGRAPH_MAX_IMAGE_PIXELS', 40_000_000),
    heartbeatMs: envInt('LEUKOGRAPH_HEARTBEAT_MS', 2000),
    engineStaleMs: envInt('LEUKOGRAPH_ENGINE_STALE_MS', 10_000),
    engineKinds: parseEngineKinds(process.env.LEUKOGRAPH_ENGINE_KINDS),
    engineGpu: parseGpuSetting(process.env.LEUKOGRAPH_ENGINE_GPU),
    testHooks: process.env.LEUKOGRAPH_TEST_HOOKS === '1',
    logLevel: (process.env.LEUKOGRAPH_LOG_LEVEL as Config['logLevel']) ?? 'info',
    ...overrides,
  };
  if (overrides.dataRoots) cfg.dataRoots = overrides.dataRoots.map((r) => resolve(r));
  storageKind(cfg.storageUrl);
  return cfg;
}

/** Refuses a configuration that would expose mutations to the network without a token. */
export function checkExposure(cfg: Config): void {
  if (!isLoopbackHost(cfg.host) && !cfg.token) {
    throw new Error(
      `Listening on ${cfg.host} reaches beyond this machine: set LEUKOGRAPH_TOKEN so that mutations need a bearer token.`,
    );
  }
}

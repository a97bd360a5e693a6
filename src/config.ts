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
  /** Bearer token that may read and write; required when listening beyond loopback. With it set, every read needs a token too. */
  token: string | null;
  /** Bearer token that may only read (a dashboard screen that watches); needs `token` set as well. */
  readToken: string | null;
  /** Browser origins (scheme://host:port) besides the server's own that may call it; others are refused. */
  allowedOrigins: string[];
  /** Per client (IP): wrong tokens allowed per minute before it is refused for a minute; uploads per minute. */
  authFailuresPerMinute: number;
  uploadsPerMinute: number;
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
    readToken: process.env.LEUKOGRAPH_READ_TOKEN || null,
    allowedOrigins: parseOrigins(process.env.LEUKOGRAPH_ALLOWED_ORIGINS ?? ''),
    authFailuresPerMinute: envInt('LEUKOGRAPH_AUTH_FAILURES_PER_MINUTE', 10),
    uploadsPerMinute: envInt('LEUKOGRAPH_UPLOADS_PER_MINUTE', 600),
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

/** `https://a.example, http://b:8080` as normalised origins; anything that is not an http(s) origin is refused. */
export function parseOrigins(list: string): string[] {
  return list
    .split(/[,\s]+/)
    .filter(Boolean)
    .map((o) => {
      let u: URL;
      try {
        u = new URL(o);
      } catch {
        throw new Error(`LEUKOGRAPH_ALLOWED_ORIGINS: "${o}" is not an origin (scheme://host[:port])`);
      }
      if (!/^https?:$/.test(u.protocol) || u.pathname !== '/' || u.search || u.hash) {
        throw new Error(`LEUKOGRAPH_ALLOWED_ORIGINS: "${o}" is not an origin (scheme://host[:port], no path)`);
      }
      return u.origin;
    });
}

/** Refuses a configuration that would expose the data to the network without a token, or tokens that make no sense. */
export function checkExposure(cfg: Config): void {
  if (!isLoopbackHost(cfg.host) && !cfg.token) {
    throw new Error(
      `Listening on ${cfg.host} reaches beyond this machine: set LEUKOGRAPH_TOKEN so that every request needs a bearer token.`,
    );
  }
  if (cfg.readToken && !cfg.token) throw new Error('LEUKOGRAPH_READ_TOKEN needs LEUKOGRAPH_TOKEN as well (the read-write token)');
  if (cfg.readToken && cfg.readToken === cfg.token) throw new Error('LEUKOGRAPH_READ_TOKEN must differ from LEUKOGRAPH_TOKEN');
  for (const [name, t] of [['LEUKOGRAPH_TOKEN', cfg.token], ['LEUKOGRAPH_READ_TOKEN', cfg.readToken]] as const) {
    if (t && !/^\S+$/.test(t)) throw new Error(`${name} must not contain spaces`);
  }
}

// The system under test, as `leukograph serve` runs it: the API in this process and one engine as a
// child process (`leukograph engine`), on a fresh database of a PostgreSQL server (or the embedded one
// when no server answers). Also a GraphQL client over http and graphql-ws.
import pg from 'pg';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../../src/config.js';
import { startApi } from '../../src/app.js';
import { sha256File } from '../../src/services/model.service.js';
import { procMemory } from './stats.js';

/** The repository root (this file runs from dist/bench/lib/). */
export const REPO = resolve(fileURLToPath(new URL('../../../', import.meta.url)));

export interface BenchServerOptions {
  /** A PostgreSQL server to create the bench database on; null: the embedded server. */
  serverUrl: string | null;
  /** Folders imports may read. */
  dataRoots: string[];
  /** A detector .onnx (its .json beside it) registered and made active instead of the bundled one. */
  detectorPath?: string | null;
  log?: (msg: string) => void;
}

export interface JobRow {
  id: string;
  status: string;
  result: any;
  error: string | null;
  durationMs: number | null;
}

export class BenchServer {
  cfg!: Config;
  api!: Awaited<ReturnType<typeof startApi>>;
  url = '';
  databaseKind: 'server' | 'embedded' = 'embedded';
  private engine: ChildProcess | null = null;
  private engineLog = '';
  private ws: Client | null = null;
  private dropDb: (() => Promise<void>) | null = null;
  private dataDir = '';

  /** A model row's artifact as a file path: "store:<key>" is a file under the data directory (the file store). */
  localPath(ref: string): string {
    return ref.startsWith('store:') ? join(this.dataDir, ref.slice('store:'.length)) : ref;
  }

  constructor(private readonly opts: BenchServerOptions) {}

  async start(): Promise<void> {
    const log = this.opts.log ?? (() => undefined);
    this.dataDir = mkdtempSync(join(tmpdir(), 'leukograph-bench-'));
    let databaseUrl: string | null = null;
    if (this.opts.serverUrl) {
      try {
        databaseUrl = await createDatabase(this.opts.serverUrl, (drop) => (this.dropDb = drop));
        this.databaseKind = 'server';
      } catch (err) {
        log(`PostgreSQL server ${this.opts.serverUrl} not usable (${(err as Error).message}); using the embedded server`);
      }
    }
    this.cfg = loadConfig({
      port: 0,
      dataDir: this.dataDir,
      databaseUrl,
      token: null,
      dataRoots: this.opts.dataRoots,
      testHooks: false,
      logLevel: 'warn',
    });
    this.api = await startApi(this.cfg);
    this.url = this.api.api.url;
    if (this.opts.detectorPath) await this.registerDetector(this.opts.detectorPath);
    await this.startEngine();
    this.ws = createClient({ url: this.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false });
  }

  /** Starts `leukograph engine` against the same database and waits until it reports alive. */
  private async startEngine(): Promise<void> {
    const bin = join(REPO, 'bin/leukograph.js');
    // BENCH_ENGINE_NODE_ARGS: Node options for the engine alone (e.g. --cpu-prof --cpu-prof-dir=/tmp/prof;
    // NODE_OPTIONS refuses the profiler flags).
    const nodeArgs = (process.env.BENCH_ENGINE_NODE_ARGS ?? '').split(' ').filter(Boolean);
    this.engine = spawn(process.execPath, [...nodeArgs, bin, 'engine', '--data-dir', this.dataDir], {
      env: { ...process.env, DATABASE_URL: this.api.db.url, LEUKOGRAPH_LOG_LEVEL: 'warn', LEUKOGRAPH_DATA_ROOTS: this.cfg.dataRoots.join(':') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => {
      this.engineLog = (this.engineLog + d.toString()).slice(-8000);
      if (process.env.BENCH_VERBOSE) process.stderr.write(d);
    };
    this.engine.stdout!.on('data', keep);
    this.engine.stderr!.on('data', keep);
    const end = Date.now() + 60_000;
    for (;;) {
      if (this.engine.exitCode !== null) throw new Error(`engine exited ${this.engine.exitCode}: ${this.engineLog.slice(-2000)}`);
      const r = await this.gql<{ engineStatus: { alive: boolean; pid: number }[] }>(`{ engineStatus { alive pid } }`);
      if (r.data?.engineStatus.some((e) => e.alive && e.pid === this.engine!.pid)) return;
      if (Date.now() > end) throw new Error(`engine did not report alive in 60 s: ${this.engineLog.slice(-2000)}`);
      await sleep(200);
    }
  }

  get enginePid(): number | undefined {
    return this.engine?.pid;
  }

  /** The engine child's resident memory now and at its peak, from /proc. */
  engineMemory(): { rssMb: number; peakRssMb: number } | null {
    return this.engine?.pid ? procMemory(this.engine.pid) : null;
  }

  /** Registers a detector artifact and makes it the active one (for runs before models/ has the shipped model). */
  private async registerDetector(path: string): Promise<void> {
    const abs = resolve(path);
    await this.api.db.dataSource.transaction(async (m) => {
      await m.query(`UPDATE models SET active = false WHERE kind = 'detector' AND active`);
      await m.query(
        `INSERT INTO models (kind, name, version, preset, metrics, params, artifact_path, checksum, active, dataset_ids)
         VALUES ('detector', 'bench-detector', 'bench', NULL, '{}', $1, $2, $3, true, '{}')`,
        [{ bench: true, path: abs }, abs, sha256File(abs)],
      );
    });
  }

  async gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<{ data?: T; errors?: { message: string }[] }> {
    const res = await fetch(this.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
    return (await res.json()) as { data?: T; errors?: { message: string }[] };
  }

  async ok<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const r = await this.gql<T>(query, variables);
    if (r.errors?.length) throw new Error(`GraphQL: ${JSON.stringify(r.errors).slice(0, 1000)}`);
    return r.data as T;
  }

  /** Subscribes; resolves when the subscription completes. `next` may return true to stop early. */
  subscribe(query: string, variables: Record<string, unknown>, next: (data: any) => boolean | void): { done: Promise<void>; stop: () => void } {
    let stop = () => undefined as void;
    const done = new Promise<void>((resolveDone, reject) => {
      const unsub = this.ws!.subscribe({ query, variables }, {
        next: (v: any) => {
          if (v.errors) return reject(new Error(JSON.stringify(v.errors)));
          if (next(v.data)) {
            unsub();
            resolveDone();
          }
        },
        error: (e: unknown) => reject(e instanceof Error ? e : new Error(JSON.stringify(e))),
        complete: () => resolveDone(),
      });
      stop = () => {
        unsub();
        resolveDone();
      };
    });
    return { done, stop: () => stop() };
  }

  /** Waits for a job to end through its jobProgress subscription; returns the job and when it ended (performance.now()). */
  async waitJob(jobId: string, timeoutMs = 6 * 3600_000): Promise<JobRow & { endedAt: number }> {
    let endedAt = 0;
    const sub = this.subscribe(`subscription($j: ID!) { jobProgress(jobId: $j) { status } }`, { j: jobId }, (d) => {
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(d.jobProgress.status)) {
        endedAt = performance.now();
        return true;
      }
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([sub.done, new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`job ${jobId} still running after ${timeoutMs} ms`)), timeoutMs)))]);
    clearTimeout(timer);
    if (!endedAt) endedAt = performance.now();
    const j = await this.ok<{ job: JobRow }>(`query($id: ID!) { job(id: $id) { id status result error durationMs } }`, { id: jobId });
    return { ...j.job, endedAt };
  }

  /** Runs a job mutation to its end; fails unless it succeeds. */
  async runJob(mutation: string, input: Record<string, unknown>): Promise<JobRow> {
    const type = mutation[0]!.toUpperCase() + mutation.slice(1);
    const d = await this.ok(`mutation($i: ${type}Input!) { ${mutation}(input: $i) { id } }`, { i: input });
    const j = await this.waitJob(d[mutation].id);
    if (j.status !== 'SUCCEEDED') throw new Error(`${mutation} ${j.status}: ${j.error ?? JSON.stringify(j.result)}`);
    return j;
  }

  async close(): Promise<void> {
    await this.ws?.dispose();
    if (this.engine && this.engine.exitCode === null) {
      const exited = new Promise<void>((r) => this.engine!.once('exit', () => r()));
      this.engine.kill('SIGTERM');
      const timer = setTimeout(() => this.engine?.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    await this.api?.close();
    await this.dropDb?.();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

async function createDatabase(serverUrl: string, onDrop: (drop: () => Promise<void>) => void): Promise<string> {
  const name = `leukograph_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3000 });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  onDrop(async () => {
    const c = new pg.Client({ connectionString: serverUrl });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.end();
  });
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

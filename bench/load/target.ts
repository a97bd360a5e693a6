// The system under test as users run it: `leukograph serve` (the API, and the engine as a supervised child
// process that is restarted when it dies) in a process of its own, and clients of it: GraphQL over HTTP
// with the latency of every request, and graphql-ws subscriptions.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, createWriteStream, mkdtempSync, type WriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { REPO } from '../lib/server.js';

export interface Timed<T = any> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
  ms: number;
  /** HTTP status; 0 when no answer came (connection refused, reset, timeout). */
  status: number;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

export class Target {
  url = '';
  base = '';
  readonly dataDir: string;
  private proc: ChildProcess | null = null;
  private log: WriteStream;

  constructor(
    private readonly opts: { databaseUrl: string | null; dataRoots: string[]; workDir: string; env?: Record<string, string> },
  ) {
    this.dataDir = mkdtempSync(join(opts.workDir, 'serve-'));
    // mkdtemp makes 0700 folders; as root, the embedded PostgreSQL runs as another user that must enter it.
    chmodSync(this.dataDir, 0o755);
    this.log = createWriteStream(join(opts.workDir, 'serve.log'), { flags: 'a' });
  }

  async start(): Promise<void> {
    const port = await freePort();
    this.proc = spawn(process.execPath, [join(REPO, 'bin/leukograph.js'), 'serve', '--port', String(port), '--data-dir', this.dataDir], {
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        LEUKOGRAPH_DATA_ROOTS: this.opts.dataRoots.join(':'),
        LEUKOGRAPH_LOG_LEVEL: 'warn',
        ...(this.opts.databaseUrl ? { DATABASE_URL: this.opts.databaseUrl } : { DATABASE_URL: '' }),
        ...this.opts.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout!.pipe(this.log, { end: false });
    this.proc.stderr!.pipe(this.log, { end: false });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`serve did not start in 120 s: ${out.slice(-2000)}`)), 120_000);
      this.proc!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('leukograph API at')) {
          clearTimeout(t);
          resolve();
        }
      });
      this.proc!.once('exit', (code) => reject(new Error(`serve exited ${code}: ${out.slice(-2000)}`)));
    });
    this.base = `http://127.0.0.1:${port}`;
    this.url = `${this.base}/graphql`;
    await this.waitFor(async () => ((await this.gql(`{ engineStatus { alive } }`)).data?.engineStatus ?? []).some((e: { alive: boolean }) => e.alive), 'an engine to report', 120_000);
  }

  async gql<T = any>(query: string, variables?: Record<string, unknown>, timeoutMs = 30_000): Promise<Timed<T>> {
    const t0 = performance.now();
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = (await res.json()) as Timed<T>;
      return { ...body, ms: performance.now() - t0, status: res.status };
    } catch (err) {
      return { errors: [{ message: (err as Error).message }], ms: performance.now() - t0, status: 0 };
    }
  }

  async ok<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
    const r = await this.gql<T>(query, variables);
    if (r.errors?.length || !r.data) throw new Error(`GraphQL: ${JSON.stringify(r.errors).slice(0, 1000)}`);
    return r.data;
  }

  async health(): Promise<number> {
    try {
      return (await fetch(`${this.base}/healthz`, { signal: AbortSignal.timeout(5000) })).status;
    } catch {
      return 0;
    }
  }

  /** A graphql-ws client that keeps reconnecting (as the dashboard's does). */
  wsClient(): Client {
    return createClient({ url: this.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, lazy: true, retryAttempts: Infinity, shouldRetry: () => true });
  }

  async enginePids(): Promise<number[]> {
    const r = await this.gql<{ engineStatus: { pid: number; alive: boolean }[] }>(`{ engineStatus { pid alive } }`);
    return (r.data?.engineStatus ?? []).filter((e) => e.alive).map((e) => e.pid);
  }

  async waitFor<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 300_000, everyMs = 100): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn().catch(() => null);
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  async job(id: string): Promise<{ status: string; done: number; total: number | null; attempts: number; error: string | null; message: string | null; result: any }> {
    return (await this.ok(`query($id: ID!) { job(id: $id) { status done total attempts error message result } }`, { id })).job;
  }

  async waitJob(id: string, timeoutMs = 600_000): Promise<Awaited<ReturnType<Target['job']>>> {
    return this.waitFor(async () => {
      const j = await this.job(id);
      return ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : null;
    }, `job ${id} to end`, timeoutMs, 250);
  }

  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const engines = await this.enginePids().catch(() => [] as number[]);
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    // serve's embedded database handle is stale once the suite restarted that server itself: do not wait on it.
    const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(t);
    for (const pid of engines) {
      try {
        process.kill(pid, 'SIGKILL'); // an engine left behind by a serve that had to be killed
      } catch {
        // already gone
      }
    }
    this.log.end();
  }
}

export function workDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'leukograph-load-'));
  chmodSync(dir, 0o755); // see Target: the embedded server's user must enter it
  return dir;
}

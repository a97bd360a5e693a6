// Starts the API (and optionally an in-process engine) on a test database, with a GraphQL client.
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { startApi, startEngine } from '../../src/app.js';
import { createTestDatabase, type TestDatabase } from './test-db.js';
import { TEST_THROTTLE_HEADER } from '../../src/schema/context.js';

export const REPO = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
export const FIXTURES = resolve(REPO, 'test/fixtures');

export interface GqlResult<T = any> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

export interface Stack {
  cfg: Config;
  db: TestDatabase;
  url: string;
  databaseUrl: string;
  api: Awaited<ReturnType<typeof startApi>>;
  engine: Awaited<ReturnType<typeof startEngine>> | null;
  gql<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlResult<T>>;
  /** Runs a query and fails on any GraphQL error (headers: e.g. throttle(ms)). */
  ok<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<T>;
  /** Another engine in this process; `env` changes its configuration (kinds, GPU, data directory...). */
  startEngine(env?: Partial<Config>): Promise<Awaited<ReturnType<typeof startEngine>>>;
  close(): Promise<void>;
}

export async function startStack(opts: { engine?: boolean; token?: string; dataRoots?: string[]; env?: Partial<Config> } = {}): Promise<Stack> {
  const db = await createTestDatabase();
  const cfg = loadConfig({
    port: 0,
    dataDir: db.dataDir,
    databaseUrl: db.databaseUrl,
    token: opts.token ?? null,
    dataRoots: opts.dataRoots ?? [FIXTURES],
    testHooks: true,
    heartbeatMs: 300,
    engineStaleMs: 2000,
    ...opts.env,
  });
  const api = await startApi(cfg);
  const engines: Awaited<ReturnType<typeof startEngine>>[] = [];
  const engineCfg = { ...cfg, databaseUrl: api.db.url };
  const stack: Stack = {
    cfg, db, api, url: api.api.url, databaseUrl: api.db.url, engine: null,
    async gql(query, variables, headers = {}) {
      const res = await fetch(api.api.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return (await res.json()) as GqlResult;
    },
    async ok(query, variables, headers = {}) {
      const r = await stack.gql(query, variables, { ...headers, ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) });
      if (r.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors)}`);
      return r.data as any;
    },
    async startEngine(env = {}) {
      const e = await startEngine({ ...engineCfg, ...env });
      engines.push(e);
      return e;
    },
    async close() {
      for (const e of engines) await e.close().catch(() => undefined);
      await api.close();
      await db.drop();
    },
  };
  if (opts.engine !== false) stack.engine = await stack.startEngine();
  return stack;
}

/** The test hook that slows an import down (per image, ms), sent as a header: it is not part of the schema. */
export function throttle(ms: number): Record<string, string> {
  return { [TEST_THROTTLE_HEADER]: String(ms) };
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

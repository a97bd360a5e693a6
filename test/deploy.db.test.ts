// The deployment example (deploy/) checked by running what it says: the commands and environments of
// compose.yaml's services (API replicas and an engine), of engine.compose.yaml (an engine on another
// machine) and of the systemd units, as processes on this machine against one PostgreSQL, each process
// with its own data directory as a container or another machine would have. What the test changes, and
// only that: DATABASE_URL names the test's database (the compose file's names the postgres service),
// LEUKOGRAPH_DATA_DIR a folder of each process's own, `--host 0.0.0.0` becomes 127.0.0.1 and
// `--port 4000` a free port (replicas share one host here), and `node` is this Node.js binary. Docker
// itself, the postgres image and nginx are not run: a small round-robin proxy stands in for nginx.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { createTestDatabase, type TestDatabase } from './helpers/test-db.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { loadConfig } from '../src/config.js';
import { REPO } from './helpers/stack.js';
import { startLeukograph, type ChildLeukograph } from './helpers/processes.js';
import { startRoundRobinProxy, type RoundRobinProxy } from './helpers/round-robin-proxy.js';

const TOKEN = 'deploy-test-token';
let tdb: TestDatabase;
let db: Database;
const running: ChildLeukograph[] = [];
const dirs: string[] = [];
let lb: RoundRobinProxy | null = null;

const ownDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'leukograph-deploy-'));
  dirs.push(d);
  return d;
};

/** The example env file, as a lab fills it in (the passwords), for ${...} in the compose files. */
function envFile(): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of readFileSync(join(REPO, 'deploy/leukograph.env.example'), 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]] = m[2];
  }
  return { ...vars, POSTGRES_PASSWORD: 'pw', LEUKOGRAPH_TOKEN: TOKEN };
}

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR:?error}. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?::([-?])([^}]*))?\}/g, (_, name: string, op: string | undefined, arg: string | undefined) => {
    const v = vars[name];
    if (v !== undefined && v !== '') return v;
    if (op === '-') return arg ?? '';
    if (op === '?') throw new Error(`compose would stop: ${arg}`);
    return '';
  });
}

interface ProcessSpec {
  name: string;
  args: string[];
  env: Record<string, string>;
  role: 'engine' | 'api';
  replicas: number;
}

/** A compose service's command and environment, the command checked to be leukograph's. */
function composeService(file: string, name: string, vars: Record<string, string>): ProcessSpec {
  const doc = parse(readFileSync(join(REPO, 'deploy', file), 'utf8'), { merge: true });
  const svc = doc.services[name];
  assert.ok(svc, `${file} has a service ${name}`);
  const command: string[] = svc.command;
  assert.deepEqual(command.slice(0, 2), ['node', 'bin/leukograph.js'], `${file} ${name} runs leukograph`);
  const env = Object.fromEntries(Object.entries(svc.environment as Record<string, string>).map(([k, v]) => [k, interpolate(String(v), vars)]));
  return { name: `${file}:${name}`, args: command.slice(2), env, role: command[2] === 'engine' ? 'engine' : 'api', replicas: svc.deploy?.replicas ?? 1 };
}

/** A systemd unit's ExecStart with its Environment= lines and EnvironmentFile (the example file). */
function systemdUnit(file: string, vars: Record<string, string>): ProcessSpec {
  const text = readFileSync(join(REPO, 'deploy/systemd', file), 'utf8');
  const env: Record<string, string> = {};
  let exec: string[] = [];
  for (const line of text.split('\n')) {
    const [k, ...rest] = line.split('=');
    const v = rest.join('=');
    if (k === 'EnvironmentFile') Object.assign(env, vars);
    else if (k === 'Environment') env[v.slice(0, v.indexOf('='))] = v.slice(v.indexOf('=') + 1);
    else if (k === 'ExecStart') exec = v.split(/\s+/);
  }
  assert.deepEqual(exec.slice(0, 2), ['/usr/bin/node', 'bin/leukograph.js'], `${file} runs leukograph`);
  return { name: file, args: exec.slice(2), env, role: exec[2] === 'engine' ? 'engine' : 'api', replicas: 1 };
}

/** Runs a spec here: the test's database, a data directory of its own, loopback and a free port. */
async function run(spec: ProcessSpec): Promise<ChildLeukograph[]> {
  const args = spec.args.map((a, i) => (spec.args[i - 1] === '--host' ? '127.0.0.1' : spec.args[i - 1] === '--port' ? '0' : a));
  const started = await Promise.all(
    Array.from({ length: spec.replicas }, () =>
      startLeukograph(args, { ...spec.env, DATABASE_URL: db.url, LEUKOGRAPH_DATA_DIR: ownDir(), LEUKOGRAPH_HEARTBEAT_MS: '500' }, spec.role),
    ),
  );
  running.push(...started);
  return started;
}

async function gql(url: string, query: string, variables?: Record<string, unknown>, token: string | null = TOKEN): Promise<{ data?: any; errors?: any[] }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as { data?: any; errors?: any[] };
}

before(async () => {
  tdb = await createTestDatabase();
  db = await openDatabase(loadConfig({ dataDir: ownDir(), databaseUrl: tdb.databaseUrl }));
});

after(async () => {
  await lb?.close();
  await Promise.all(running.map((p) => p.stop()));
  await db?.close();
  await tdb?.drop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test('compose.yaml: its API replicas and engine, and engine.compose.yaml\'s engine elsewhere, come up on one database and store', async () => {
  const vars = envFile();
  const api = composeService('compose.yaml', 'api', vars);
  const engine = composeService('compose.yaml', 'engine', vars);
  const remote = composeService('engine.compose.yaml', 'engine', { ...vars, LEUKOGRAPH_DB_HOST: 'db.lab.example' });
  assert.equal(api.replicas, 2);
  assert.equal(api.env.LEUKOGRAPH_STORAGE_URL, 'postgres:');
  assert.match(remote.env.DATABASE_URL, /^postgres:\/\/leukograph:pw@db\.lab\.example:5432\/leukograph$/);
  // Everything starts at once, as `docker compose up` starts it.
  const [apis, [e1], [e2]] = await Promise.all([run(api), run(engine), run(remote)]);
  lb = await startRoundRobinProxy(apis.map((a) => a.id));

  const status = await gql(lb.url, `{ engineStatus { id alive gpu kinds storage } }`);
  const engines = status.data.engineStatus.filter((e: any) => [e1.id, e2.id].includes(e.id));
  assert.equal(engines.length, 2);
  for (const e of engines) {
    assert.equal(e.alive, true);
    assert.match(e.storage, /^postgres:\/\//, 'objects in the database: DATABASE_URL alone joins a machine');
    assert.equal(e.kinds.length, 8);
  }
  // Mutations need the token from the env file; through the balancer, on either replica.
  const refused = await gql(lb.url, `mutation { createDataset(input: { name: "no-token" }) { id } }`, undefined, null);
  assert.equal(refused.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  const made = await gql(apis[1].id, `mutation { createDataset(input: { name: "deployed" }) { id } }`);
  assert.ok(made.data?.createDataset.id, JSON.stringify(made.errors));
  const seen = await gql(apis[0].id, `{ datasets { name } }`);
  assert.deepEqual(seen.data.datasets.map((d: any) => d.name), ['deployed']);
  // Through the balancer: a WebSocket on one replica, the mutation on the other; an engine takes the
  // job (an empty dataset: it fails at once, and says why) and the subscriber hears how it ended.
  const ws = createClient({ url: lb.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, connectionParams: { authorization: `Bearer ${TOKEN}` } });
  try {
    const job = await gql(lb.url, `mutation($i: DetectCellsInput!) { detectCells(input: $i) { id } }`, { i: { datasetId: made.data.createDataset.id } });
    const events: { status: string; message: string | null }[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.subscribe({ query: `subscription($j: ID!) { jobProgress(jobId: $j) { status message } }`, variables: { j: job.data.detectCells.id } }, {
        next: (v: any) => events.push(v.data.jobProgress),
        error: reject,
        complete: resolve,
      });
    });
    assert.equal(events.at(-1)!.status, 'FAILED');
    const j = await gql(apis[0].id, `query($id: ID!) { job(id: $id) { error engineId } }`, { id: job.data.detectCells.id });
    assert.equal(j.data.job.error, 'no images to detect on');
    assert.ok([e1.id, e2.id].includes(j.data.job.engineId));
    assert.ok(lb.connections.every((n) => n > 0), `both replicas served: ${lb.connections}`);
  } finally {
    await ws.dispose();
  }
});

test('the systemd units: the same processes without Docker', async () => {
  const vars = { ...envFile(), DATABASE_URL: 'set by the test' };
  const [engine] = await run(systemdUnit('leukograph-engine.service', vars));
  const [api] = await run(systemdUnit('leukograph-api.service', vars));
  const status = await gql(api.id, `{ engineStatus { id alive storage } }`);
  const mine = status.data.engineStatus.find((e: any) => e.id === engine.id);
  assert.deepEqual({ alive: mine.alive, storage: /^postgres:/.test(mine.storage) }, { alive: true, storage: true });
  const refused = await gql(api.id, `mutation { createDataset(input: { name: "x" }) { id } }`, undefined, 'wrong');
  assert.equal(refused.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
});

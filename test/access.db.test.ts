// Who may read and write, with tokens configured: every data route (GraphQL over HTTP and WebSocket, each
// REST route) refuses a missing or wrong token; the read-only token reads but cannot write; browsers from
// foreign origins are refused on HTTP and WebSocket; wrong tokens and uploads are rate limited per client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { startStack, type Stack } from './helpers/stack.js';
import { smallPng } from './helpers/synthetic-images.js';
import { checkExposure, loadConfig } from '../src/config.js';

const RW = 'rw-token-0123456789abcdef';
const RO = 'ro-token-0123456789abcdef';
const ALLOWED = 'https://lab-portal.example';
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

let s: Stack;
let base: string;
let datasetId: string;
let imageId: string;
let cellId: string;
let jobId: string;

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** A request with any headers (Origin, Host) and, for the rate limits, any local loopback address as the client. */
function raw(path: string, opts: { method?: string; headers?: Record<string, string>; body?: Buffer | string; from?: string } = {}): Promise<Raw> {
  const u = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method ?? 'GET', headers: opts.headers, localAddress: opts.from },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: any = null;
          try {
            json = JSON.parse(text);
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

const gqlBody = (query: string, variables?: Record<string, unknown>) => JSON.stringify({ query, variables });
const postGql = (query: string, headers: Record<string, string> = {}, extra: { from?: string } = {}) =>
  raw('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: gqlBody(query), ...extra });

/** Opens a graphql-ws connection and runs one subscription (or query) to its first result, or says how it was refused. */
function overWs(query: string, opts: { token?: string; origin?: string } = {}): Promise<{ data?: any; errors?: any[]; closed?: number; refused?: string }> {
  const url = base.replace('http', 'ws') + '/graphql';
  class Socket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols, opts.origin ? { origin: opts.origin } : {});
    }
  }
  return new Promise((resolve) => {
    const client = createClient({
      url,
      webSocketImpl: Socket,
      retryAttempts: 0,
      lazy: true,
      connectionParams: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      on: { closed: (e) => resolve({ closed: (e as { code: number }).code }) },
    });
    client.subscribe(
      { query },
      {
        next: (v) => {
          resolve({ data: v.data, errors: v.errors as any[] });
          void client.dispose();
        },
        error: (e) => {
          const err = e as { code?: number; message?: string } | any[];
          if (Array.isArray(err)) resolve({ errors: err });
          else if (typeof err?.code === 'number') resolve({ closed: err.code });
          else resolve({ refused: String((e as Error)?.message ?? e) });
          void client.dispose();
        },
        complete: () => undefined,
      },
    );
  });
}

before(async () => {
  s = await startStack({
    token: RW,
    engine: false,
    env: { readToken: RO, allowedOrigins: [ALLOWED], authFailuresPerMinute: 50, uploadsPerMinute: 5 },
  });
  base = s.url.replace(/\/graphql$/, '');
  const d = await s.ok(`mutation { createDataset(input: { name: "guarded" }) { id } }`);
  datasetId = d.createDataset.id;
  const up = await raw(`/upload?datasetId=${datasetId}&filename=a.png`, { method: 'POST', headers: bearer(RW), body: await smallPng() });
  assert.equal(up.status, 201, up.text);
  imageId = up.json.image.id;
  const job = await s.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId, path: 'zheng-ds2' } });
  jobId = job.importDataset.id;
  const c = new pg.Client({ connectionString: s.databaseUrl });
  await c.connect();
  try {
    const r = await c.query(`INSERT INTO cells (image_id, index, box, score, latent) VALUES ($1, 0, '{1,1,6,6}', 0.9, $2) RETURNING id`, [imageId, Array.from({ length: 50 }, () => 0.5)]);
    cellId = r.rows[0].id;
  } finally {
    await c.end();
  }
  mkdirSync(join(s.cfg.dataDir, 'jobs', jobId), { recursive: true });
  writeFileSync(join(s.cfg.dataDir, 'jobs', jobId, 'reconstructions-epoch-1.png'), await smallPng());
});
after(async () => s?.close());

const readRoutes = () => [
  `/images/${imageId}`,
  `/cells/${cellId}/crop.png`,
  `/datasets/${datasetId}/latents.csv`,
  `/jobs/${jobId}/reconstructions/1.png`,
  `/graphql?query=${encodeURIComponent('{ datasets { id } }')}`,
];

test('every read route refuses a missing or wrong token and answers the read-only and read-write tokens', async () => {
  for (const path of readRoutes()) {
    const headers: Record<string, string> = path.startsWith('/graphql') ? { 'apollo-require-preflight': '1' } : {};
    const none = await raw(path, { headers });
    assert.equal(none.status, 401, `${path} without a token`);
    const wrong = await raw(path, { headers: { ...headers, ...bearer('not-the-token') } });
    assert.equal(wrong.status, 401, `${path} with a wrong token`);
    assert.ok(!wrong.text.includes('\n    at '), 'no stack trace');
    const code = path.startsWith('/graphql') ? wrong.json.errors[0].extensions.code : wrong.json.error.code;
    assert.equal(code, 'UNAUTHENTICATED', path);
    for (const t of [RO, RW]) {
      const ok = await raw(path, { headers: { ...headers, ...bearer(t) } });
      // The crop needs a mask this cell has not got: past the gate, the route itself answers.
      const expected = path.includes('/crop.png') ? 404 : 200;
      assert.equal(ok.status, expected, `${path} with ${t === RO ? 'the read-only' : 'the read-write'} token: ${ok.text.slice(0, 200)}`);
    }
  }
  const post = await postGql('{ datasets { name } }');
  assert.equal(post.status, 401);
  assert.equal(post.json.errors[0].extensions.code, 'UNAUTHENTICATED');
  assert.equal(post.json.data, undefined, 'no data without a token');
  const read = await postGql('{ datasets { name } }', bearer(RO));
  assert.deepEqual(read.json.data, { datasets: [{ name: 'guarded' }] });
});

test('subscriptions need a token in connectionParams; the read-only token may subscribe', async () => {
  const q = `subscription { jobProgress(jobId: "${jobId}") { status } }`;
  assert.equal((await overWs(q)).closed, 4403, 'no token: the socket is closed as forbidden');
  assert.equal((await overWs(q, { token: 'wrong' })).closed, 4403, 'a wrong token likewise');
  assert.equal((await overWs(q, { token: RO })).data?.jobProgress.status, 'QUEUED');
  assert.equal((await overWs('{ datasets { name } }', { token: RO })).data?.datasets[0].name, 'guarded', 'queries over the socket too');
});

test('the read-only token cannot write: GraphQL over HTTP and WebSocket, and uploads', async () => {
  const m = `mutation { createDataset(input: { name: "sneaky" }) { id } }`;
  const http = await postGql(m, bearer(RO));
  assert.equal(http.status, 403);
  assert.equal(http.json.errors[0].extensions.code, 'FORBIDDEN');
  const ws = await overWs(m, { token: RO });
  assert.equal(ws.errors?.[0].extensions?.code, 'FORBIDDEN', JSON.stringify(ws));
  const cancel = await postGql(`mutation { cancelJob(id: "${jobId}") { id } }`, bearer(RO));
  assert.equal(cancel.json.errors[0].extensions.code, 'FORBIDDEN');
  const up = await raw(`/upload?datasetId=${datasetId}&filename=b.png`, { method: 'POST', headers: bearer(RO), body: await smallPng() });
  assert.equal(up.status, 403);
  assert.equal(up.json.error.code, 'FORBIDDEN');
  const after = await s.ok(`query($id: ID!) { datasets { name } job(id: $id) { status } images(datasetId: "${datasetId}") { total } }`, { id: jobId });
  assert.deepEqual(after.datasets.map((d: { name: string }) => d.name), ['guarded'], 'nothing written');
  assert.equal(after.job.status, 'QUEUED');
  assert.equal(after.images.total, 1);
});

test('a foreign Origin is refused on HTTP and WebSocket; the own and configured origins pass', async () => {
  const foreign = { origin: 'https://evil.example', ...bearer(RW) };
  const http = await postGql('{ datasets { id } }', foreign);
  assert.equal(http.status, 403);
  assert.equal(http.json.errors[0].extensions.code, 'FORBIDDEN');
  assert.match(http.json.errors[0].message, /origin https:\/\/evil\.example/);
  const img = await raw(`/images/${imageId}`, { headers: foreign });
  assert.equal(img.status, 403);
  const upload = await raw(`/upload?datasetId=${datasetId}&filename=c.png`, { method: 'POST', headers: foreign, body: await smallPng() });
  assert.equal(upload.status, 403, 'a page elsewhere cannot post a file either');
  const nullOrigin = await postGql('{ datasets { id } }', { origin: 'null', ...bearer(RW) });
  assert.equal(nullOrigin.status, 403);

  const ws = await overWs(`subscription { jobProgress(jobId: "${jobId}") { status } }`, { token: RW, origin: 'https://evil.example' });
  assert.ok(ws.closed !== undefined && ws.data === undefined, `the socket is refused at the upgrade: ${JSON.stringify(ws)}`);
  const own = await overWs(`subscription { jobProgress(jobId: "${jobId}") { status } }`, { token: RW, origin: base });
  assert.equal(own.data?.jobProgress.status, 'QUEUED', 'the server\'s own origin (the dashboard) passes');

  const same = await postGql('{ datasets { id } }', { origin: base, ...bearer(RW) });
  assert.equal(same.status, 200);
  const allowed = await postGql('{ datasets { id } }', { origin: ALLOWED, ...bearer(RW) });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers['access-control-allow-origin'], ALLOWED);
  const preflight = await raw('/graphql', { method: 'OPTIONS', headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
  assert.equal(preflight.status, 204);
  assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/);
  // A loopback server answers only to loopback names: a page reaching it through another name is refused.
  const rebound = await raw('/graphql', { method: 'POST', headers: { host: `attacker.example:${new URL(base).port}`, 'content-type': 'application/json', ...bearer(RW) }, body: gqlBody('{ datasets { id } }') });
  assert.equal(rebound.status, 403);
});

test('wrong tokens are rate limited per client, uploads too', async () => {
  // 127.0.0.2 is this machine as well, but another client to the server.
  let last: Raw | null = null;
  for (let i = 0; i < 51; i++) last = await postGql('{ datasets { id } }', bearer(`guess-${i}`), { from: '127.0.0.2' });
  assert.equal(last!.status, 429, 'the 51st wrong token in a minute');
  assert.ok(Number(last!.headers['retry-after']) > 0);
  const evenRight = await postGql('{ datasets { id } }', bearer(RW), { from: '127.0.0.2' });
  assert.equal(evenRight.status, 429, 'a blocked client is refused whatever it sends');
  assert.equal((await postGql('{ datasets { id } }', bearer(RW))).status, 200, 'other clients are not affected');

  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await raw(`/upload?datasetId=${datasetId}&filename=u${i}.png`, { method: 'POST', headers: bearer(RW), body: Buffer.from('not an image'), from: '127.0.0.3' });
    statuses.push(r.status);
  }
  assert.deepEqual(statuses, [400, 400, 400, 400, 400, 429], 'five uploads a minute in this stack, then 429');
  const viaGraphql = await postGql(`mutation { uploadImage(input: { datasetId: "${datasetId}", filename: "g.png", contentBase64: "AAAA" }) { created } }`, bearer(RW), { from: '127.0.0.3' });
  assert.equal(viaGraphql.json.errors[0].extensions.code, 'TOO_MANY_REQUESTS', 'uploadImage counts against the same allowance');
});

test('static pages load without a token and carry no data; /healthz answers without one', async () => {
  const page = await raw('/dashboard/', { headers: { accept: 'text/html' } });
  assert.equal(page.status, 200);
  const playground = await raw('/graphql', { headers: { accept: 'text/html' } });
  assert.equal(playground.status, 200);
  assert.match(playground.text, /graphiql/i);
  const health = await raw('/healthz');
  assert.equal(health.status, 200);
  assert.equal(health.json.database.ok, true);
  assert.ok(!health.text.includes('guarded'));
});

test('the configuration refuses exposures and token mix-ups', () => {
  assert.throws(() => checkExposure(loadConfig({ host: '0.0.0.0', token: null })), /LEUKOGRAPH_TOKEN/);
  assert.doesNotThrow(() => checkExposure(loadConfig({ host: '127.0.0.1', token: null })));
  assert.doesNotThrow(() => checkExposure(loadConfig({ host: '0.0.0.0', token: 'x' })));
  assert.throws(() => checkExposure(loadConfig({ host: '127.0.0.1', token: null, readToken: 'r' })), /needs LEUKOGRAPH_TOKEN/);
  assert.throws(() => checkExposure(loadConfig({ token: 'same', readToken: 'same' })), /must differ/);
  process.env.LEUKOGRAPH_ALLOWED_ORIGINS = 'https://a.example/path';
  try {
    assert.throws(() => loadConfig(), /not an origin/);
  } finally {
    delete process.env.LEUKOGRAPH_ALLOWED_ORIGINS;
  }
});

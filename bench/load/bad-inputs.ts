// The audit's bad inputs (issue 19) sent to a running server: each must get a client error (4xx or a
// GraphQL error with a non-internal code) that names the cause, fast, and write nothing.
import WebSocket from 'ws';
import type { Target } from './target.js';
import { Recorder, type ResultRow } from './measure.js';

interface Case {
  name: string;
  send(t: Target, ctx: { datasetId: string }): Promise<{ status: number; code: string | null; message: string }>;
}

async function post(t: Target, body: string | object, contentType = 'application/json'): Promise<{ status: number; code: string | null; message: string }> {
  const res = await fetch(t.url, { method: 'POST', headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  const e = json?.errors?.[0] ?? json?.error;
  return { status: res.status, code: e?.extensions?.code ?? e?.code ?? null, message: (e?.message ?? text).slice(0, 160) };
}

const gql = (query: string, variables?: object) => ({ query, variables });

const CASES: Case[] = [
  { name: 'malformed JSON body', send: (t) => post(t, '{"query": ') },
  { name: 'unknown field', send: (t) => post(t, gql('{ nope }')) },
  { name: 'malformed id', send: (t) => post(t, gql('{ job(id: "42; DROP TABLE jobs") { id } }')) },
  { name: 'classOverrides with an object value', send: (t) => post(t, gql('mutation { createDataset(input: { name: "bad-overrides", classOverrides: { foo: { a: 1 } } }) { id } }')) },
  { name: 'layout LABELS_CSV without labels.csv', send: (t, c) => post(t, gql('mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }', { i: { datasetId: c.datasetId, path: 'bad-inputs/no-csv', layout: 'LABELS_CSV' } })) },
  { name: 'labels.csv naming a missing file', send: (t, c) => post(t, gql('mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }', { i: { datasetId: c.datasetId, path: 'bad-inputs/csv-missing' } })) },
  { name: 'path outside the data roots', send: (t, c) => post(t, gql('mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }', { i: { datasetId: c.datasetId, path: '/etc' } })) },
  { name: '20 MB description', send: (t, c) => post(t, gql('mutation($id: ID!, $i: UpdateDatasetInput!) { updateDataset(id: $id, input: $i) { id } }', { id: c.datasetId, i: { description: 'x'.repeat(20 * 1024 * 1024) } })) },
  { name: '1,000 aliased __schema (61 kB)', send: (t) => post(t, gql(`{ ${Array.from({ length: 1000 }, (_, i) => `s${i}: __schema { types { name } }`).join(' ')} }`)) },
  { name: '25 aliased __schema with nested lists', send: (t) => post(t, gql(`{ ${Array.from({ length: 25 }, (_, i) => `s${i}: __schema { types { fields { args { name description } } } }`).join(' ')} }`)) },
  { name: 'ten 500-image pages in one query', send: (t) => post(t, gql(`{ ${Array.from({ length: 10 }, (_, i) => `p${i}: images(limit: 500, offset: ${i * 500}) { items { id url width height cellType rawLabel sourcePath sha256 format bytes } }`).join(' ')} }`)) },
  { name: 'query nested 13 deep', send: (t) => post(t, gql(`{ datasets { stats { ${'byType { '.repeat(12)}count${' }'.repeat(12)} } } }`)) },
  { name: 'bad percent-encoding in a URL', send: async (t) => {
    const res = await fetch(`${t.base}/images/%E0%A4%A`);
    const j = (await res.json().catch(() => null)) as any;
    return { status: res.status, code: j?.error?.code ?? null, message: j?.error?.message ?? '' };
  } },
  { name: 'upload that is not an image', send: async (t, c) => {
    const res = await fetch(`${t.base}/upload?datasetId=${c.datasetId}&filename=x.jpg`, { method: 'POST', body: 'not an image' });
    const j = (await res.json().catch(() => null)) as any;
    return { status: res.status, code: j?.error?.code ?? null, message: j?.error?.message ?? '' };
  } },
  { name: 'foreign Origin', send: async (t) => {
    const res = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', origin: 'https://evil.example' }, body: JSON.stringify(gql('{ datasets { id } }')) });
    const j = (await res.json().catch(() => null)) as any;
    return { status: res.status, code: j?.errors?.[0]?.extensions?.code ?? null, message: j?.errors?.[0]?.message ?? '' };
  } },
  { name: 'malformed subscription over WebSocket (socket stays open)', send: (t) => wsCase(t, 'subscription { jobProgress(jobId: "x") { status ') },
  { name: '2 MiB WebSocket frame', send: (t) => wsCase(t, '{ datasets { id } }', 'x'.repeat(2 * 1024 * 1024)) },
];

/** Sends one subscribe message on a fresh socket; reports the error it got and whether the socket stayed open. */
function wsCase(t: Target, query: string, pad?: string): Promise<{ status: number; code: string | null; message: string }> {
  return new Promise((resolve) => {
    const sock = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    let answered: { status: number; code: string | null; message: string } | null = null;
    sock.on('open', () => sock.send(JSON.stringify({ type: 'connection_init' })));
    sock.on('message', (m) => {
      const msg = JSON.parse(m.toString());
      if (msg.type === 'connection_ack') sock.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query, variables: pad ? { pad } : {} } }));
      if (msg.type === 'error') {
        answered = { status: 200, code: msg.payload?.[0]?.extensions?.code ?? null, message: `${msg.payload?.[0]?.message ?? ''} (socket open)` };
        sock.send(JSON.stringify({ type: 'ping' }));
      }
      if (msg.type === 'pong' && answered) {
        sock.close();
        resolve(answered);
      }
    });
    sock.on('close', (code) => resolve(answered ?? { status: code === 1009 ? 413 : 0, code: `close ${code}`, message: code === 1009 ? 'message too big: socket closed (1009)' : `socket closed (${code})` }));
    sock.on('error', () => undefined);
  });
}

export async function badInputs(t: Target, database: 'embedded' | 'server', datasetId: string): Promise<{ row: ResultRow; lines: string[] }> {
  const snapshot = async () => JSON.stringify(await t.ok(`{ datasets { name description } jobs(limit: 1) { total } images(limit: 1) { total } }`));
  const before = await snapshot();
  const rec = new Recorder();
  const lines: string[] = [];
  for (const c of CASES) {
    const t0 = performance.now();
    const r = await c.send(t, { datasetId });
    const ms = performance.now() - t0;
    // Wrong: a server error, an internal code, or a success.
    const wrong = r.status >= 500 || r.code === 'INTERNAL_SERVER_ERROR' || (r.status === 200 && !r.code);
    rec.record(ms, wrong ? `${c.name}: ${r.status} ${r.code}` : null);
    lines.push(`| ${c.name} | ${r.status} | ${r.code ?? ''} | ${r.message.replace(/\|/g, '\\|').replace(/\n/g, ' ')} | ${Math.round(ms)} |`);
  }
  const written = (await snapshot()) !== before;
  return {
    row: {
      scenario: `bad inputs (${CASES.length})`, database, ...rec.stats(), rowsLost: null, rowsDuplicated: written ? 1 : 0, eventsMissed: null, recoveryMs: null,
      outcome: `${rec.errors} answered wrongly${rec.errors ? ` (${rec.errorSummary()})` : ''}; ${written ? 'SOMETHING WAS WRITTEN' : 'nothing written'}`,
    },
    lines,
  };
}

// Reviews (issue 20): a read-write token confirms or corrects cells, the read-only token cannot; each review
// records the verdict it replaced and the token's SHA-256 (never the token); undo marks a review and lets the
// verdict before it count again; the queue puts uncertain, flagged cells first and leaves reviewed ones out;
// galleries sort by confidence; counts and the audit trail (rows and CSV) follow; a second reviewer's
// subscription sees the first's reviews as they happen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import pg from 'pg';
import WebSocket from 'ws';
import { createClient, type Client } from 'graphql-ws';
import { startStack, type Stack } from './helpers/stack.js';
import { reviewCommand } from '../src/cli/review.command.js';

const RW = 'rw-review-token-0123456789';
const RO = 'ro-review-token-0123456789';
const CLASSES = ['neutrophil', 'lymphocyte', 'monocyte', 'eosinophil', 'basophil'];
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

let s: Stack;
let db: pg.Client;
let datasetId: string;
/** Cell ids by image: cells[i] has top probability 0.5 + i / 50 for class CLASSES[i % 5]; every 4th flagged. */
const cells: string[] = [];

const probs = (top: string, p: number) => Object.fromEntries(CLASSES.map((c) => [c, c === top ? p : (1 - p) / 4]));

before(async () => {
  s = await startStack({ token: RW, engine: false, env: { readToken: RO } });
  db = new pg.Client({ connectionString: s.databaseUrl });
  await db.connect();
  datasetId = (await s.ok(`mutation { createDataset(input: { name: "review-lab" }) { id } }`)).createDataset.id;
  const clf = await db.query(`INSERT INTO models (kind, name, version, artifact_path) VALUES ('classifier', 'seeded', '1', '/nowhere') RETURNING id`);
  for (let i = 0; i < 20; i++) {
    const img = await db.query(
      `INSERT INTO images (dataset_id, source_path, storage_path, sha256, width, height, format, bytes) VALUES ($1, $2, '/nowhere', $3, 100, 100, 'png', 1) RETURNING id`,
      [datasetId, `r/${String(i).padStart(2, '0')}.png`, String(i).padStart(64, 'a')],
    );
    const top = CLASSES[i % 5]!;
    const p = 0.5 + i / 50;
    const flagged = i % 4 === 3;
    const prediction = { label: flagged ? null : top, probabilities: probs(top, p), flagged, reason: flagged ? 'low confidence (0.40 < 0.4)' : null, modelId: clf.rows[0].id };
    const c = await db.query(`INSERT INTO cells (image_id, index, box, score, prediction) VALUES ($1, 0, '{10,10,60,60}', 0.9, $2) RETURNING id`, [img.rows[0].id, prediction]);
    cells.push(c.rows[0].id);
  }
});

after(async () => {
  await db?.end();
  await s?.close();
});

const REVIEW = `mutation($c: ID!, $l: String!) { reviewCell(cellId: $c, label: $l) { id cellId label previousLabel previousSource previousFlagged reviewer undoneAt } }`;

function subscriber(token: string): { client: Client; events: any[]; ready: Promise<void> } {
  const events: any[] = [];
  const client = createClient({ url: s.url.replace('http', 'ws'), webSocketImpl: WebSocket, retryAttempts: 0, connectionParams: bearer(token) });
  let ready!: () => void;
  const p = new Promise<void>((r) => (ready = r));
  client.on('connected', () => setTimeout(ready, 200));
  client.subscribe(
    { query: `subscription($d: ID!) { reviewEvents(datasetId: $d) { action review { id cellId label reviewer } } }`, variables: { d: datasetId } },
    { next: (v) => void events.push(v.data?.reviewEvents), error: (e) => void events.push({ error: e }), complete: () => undefined },
  );
  return { client, events, ready: p };
}

test('the read-only token may look but not review', async () => {
  const r = await s.gql(REVIEW, { c: cells[0], l: 'monocyte' }, bearer(RO));
  assert.equal(r.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(r));
  const q = await s.gql(`query($d: ID!) { reviewQueue(datasetId: $d, first: 3) { rank cell { id } } }`, { d: datasetId }, bearer(RO));
  assert.equal(q.data?.reviewQueue.length, 3, JSON.stringify(q));
  const bad = await s.gql(REVIEW, { c: cells[0], l: 'dragon' }, bearer(RW));
  assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
});

test('reviews, undo, queue, gallery, counts, audit trail and a second reviewer watching', async () => {
  // A second reviewer (read-only screen) watches the dataset.
  const watcher = subscriber(RO);
  await watcher.ready;
  try {
    // The queue: uncertain first, flagged raised; every predicted class present among the first five.
    const q0 = (await s.ok(`query($d: ID!) { reviewQueue(datasetId: $d, first: 20) { rank uncertainty reason currentLabel confidence cell { id prediction { flagged } } } }`, { d: datasetId })).reviewQueue;
    assert.equal(q0.length, 20);
    assert.ok(q0[0].uncertainty >= q0[19].uncertainty, 'more uncertain cells come before surer ones');
    assert.ok(q0.findIndex((e: any) => e.cell.id === cells[0]) < q0.findIndex((e: any) => e.cell.id === cells[19]), 'the least sure cell before the surest');

    // Three reviews: a confirmation, a correction, a flagged cell given a class.
    const a = (await s.ok(REVIEW, { c: cells[0], l: 'neutrophil' })).reviewCell;
    assert.deepEqual([a.label, a.previousLabel, a.previousSource, a.previousFlagged], ['neutrophil', 'neutrophil', 'MODEL', false]);
    assert.equal(a.reviewer, `token:${createHash('sha256').update(RW).digest('hex').slice(0, 12)}`);
    const b = (await s.ok(REVIEW, { c: cells[1], l: 'monocyte' })).reviewCell;
    assert.deepEqual([b.previousLabel, b.previousSource], ['lymphocyte', 'MODEL']);
    const c = (await s.ok(REVIEW, { c: cells[3], l: 'eosinophil' })).reviewCell;
    assert.deepEqual([c.previousLabel, c.previousFlagged], [null, true]);
    // Reviewing a reviewed cell replaces the review.
    const d = (await s.ok(REVIEW, { c: cells[1], l: 'basophil' })).reviewCell;
    assert.deepEqual([d.previousLabel, d.previousSource], ['monocyte', 'REVIEW']);

    // The token itself is stored nowhere; its SHA-256 is.
    const stored = await db.query(`SELECT token_sha256 FROM cell_reviews`);
    assert.ok(stored.rows.every((r) => r.token_sha256 === createHash('sha256').update(RW).digest('hex')));
    const dump = JSON.stringify((await db.query(`SELECT * FROM cell_reviews`)).rows);
    assert.ok(!dump.includes(RW), 'no token in the table');

    // Undo the last: the cell's earlier review counts again.
    const u = (await s.ok(`mutation($id: ID!) { undoReview(id: $id) { id undoneAt undoneBy } }`, { id: d.id })).undoReview;
    assert.ok(u.undoneAt);
    const again = await s.gql(`mutation($id: ID!) { undoReview(id: $id) { id } }`, { id: d.id }, bearer(RW));
    assert.equal(again.errors?.[0]?.extensions?.code, 'CONFLICT');

    const sum = (await s.ok(`query($d: ID!) { reviewSummary(datasetId: $d) { cells classified flagged reviewed confirmed corrected undone perClass { label predicted reviewed current } } }`, { d: datasetId })).reviewSummary;
    assert.deepEqual([sum.cells, sum.classified, sum.flagged, sum.reviewed, sum.confirmed, sum.corrected, sum.undone], [20, 15, 5, 3, 1, 2, 1]);
    const mono = sum.perClass.find((p: any) => p.label === 'monocyte');
    assert.equal(mono.reviewed, 1, 'cell 1 is a monocyte again after the undo');

    // The queue leaves reviewed cells out.
    const q1 = (await s.ok(`query($d: ID!) { reviewQueue(datasetId: $d, first: 50) { cell { id } } }`, { d: datasetId })).reviewQueue.map((e: any) => e.cell.id);
    assert.equal(q1.length, 17);
    for (const id of [cells[0], cells[1], cells[3]]) assert.ok(!q1.includes(id));

    // Galleries: per current class, least confident first (or most); flagged cells nobody reviewed under null.
    const g = (await s.ok(`query($d: ID!) { reviewGallery(datasetId: $d, label: "neutrophil") { total items { confidence currentLabel review { label } cell { id } } } }`, { d: datasetId })).reviewGallery;
    assert.ok(g.items.every((x: any) => x.currentLabel === 'neutrophil'));
    assert.deepEqual(g.items.map((x: any) => x.confidence), [...g.items.map((x: any) => x.confidence)].sort((x: number, y: number) => x - y));
    const desc = (await s.ok(`query($d: ID!) { reviewGallery(datasetId: $d, label: "neutrophil", ascending: false) { items { confidence } } }`, { d: datasetId })).reviewGallery;
    assert.ok(desc.items[0].confidence >= desc.items.at(-1).confidence);
    const flagged = (await s.ok(`query($d: ID!) { reviewGallery(datasetId: $d, label: null) { total } }`, { d: datasetId })).reviewGallery;
    assert.equal(flagged.total, 4, 'five flagged, one reviewed');

    // The audit trail: every review, newest first, the undone one marked; as CSV through GraphQL and REST.
    const trail = (await s.ok(`query($d: ID!) { reviewTrail(datasetId: $d) { total items { id label undoneAt } } }`, { d: datasetId })).reviewTrail;
    assert.equal(trail.total, 4);
    assert.equal(trail.items[0].id, d.id);
    assert.ok(trail.items[0].undoneAt);
    const csv = (await s.ok(`query($d: ID!) { reviewTrailCsv(datasetId: $d) }`, { d: datasetId })).reviewTrailCsv as string;
    const lines = csv.trim().split('\n');
    assert.equal(lines.length, 5);
    assert.match(lines[0]!, /^review_id,created_at,cell_id,image_path,cell_index,label,previous_label,previous_source/);
    assert.match(lines[1]!, /r\/00\.png,0,neutrophil,neutrophil,model/);
    const rest = await fetch(s.url.replace(/\/graphql$/, `/datasets/${datasetId}/reviews.csv`), { headers: bearer(RO) });
    assert.equal(rest.status, 200);
    assert.equal(await rest.text(), csv);
    assert.equal((await fetch(s.url.replace(/\/graphql$/, `/datasets/${datasetId}/reviews.csv`))).status, 401);

    // The watcher saw the four reviews and the undo, in order.
    const end = Date.now() + 5000;
    while (watcher.events.length < 5 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(watcher.events.map((e) => `${e.action} ${e.review.label}`), ['REVIEWED neutrophil', 'REVIEWED monocyte', 'REVIEWED eosinophil', 'REVIEWED basophil', 'UNDONE basophil']);
  } finally {
    await watcher.client.dispose();
  }
});

test('leukograph review: queue, give, undo, summary, export', async () => {
  const run = async (...argv: string[]) => {
    let out = '';
    let err = '';
    const code = await reviewCommand([...argv, '--url', s.url, '--token', RW], { write: (x: string) => ((out += x), true) } as any, { write: (x: string) => ((err += x), true) } as any);
    return { code, out, err };
  };
  const q = await run('queue', '--dataset', 'review-lab', '--first', '3');
  assert.equal(q.code, 0, q.err);
  const lines = q.out.trim().split('\n');
  assert.equal(lines.length, 3);
  const cellId = /[0-9a-f-]{36}/.exec(lines[0]!)![0];
  const g = await run('give', cellId, 'monocyte');
  assert.equal(g.code, 0, g.err);
  const reviewId = /review ([0-9a-f-]{36})/.exec(g.out)![1]!;
  assert.match(g.out, /-> monocyte/);
  const again = await run('queue', '--dataset', 'review-lab', '--first', '50', '--json');
  assert.ok(!again.out.includes(cellId), 'a reviewed cell leaves the queue');
  const u = await run('undo', reviewId);
  assert.equal(u.code, 0, u.err);
  assert.match(u.out, /undone/);
  const sum = await run('summary', '--dataset', 'review-lab', '--json');
  assert.equal(JSON.parse(sum.out).undone, 2);
  const bad = await run('give', cellId, 'dragon');
  assert.equal(bad.code, 1);
  assert.match(bad.err, /not a cell class/);
  assert.equal((await run('frobnicate')).code, 2);
  const ro = await reviewCommand(['give', cellId, 'monocyte', '--url', s.url, '--token', RO], { write: () => true } as any, { write: () => true } as any);
  assert.equal(ro, 1, 'the read-only token cannot review from the command line either');
});

// Cursor (keyset) pages of cells and images against the offset form, the maintained row counts, and the
// migration that adds them to a database that already holds rows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, type Stack } from './helpers/stack.js';
import { KeysetAndCounts1796549896528 } from '../migrations/1796549896528-keyset-and-counts.js';

let s: Stack;
let dsA: string;
let dsB: string;
let jobId: string;

const q = (sql: string, params: unknown[] = []) => s.api.db.dataSource.query(sql, params);

/** Rows with ties on purpose: every cell of an image shares created_at, and two images share it too. */
async function seed(): Promise<void> {
  [{ id: dsA }] = await q(`INSERT INTO datasets (name) VALUES ('keyset-a') RETURNING id`);
  [{ id: dsB }] = await q(`INSERT INTO datasets (name) VALUES ('keyset-b') RETURNING id`);
  [{ id: jobId }] = await q(`INSERT INTO jobs (kind) VALUES ('detect') RETURNING id`);
  for (const [ds, n] of [[dsA, 23], [dsB, 9]] as const) {
    await q(
      `INSERT INTO images (dataset_id, source_path, storage_path, sha256, width, height, format, bytes)
       SELECT $1, 'cls' || (g % 3) || '/img' || lpad(g::text, 3, '0') || '.png', 'x', repeat('0', 64), 100, 100, 'png', 1
         FROM generate_series(1, $2::int) g`,
      [ds, n],
    );
  }
  // Cells: 1-3 per image; created_at shared within an image and between pairs of images.
  await q(
    `INSERT INTO cells (image_id, index, box, score, job_id, created_at)
     SELECT i.id, k, '{0,0,1,1}', 0.9, CASE WHEN k = 0 THEN $1::uuid END,
            timestamptz '2026-01-01' + make_interval(secs => (row_number() OVER (ORDER BY i.source_path, i.dataset_id) / 2) * 0.000001)
       FROM images i, generate_series(0, 2) k WHERE k <= (hashtext(i.source_path) & 3) % 3`,
    [jobId],
  );
}

before(async () => {
  s = await startStack({ engine: false });
  await seed();
});

after(async () => {
  await s?.close();
});

async function allByCursor(field: 'cellsConnection' | 'imagesConnection', args: string, first: number): Promise<{ ids: string[]; pages: number; totals: number[] }> {
  const ids: string[] = [];
  const totals: number[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const d: any = await s.ok(
      `query($a: String) { c: ${field}(${args}${args ? ', ' : ''}first: ${first}, after: $a) { totalCount totalCountIsEstimate edges { cursor node { id } } nodes { id } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }`,
      { a: after },
    );
    const c = d.c;
    pages++;
    totals.push(c.totalCount);
    assert.equal(c.totalCountIsEstimate, false);
    assert.deepEqual(c.nodes.map((n: any) => n.id), c.edges.map((e: any) => e.node.id));
    assert.equal(c.pageInfo.hasPreviousPage, false);
    assert.equal(c.pageInfo.startCursor, c.edges[0]?.cursor ?? null);
    assert.equal(c.pageInfo.endCursor, c.edges.at(-1)?.cursor ?? null);
    ids.push(...c.edges.map((e: any) => e.node.id));
    if (!c.pageInfo.hasNextPage) break;
    assert.equal(c.edges.length, first);
    after = c.pageInfo.endCursor;
  }
  return { ids, pages, totals };
}

async function allByOffset(field: 'cells' | 'images', args: string): Promise<{ ids: string[]; total: number }> {
  const d = await s.ok(`{ p: ${field}(${args}${args ? ', ' : ''}limit: 500) { total items { id } } }`);
  return { ids: d.p.items.map((i: any) => i.id), total: d.p.total };
}

test('cells by cursor: the offset order exactly, in pages of any size, through ties of created_at', async () => {
  for (const [args, label] of [['', 'all'], [`datasetId: "${dsA}"`, 'dataset A'], [`datasetId: "${dsB}"`, 'dataset B'], [`jobId: "${jobId}"`, 'job']] as const) {
    const offset = await allByOffset('cells', args);
    assert.ok(offset.ids.length > 5, label);
    for (const first of [3, 500]) {
      const c = await allByCursor('cellsConnection', args, first);
      assert.deepEqual(c.ids, offset.ids, `${label}, first ${first}`);
      assert.equal(c.pages, Math.max(1, Math.ceil(offset.ids.length / first)), `${label}, first ${first}: pages`);
      assert.ok(c.totals.every((t) => t === offset.total), `${label}: totalCount ${c.totals} against total ${offset.total}`);
    }
  }
  const [{ n }] = await q(`SELECT count(*)::int AS n FROM cells WHERE dataset_id = $1`, [dsA]);
  assert.equal((await allByOffset('cells', `datasetId: "${dsA}"`)).total, n);
  const [img] = await q(`SELECT image_id FROM cells GROUP BY image_id HAVING count(*) = 3 LIMIT 1`);
  const one = await allByCursor('cellsConnection', `imageId: "${img.image_id}"`, 2);
  assert.equal(one.ids.length, 3);
});

test('images by cursor: the offset order (source path, then id), per dataset and across datasets', async () => {
  for (const args of ['', `datasetId: "${dsA}"`, `datasetId: "${dsB}", cellType: null`]) {
    const offset = await allByOffset('images', args);
    const c = await allByCursor('imagesConnection', args, 5);
    assert.deepEqual(c.ids, offset.ids, args);
    assert.ok(c.totals.every((t) => t === offset.total));
  }
  // Two datasets share source paths: across datasets the id breaks the tie, and nothing repeats.
  const all = await allByCursor('imagesConnection', '', 3);
  assert.equal(new Set(all.ids).size, 32);
});

test('counters follow inserts and cascaded deletes; other filters count exactly, or estimate past 10,000 rows', async () => {
  const total = async () => (await s.ok(`{ c: cellsConnection(first: 1) { totalCount } i: imagesConnection(first: 1) { totalCount } }`));
  const [{ cells, images }] = await q(`SELECT (SELECT count(*) FROM cells)::int AS cells, (SELECT count(*) FROM images)::int AS images`);
  assert.deepEqual(await total(), { c: { totalCount: cells }, i: { totalCount: images } });
  // A dataset of its own: 10,001 cells of one job on 10,001 images.
  const [{ id: big }] = await q(`INSERT INTO datasets (name) VALUES ('keyset-big') RETURNING id`);
  const [{ id: bigJob }] = await q(`INSERT INTO jobs (kind) VALUES ('detect') RETURNING id`);
  await q(
    `WITH im AS (INSERT INTO images (dataset_id, source_path, storage_path, sha256, width, height, format, bytes)
                 SELECT $1, 'p' || g, 'x', repeat('0', 64), 1, 1, 'png', 1 FROM generate_series(1, 10001) g RETURNING id)
     INSERT INTO cells (image_id, index, box, score, job_id) SELECT id, 0, '{0,0,1,1}', 1, $2 FROM im`,
    [big, bigJob],
  );
  await q(`ANALYZE cells`);
  const d = await s.ok(`query($d: ID!, $j: ID!) {
    byDataset: cellsConnection(datasetId: $d, first: 1) { totalCount totalCountIsEstimate }
    byJob: cellsConnection(jobId: $j, first: 1) { totalCount totalCountIsEstimate }
    offset: cells(datasetId: $d, limit: 1) { total }
  }`, { d: big, j: bigJob });
  assert.deepEqual(d.byDataset, { totalCount: 10001, totalCountIsEstimate: false });
  assert.equal(d.offset.total, 10001);
  assert.equal(d.byJob.totalCountIsEstimate, true, 'a job filter past 10,000 rows is estimated');
  assert.ok(d.byJob.totalCount >= 10001 && d.byJob.totalCount < 15000, `estimate ${d.byJob.totalCount}`);
  // Deleting the dataset cascades to its images and cells: both counters follow.
  await q(`DELETE FROM datasets WHERE id = $1`, [big]);
  assert.deepEqual(await total(), { c: { totalCount: cells }, i: { totalCount: images } });
  const [{ bad }] = await q(`SELECT count(*)::int AS bad FROM row_counts r WHERE n <> (SELECT count(*) FROM ${'cells'} c WHERE c.dataset_id = r.dataset_id) AND relation = 'cells'`);
  assert.equal(bad, 0);
});

test('bad cursors and page sizes are refused with a clear error', async () => {
  const img = await s.ok(`{ imagesConnection(first: 1) { pageInfo { endCursor } } }`);
  for (const [query, re] of [
    [`{ cellsConnection(after: "nonsense") { totalCount } }`, /not a cursor of this list \(cells\)/],
    [`{ cellsConnection(after: "${img.imagesConnection.pageInfo.endCursor}") { totalCount } }`, /not a cursor of this list \(cells\)/],
    [`{ cellsConnection(first: 0) { totalCount } }`, /first must be between 1 and 500/],
    [`{ imagesConnection(first: 501) { totalCount } }`, /first must be between 1 and 500/],
  ] as const) {
    const r = await s.gql(query);
    assert.equal(r.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', query);
    assert.match(r.errors![0].message, re);
  }
});

test('the migration fills cells.dataset_id and the counters from rows that were there before it', async () => {
  const runner = s.api.db.dataSource.createQueryRunner();
  try {
    const m = new KeysetAndCounts1796549896528();
    const before = await q(`SELECT relation, dataset_id, n::int FROM row_counts WHERE n > 0 ORDER BY 1, 2`);
    await m.down(runner);
    await m.up(runner);
    assert.deepEqual(await q(`SELECT relation, dataset_id, n::int FROM row_counts WHERE n > 0 ORDER BY 1, 2`), before);
    const [{ missing }] = await q(`SELECT count(*)::int AS missing FROM cells c JOIN images i ON i.id = c.image_id WHERE c.dataset_id IS DISTINCT FROM i.dataset_id`);
    assert.equal(missing, 0);
  } finally {
    await runner.release();
  }
});

test('truncating cells resets their counters and leaves the images\' alone', async () => {
  const [{ images }] = await q(`SELECT count(*)::int AS images FROM images`);
  await q(`TRUNCATE cells CASCADE`);
  const d = await s.ok(`{ c: cellsConnection(first: 1) { totalCount edges { cursor } } i: imagesConnection(first: 1) { totalCount } }`);
  assert.deepEqual(d, { c: { totalCount: 0, edges: [] }, i: { totalCount: images } });
});

// The dashboard in headless Chromium (Debian's, driven by playwright-core): it follows a running import
// live (and an analysis, once a detector is in models/), every request stays on this machine, and from
// rows written as the engine writes them it shows cells with crops, live loss curves, reconstructions,
// an evaluation's confusion heat map and the latent embedding. Screenshots of real work go to
// docs/dashboard-*.png; the one of synthetic finished work to the temporary directory.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { differentialCount } from '../client-sdk/src/differential-count.js';
import { startStack, throttle, REPO, FIXTURES, type Stack } from './helpers/stack.js';
import { cropResize, encodePng } from '../src/imaging/image-codec.js';
import { rleEncode } from '../src/imaging/rle.js';
import { EVENTS_CHANNEL } from '../src/pubsub/events.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// CI installs Chromium (.ci/run); elsewhere the test says why it cannot run instead of failing.
const skip = !existsSync(CHROMIUM) && !process.env.CI ? `no Chromium at ${CHROMIUM} (apt-get install chromium)` : false;
const DETECTOR = join(REPO, 'models/detector.json');
const CLASSES = ['basophil', 'eosinophil', 'lymphocyte', 'monocyte', 'neutrophil'];
const DOCS = join(REPO, 'docs');

let s: Stack;
let browser: Browser;
let base: string;
let importedDatasetId = '';

before(async () => {
  if (skip) return;
  [s, browser] = await Promise.all([
    startStack({ engine: false }),
    chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    }),
  ]);
  base = s.url.replace(/\/graphql$/, '');
  mkdirSync(DOCS, { recursive: true });
});
after(async () => {
  await browser?.close();
  await s?.close();
});

/** A page that refuses (and records) every request leaving 127.0.0.1, and records console errors. */
async function offlinePage(): Promise<{ page: Page; outside: string[]; consoleErrors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const outside: string[] = [];
  const consoleErrors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.hostname === '127.0.0.1' || u.protocol === 'data:') return route.continue();
    outside.push(u.toString());
    return route.abort();
  });
  return { page, outside, consoleErrors };
}

test('the dashboard follows a running import live, offline', { skip }, async () => {
  const { page, outside, consoleErrors } = await offlinePage();
  // Queued with no engine yet, so the page is subscribed before the first image is imported.
  const d = await s.ok(`mutation { createDataset(input: { name: "acevedo20", stain: "May-Grünwald-Giemsa", scanner: "CellaVision DM96" }) { id } }`);
  importedDatasetId = d.createDataset.id;
  const job = await s.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, {
    i: { datasetId: importedDatasetId, path: 'acevedo20' },
  }, throttle(150));
  const jobId: string = job.importDataset.id;
  await page.goto(`${base}/dashboard?job=${jobId}`);
  await page.waitForSelector(`#stream-panel[data-subscribed="${jobId}"]`);
  await page.waitForSelector('#connection.live');
  await page.waitForSelector(`#jobs li[data-job="${jobId}"]`);
  await s.startEngine();

  // Mid-job: images arrive one by one with their class, while the job still runs.
  await page.waitForFunction(() => document.querySelectorAll('#stream .item.image .cap-line b').length >= 5, null, { timeout: 30_000 });
  assert.equal(await page.getAttribute('#stream-panel', 'data-status'), 'RUNNING', 'the stream shows the job while it runs');
  await page.waitForSelector('#engines .engine.up', { timeout: 5000 });
  await page.screenshot({ path: join(DOCS, 'dashboard-live.png'), animations: 'disabled' });
  // A second viewer joins mid-job: what it missed is read back, the rest streams, nothing twice.
  const late = await offlinePage();
  await late.page.goto(`${base}/dashboard?job=${jobId}`);

  await page.waitForSelector('#stream-panel[data-status="SUCCEEDED"]', { timeout: 30_000 });
  await page.waitForFunction(() => document.querySelectorAll('#stream .item.image .cap-line b').length === 15, null, { timeout: 10_000 });
  const shown = await page.$$eval('#stream .item.image', (els) => els.map((e) => ({ loaded: (e.querySelector('img') as HTMLImageElement).naturalWidth > 0, type: e.querySelector('b')?.textContent })));
  assert.equal(shown.length, 15, 'every imported image is in the stream');
  assert.ok(shown.every((x) => x.loaded), 'every thumbnail loaded from /images/<id>');
  const truth = await s.ok(`query($ds: ID!) { images(datasetId: $ds, limit: 50) { items { cellType } } }`, { ds: importedDatasetId });
  assert.deepEqual([...new Set(shown.map((x) => x.type))].sort(), [...new Set(truth.images.items.map((i: { cellType: string }) => i.cellType))].sort(), 'each card names its cell type');
  assert.equal(await page.getAttribute(`#jobs li[data-job="${jobId}"]`, 'data-status'), 'SUCCEEDED');
  await late.page.waitForSelector('#stream-panel[data-status="SUCCEEDED"]', { timeout: 30_000 });
  await late.page.waitForFunction(() => document.querySelectorAll('#stream .item.image .cap-line b').length === 15, null, { timeout: 10_000 });
  assert.equal(await late.page.getAttribute('#stream', 'data-items'), '15');
  assert.deepEqual([...outside, ...late.outside], [], 'no request leaves the machine');
  assert.deepEqual([...consoleErrors, ...late.consoleErrors], []);
  await late.page.close();
  await page.close();
});

test('an analysis streams cells with crops', { skip: skip || (!existsSync(DETECTOR) && `no detector model at ${DETECTOR} yet`) }, async () => {
  const { page, outside, consoleErrors } = await offlinePage();
  const imgs = await s.ok(`query($ds: ID!) { images(datasetId: $ds, limit: 3) { items { id } } }`, { ds: importedDatasetId });
  assert.equal(imgs.images.items.length, 3, 'the import test left images to analyze');
  const job = await s.ok(`mutation($i: AnalyzeImagesInput!) { analyzeImages(input: $i) { id } }`, { i: { imageIds: imgs.images.items.map((i: { id: string }) => i.id) } });
  const jobId: string = job.analyzeImages.id;
  await page.goto(`${base}/dashboard?job=${jobId}`);
  await page.waitForSelector('#stream .item.cell', { timeout: 40_000 });
  await page.waitForSelector('#stream-panel[data-status="SUCCEEDED"], #stream-panel[data-status="FAILED"]', { timeout: 60_000 });
  assert.equal(await page.getAttribute('#stream-panel', 'data-status'), 'SUCCEEDED');
  // Each cell shows its crop, or (no mask, so no crop) its box on the whole image.
  await page.waitForFunction(
    () => [...document.querySelectorAll('#stream .item.cell')].every((c) => (c.querySelector('img') as HTMLImageElement | null)?.naturalWidth || c.querySelector('canvas')),
    null,
    { timeout: 10_000 },
  );
  await page.screenshot({ path: join(DOCS, 'dashboard-analysis.png'), animations: 'disabled' });
  assert.deepEqual(outside, []);
  assert.deepEqual(consoleErrors.filter((e) => !/404/.test(e)), [], 'only missing crops may 404');
  await page.close();
});

test('a finished analysis shows its cells: crop with mask outline (or the box), class, confidence', { skip }, async () => {
  // Cells as the analyze job leaves them (the detector lands later): real images, drawn masks, predictions.
  const jobId = await seedFinishedAnalysis(s, importedDatasetId);
  const { page, outside, consoleErrors } = await offlinePage();
  await page.goto(`${base}/dashboard?job=${jobId}`);
  await page.waitForFunction(() => document.querySelectorAll('#stream .item.cell').length === 10);
  await page.waitForFunction(() =>
    [...document.querySelectorAll('#stream .item.cell')].every((c) => ((c.querySelector('img') as HTMLImageElement | null)?.naturalWidth ?? 0) > 0 || c.querySelector('canvas')),
  );
  const cards = await page.$$eval('#stream .item.cell', (els) => els.map((e) => ({ crop: !!(e.querySelector('img') as HTMLImageElement | null)?.naturalWidth, box: (e as HTMLElement).dataset.fallback === 'box', label: e.querySelector('b')?.textContent })));
  assert.equal(cards.filter((c) => c.crop).length, 8, 'cells with a mask show their crop');
  assert.equal(cards.filter((c) => c.box).length, 2, 'cells without one show their box on the whole image');
  assert.equal(cards.filter((c) => c.label === 'flagged').length, 1);
  assert.match((await page.textContent('#stream-summary')) ?? '', /Differential count · 10 cells/);
  // The page counts as the server and the SDK do (one module): classes over the counted cells, the flagged one apart.
  const cellsOf = await s.ok(`query($j: ID!) { cells(jobId: $j, limit: 100) { items { cutByBorder prediction { label flagged flagReason reason } } } }`, { j: jobId });
  const expected = differentialCount(cellsOf.cells.items);
  assert.equal(expected.flagged, 1);
  assert.equal(await page.getAttribute('#stream-summary .count-total', 'data-counted'), String(expected.counted));
  const rows = await page.$$eval('#stream-summary .count-row:not(.apart)', (els) => els.map((e) => `${e.querySelector('.count-label')?.textContent} ${e.querySelector('.count-n')?.textContent}`));
  assert.deepEqual(rows, expected.byClass.map((c) => `${c.label} ${c.count} · ${Math.round(100 * c.fraction)} %`));
  await page.screenshot({ path: join(DOCS, 'dashboard-cells.png'), animations: 'disabled' });
  assert.deepEqual(outside, []);
  assert.deepEqual(consoleErrors.filter((e) => !/404/.test(e)), [], 'only the two missing crops may 404');
  await page.close();
});

test('an analysis that rewrites its verdicts when it ends shows its final count: a failed check no class, a relabelled cell under its new class', { skip }, async () => {
  // A running analyze job's cells as it streams them (one label each), then the rewrite analyze.handler.ts
  // does at the end, sent through the same NOTIFY channel as the engine's events.
  const client = new pg.Client({ connectionString: s.databaseUrl });
  await client.connect();
  const { page, outside, consoleErrors } = await offlinePage();
  try {
    const withheld = { label: null, flagged: true, reason: 'self-check failed for this batch (class mix): the verdict is withheld until the count is reviewed' };
    const failed = await streamThenRewrite(client, page, {
      final: () => withheld,
      result: { selfCheck: { status: 'failed', cells: 6, warning: 'SELF-CHECK FAILED: do not report this count without review: degenerate.', verdicts: [] } },
      message: 'SELF-CHECK FAILED: do not report this count without review: degenerate.',
    });
    await page.waitForSelector('#stream-head [data-selfcheck="FAILED"]');
    assert.equal(await page.getAttribute('#stream-summary .count-total', 'data-counted'), '0', 'a failed check counts nothing');
    assert.deepEqual(await classRows(page), [], 'and shows no class');
    assert.match((await page.textContent('#stream-summary')) ?? '', /Differential count · 6 cells[\s\S]*withheld: the job's self-check failed/);
    assert.deepEqual(await cardLabels(page), Array(6).fill('flagged'), 'each card shows the final verdict');
    assert.equal(failed.labels.length, 6);

    // A check that passed, and the final classification of all the cells together named one cell again.
    const relabel = await streamThenRewrite(client, page, { final: (k, label) => ({ label: k === 0 ? 'monocyte' : label, flagged: false, reason: null }), result: {}, message: '6 cells' });
    const stored = await s.ok(`query($j: ID!) { cells(jobId: $j, limit: 100) { items { cutByBorder prediction { label flagged flagReason reason } } } }`, { j: relabel.jobId });
    const expected = differentialCount(stored.cells.items);
    assert.ok(!relabel.labels.includes('monocyte') && expected.byClass.some((c) => c.label === 'monocyte'), 'the relabelled cell has a class none streamed with');
    assert.deepEqual(await classRows(page), expected.byClass.map((c) => `${c.label} ${c.count} · ${Math.round(100 * c.fraction)} %`));

    // Images analyzed again: their cells were stored by an earlier job, so this job owns none. The cards and the
    // count that streamed stay (a job-scoped read-back would blank them), and the panel says they are as streamed.
    const again = await streamThenRewrite(client, page, { final: (_k, label) => ({ label, flagged: false, reason: null }), result: {}, message: '6 cells', storedEarlier: true });
    assert.equal(await page.getAttribute('#stream-summary .count-total', 'data-counted'), '6');
    assert.deepEqual((await cardLabels(page)).sort(), [...again.labels].sort());
    assert.match((await page.textContent('#stream-summary')) ?? '', /verdicts as streamed: these cells were stored by an earlier job/);
    assert.deepEqual(outside, []);
    assert.deepEqual(consoleErrors.filter((e) => !/404/.test(e)), [], 'only the crops of cells without a mask may 404');
  } finally {
    await page.close();
    await client.end();
  }
});

type StoredPrediction = { label: string | null; flagged: boolean; reason: string | null };

/**
 * A running analyze job over six imported images: its cells stream with their image's class, the page
 * shows them, then every cell's verdict becomes `final(k, label)` and the job ends with `result`.
 * Returns once the page has read the job back after its end.
 */
async function streamThenRewrite(
  client: pg.Client,
  page: Page,
  o: { final: (k: number, label: string) => StoredPrediction; result: Record<string, unknown>; message: string; storedEarlier?: boolean },
): Promise<{ jobId: string; labels: string[] }> {
  const imgs = await client.query(`SELECT id, width, height, cell_type FROM images WHERE dataset_id = $1 ORDER BY source_path LIMIT 6`, [importedDatasetId]);
  assert.equal(imgs.rows.length, 6, 'the import test left images');
  const imageIds = imgs.rows.map((im) => im.id as string);
  const row = await client.query(`INSERT INTO jobs (kind, status, done, total, message, params, attempts, started_at) VALUES ('analyze', 'running', 0, 6, 'detecting', $1, 1, now()) RETURNING id`, [{ imageIds }]);
  const jobId: string = row.rows[0].id;
  const publish = (e: Record<string, unknown>) => client.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, JSON.stringify({ jobId, ...e })]);
  await page.goto(`${base}/dashboard?job=${jobId}`);
  await page.waitForSelector(`#stream-panel[data-subscribed="${jobId}"]`);
  await page.waitForSelector('#connection.live');
  const labels: string[] = [];
  const items: Record<string, unknown>[] = [];
  for (const [k, im] of imgs.rows.entries()) {
    const label = String(im.cell_type).startsWith('neutrophil') ? 'neutrophil' : String(im.cell_type);
    labels.push(label);
    const probabilities = Object.fromEntries(CLASSES.map((c) => [c, c === label ? 0.8 : 0.05]));
    const [w, hgt] = [im.width as number, im.height as number];
    const cell = await client.query(
      // The next free index: the images have cells of earlier (synthetic) analyses already.
      `INSERT INTO cells (image_id, index, box, score, prediction, job_id)
       VALUES ($1, (SELECT coalesce(max(index) + 1, 0) FROM cells WHERE image_id = $1), $2, 0.95, $3, $4) RETURNING id`,
      // storedEarlier: images analyzed again keep the cells an earlier detection stored (not this job's).
      [im.id, [w / 4, hgt / 4, (3 * w) / 4, (3 * hgt) / 4], { label, flagged: false, reason: null, probabilities, modelId: jobId }, o.storedEarlier ? null : jobId],
    );
    items.push({ type: 'item', itemKind: 'cell', itemId: cell.rows[0].id, index: k, ok: true });
  }
  // An event sent before the page's subscription is live on the server reaches no one: sent again until
  // every cell is shown (the page shows each cell once). Then the count is the provisional one.
  const shown = () => page.evaluate(() => document.querySelectorAll('#stream .item.cell').length);
  for (let tries = 0; (await shown()) < 6; tries++) {
    assert.ok(tries < 100, 'the streamed cells reach the page');
    for (const e of items) await publish(e);
    await publish({ type: 'progress', status: 'running', done: 6, total: 6, progress: 1, message: 'classifying' });
    await new Promise((r) => setTimeout(r, 200));
  }
  await page.waitForSelector(`#stream-panel[data-live="${jobId}"]`);
  assert.deepEqual((await cardLabels(page)).sort(), [...labels].sort(), 'the cards show the verdicts the cells streamed with');
  assert.equal(await page.getAttribute('#stream-summary .count-total', 'data-counted'), '6');

  for (const [k, e] of items.entries()) {
    await client.query(`UPDATE cells SET prediction = prediction || $2::jsonb WHERE id = $1`, [e.itemId, o.final(k, labels[k]!)]);
  }
  await client.query(`UPDATE jobs SET status = 'succeeded', done = 6, progress = 1, message = $2, finished_at = now(), result = $3 WHERE id = $1`, [jobId, o.message, { cells: 6, stages: ['detect', 'encode', 'classify'], ...o.result }]);
  await publish({ type: 'progress', status: 'succeeded', done: 6, total: 6, progress: 1, message: o.message });
  await page.waitForSelector(`#stream-panel[data-final="${jobId}"][data-status="SUCCEEDED"]`);
  return { jobId, labels };
}

const classRows = (page: Page) =>
  page.$$eval('#stream-summary .count-row:not(.apart)', (els) => els.map((e) => `${e.querySelector('.count-label')?.textContent} ${e.querySelector('.count-n')?.textContent}`));
const cardLabels = (page: Page) => page.$$eval('#stream .item.cell .cap-line b', (els) => els.map((e) => e.textContent ?? ''));

test('a running training job draws its loss curves live from jobProgress metrics', { skip }, async () => {
  // The events a train-autoencoder job publishes (train-autoencoder.handler.ts), sent through the same
  // NOTIFY channel, so the page's path is the real one without training a network here.
  const client = new pg.Client({ connectionString: s.databaseUrl });
  await client.connect();
  const { page, outside, consoleErrors } = await offlinePage();
  try {
    const [epochs, steps] = [3, 6];
    const total = epochs * steps;
    const params = { sourceDatasetId: importedDatasetId, alignDatasetIds: [], preset: 'cpu', epochs, batchSize: 32, learningRate: 0.001, alignWeight: 5, seed: 0 };
    const row = await client.query(
      `INSERT INTO jobs (kind, status, done, total, message, params, attempts, started_at) VALUES ('train-autoencoder', 'running', 0, $1, 'starting', $2, 1, now()) RETURNING id`,
      [total, params],
    );
    const jobId: string = row.rows[0].id;
    const publish = (e: Record<string, unknown>) => client.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, JSON.stringify({ type: 'progress', jobId, status: 'running', ...e })]);
    await page.goto(`${base}/dashboard?job=${jobId}`);
    await page.waitForSelector(`#stream-panel[data-live="${jobId}"]`);
    await page.waitForSelector(`#loss-charts[data-job="${jobId}"]`);
    const dir = join(s.cfg.dataDir, 'jobs', jobId);
    const pairs = CLASSES.slice(1).map((c) => join(FIXTURES, 'acevedo20', c, readdirSync(join(FIXTURES, 'acevedo20', c))[1]!));
    const history: Record<string, number>[] = [];
    for (let e = 0; e < epochs; e++) {
      const sums = { loss: 0, ssim: 0, mse: 0, align: 0 };
      for (let k = 0; k < steps; k++) {
        const done = e * steps + k + 1;
        const t = done / total;
        const m = { ssim: 0.5 * Math.exp(-3 * t) + 0.12 + 0.02 * Math.sin(done), mse: 0.06 * Math.exp(-4 * t) + 0.01, align: 0.04 * Math.exp(-2 * t) + 0.01 };
        const loss = m.ssim + m.mse + 5 * m.align;
        for (const key of Object.keys(sums) as (keyof typeof sums)[]) sums[key] += key === 'loss' ? loss : m[key];
        await publish({ done, total, progress: t, message: `epoch ${e + 1}/${epochs}, step ${k + 1}/${steps}`, metrics: { epoch: e + 1, step: done, loss, ...m, samplesPerSec: 150 + k, etaSec: (total - done) * 2 } });
      }
      const mean = Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / steps])) as typeof sums;
      history.push({ epoch: e + 1, ...mean, samplesPerSec: 152, seconds: 12 });
      await writeReconstructions(dir, e + 1, pairs, e + 1);
      await publish({ done: (e + 1) * steps, total, progress: (e + 1) / epochs, message: `epoch ${e + 1}/${epochs} done, checkpoint saved`, metrics: { epoch: e + 1, epochLoss: mean.loss, epochSsim: mean.ssim, epochMse: mean.mse, epochAlign: mean.align, epochSamplesPerSec: 152, reconstructionEpoch: e + 1 } });
    }
    await page.waitForSelector(`#loss-charts[data-steps="${total}"][data-epochs="${epochs}"]`);
    await page.waitForFunction(() => ((document.querySelector('#recon-frame img') as HTMLImageElement | null)?.naturalWidth ?? 0) > 0);
    assert.equal(await page.inputValue('#recon-epoch'), String(epochs), 'the newest reconstruction is shown');
    assert.match((await page.textContent('#training-stats')) ?? '', /epoch 3 \/ 3/);
    await page.screenshot({ path: join(DOCS, 'dashboard-training.png'), fullPage: true, animations: 'disabled' });

    // The job ends: its result's history replaces nothing seen live, and the list shows it done.
    await client.query(`UPDATE jobs SET status = 'succeeded', done = $2, progress = 1, message = 'trained 3 epochs (synthetic)', finished_at = now(), result = $3 WHERE id = $1`, [jobId, total, { epochs, history }]);
    await publish({ status: 'succeeded', done: total, total, progress: 1, message: 'trained' });
    await page.waitForSelector(`#jobs li[data-job="${jobId}"][data-status="SUCCEEDED"]`);
    await page.waitForSelector('#stream-panel[data-status="SUCCEEDED"]');
    assert.equal(await page.getAttribute('#loss-charts', 'data-steps'), String(total));
    assert.deepEqual(outside, []);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await page.close();
    await client.end();
  }
});

test('after training and an evaluation: loss curves, reconstructions, confusion heat map, embedding', { skip }, async () => {
  const seeded = await seedFinishedWork(s);
  const { page, outside, consoleErrors } = await offlinePage();
  await page.goto(`${base}/dashboard?job=${seeded.trainJobId}`);
  await page.waitForSelector('#loss-charts[data-epochs="12"] svg path.series');
  await page.waitForFunction(() => ((document.querySelector('#recon-frame img') as HTMLImageElement | null)?.naturalWidth ?? 0) > 0);
  assert.equal(await page.inputValue('#recon-epoch'), '12', 'the last epoch is shown first');
  await page.waitForSelector('#confusion[data-labels="5"]');
  assert.equal(await page.locator('#confusion rect.cell').count(), 25);
  // AE-CFE on the first target is chosen by default; a baseline is one click away.
  assert.match((await page.textContent('#confusion .confusion-title')) ?? '', /ae_cfe · lab B/);
  // Before/after alignment: the evaluation's own latent sample, one PCA picture per autoencoder.
  await page.waitForFunction(() => [...document.querySelectorAll('#evaluation-embedding canvas')].map((c) => (c as HTMLElement).dataset.points).join() === '120,120');
  assert.deepEqual(await page.locator('#evaluation-embedding canvas').evaluateAll((cs) => cs.map((c) => (c as HTMLElement).dataset.method)), ['ae_no_align', 'ae_cfe']);
  await page.waitForFunction(() => Number(document.getElementById('embedding')?.dataset.points) === 360, null, { timeout: 20_000 });
  assert.equal(await page.locator('#embedding-legend .legend-row').count(), 3, 'coloured by lab: three labs');
  // Synthetic numbers: this picture stays out of docs/ (docs/dashboard-evaluation.png comes from a real
  // evaluation, scripts/demo.ts).
  await page.screenshot({ path: join(tmpdir(), 'leukograph-dashboard-evaluation-synthetic.png'), fullPage: true, animations: 'disabled' });

  await page.check('input[name="eval-colour"][value="class"]');
  await page.waitForSelector('#evaluation-embedding[data-colour-by="class"]');
  await page.check('input[name="colour"][value="class"]');
  await page.waitForSelector('#embedding[data-colour-by="class"]');
  assert.equal(await page.locator('#embedding-legend .legend-row').count(), 5, 'coloured by class: five classes');
  await page.click('#evaluation-summary td[data-key^="colour_shape"]');
  assert.match((await page.textContent('#confusion .confusion-title')) ?? '', /colour_shape/);
  // A lab whose self-check failed is marked in the grid and says why once chosen; the labs that passed are not marked.
  const failed = page.locator('#evaluation-summary td.selfcheck-failed');
  assert.equal(await failed.count(), 1);
  assert.equal(await failed.getAttribute('data-key').then((k) => k?.startsWith('morphology_default')), true);
  assert.match((await failed.textContent()) ?? '', /check failed/);
  assert.equal(await page.locator('#evaluation-summary td[data-key^="morphology_default"]:not(.selfcheck-failed)').count(), 2);
  await failed.click();
  assert.match((await page.textContent('#confusion .selfcheck.failed')) ?? '', /SELF-CHECK FAILED: estimated accuracy 61 %/);
  await page.click('#evaluation-summary td[data-key^="colour_shape"]');
  assert.equal(await page.locator('#confusion .selfcheck').count(), 0);
  assert.deepEqual(outside, []);
  assert.deepEqual(consoleErrors, []);
  await page.close();
});

// ---- synthetic finished work, written as the engine would leave it ---------------------------------

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Scores of one domain from a confusion built from per-class support and recall. */
function domainScores(role: string, support: number[], recall: number[]) {
  const n = CLASSES.length;
  const matrix = CLASSES.map((_, i) => {
    const row = new Array(n).fill(0);
    row[i] = Math.round(support[i]! * recall[i]!);
    const rest = support[i]! - row[i];
    row[(i + 1) % n] += Math.ceil(rest * 0.7);
    row[(i + n - 1) % n] += rest - Math.ceil(rest * 0.7);
    return row;
  });
  const total = support.reduce((a, b) => a + b, 0);
  const per_class: Record<string, { precision: number; recall: number; f1: number; support: number }> = {};
  CLASSES.forEach((c, i) => {
    const col = matrix.reduce((a, r) => a + r[i], 0);
    const precision = col ? matrix[i]![i] / col : 0;
    const rec = matrix[i]![i] / support[i]!;
    per_class[c] = { precision, recall: rec, f1: precision + rec ? (2 * precision * rec) / (precision + rec) : 0, support: support[i]! };
  });
  const f1s = Object.values(per_class).map((m) => m.f1);
  return {
    role, n: total,
    accuracy: matrix.reduce((a, r, i) => a + r[i], 0) / total,
    balanced_accuracy: Object.values(per_class).reduce((a, m) => a + m.recall, 0) / n,
    macro_f1: f1s.reduce((a, b) => a + b, 0) / n, macro_f1_classes: CLASSES, excluded_classes: [],
    per_class, confusion: { labels: CLASSES, matrix },
  };
}

/** A finished analyze job over ten imported images: one cell each, eight with a mask, one flagged. */
async function seedFinishedAnalysis(stack: Stack, datasetId: string): Promise<string> {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    const imgs = await client.query(`SELECT id, width, height, cell_type FROM images WHERE dataset_id = $1 ORDER BY source_path LIMIT 10`, [datasetId]);
    assert.equal(imgs.rows.length, 10, 'the import test left images');
    const job = await client.query(
      `INSERT INTO jobs (kind, status, progress, done, total, message, params, result, attempts, created_at, started_at, finished_at)
       VALUES ('analyze', 'succeeded', 1, 10, 10, '10 cells (detect → encode → classify)', $1, $2, 1, now() - interval '2 minutes', now() - interval '2 minutes', now() - interval '1 minute') RETURNING id`,
      [{ datasetId }, { cells: 10, stages: ['detect', 'encode', 'classify'] }],
    );
    const jobId: string = job.rows[0].id;
    for (const [k, im] of imgs.rows.entries()) {
      const [w, hgt] = [im.width as number, im.height as number];
      const [cx, cy, r] = [w / 2 + ((k % 3) - 1) * 6, hgt / 2 + ((k % 2) - 0.5) * 8, 62 + (k % 4) * 6];
      const data = new Uint8Array(w * hgt);
      for (let y = 0; y < hgt; y++) for (let x = 0; x < w; x++) if ((x - cx) ** 2 / (r * 1.08) ** 2 + (y - cy) ** 2 / r ** 2 <= 1) data[y * w + x] = 1;
      const mask = k % 5 === 4 ? null : rleEncode({ width: w, height: hgt, data });
      const label = String(im.cell_type).startsWith('neutrophil') ? 'neutrophil' : String(im.cell_type);
      const p = 0.62 + ((k * 37) % 33) / 100;
      const probabilities = Object.fromEntries(CLASSES.map((c) => [c, c === label ? p : (1 - p) / (CLASSES.length - 1)]));
      const prediction = k === 6
        ? { label: null, flagged: true, reason: 'top probability 0.31 is under 0.4', probabilities: Object.fromEntries(CLASSES.map((c, i) => [c, [0.31, 0.27, 0.18, 0.14, 0.1][i]])), modelId: jobId }
        : { label, flagged: false, reason: null, probabilities, modelId: jobId };
      await client.query(
        `INSERT INTO cells (image_id, index, box, score, mask, prediction, job_id) VALUES ($1, 0, $2, $3, $4, $5, $6)`,
        [im.id, [cx - r * 1.08, cy - r, cx + r * 1.08, cy + r], 0.9 + (k % 10) / 100, mask, prediction, jobId],
      );
    }
    return jobId;
  } finally {
    await client.end();
  }
}

async function seedFinishedWork(stack: Stack): Promise<{ trainJobId: string }> {
  const client = new pg.Client({ connectionString: stack.databaseUrl });
  await client.connect();
  try {
    // Three labs of encoded cells: latents cluster by class, each lab shifted a little.
    const rand = rng(7);
    const centre = CLASSES.map(() => Array.from({ length: 50 }, () => (rand() - 0.5) * 1.2));
    const labs = ['lab A', 'lab B', 'lab C'];
    const labIds: string[] = [];
    const files = CLASSES.flatMap((c) => readdirSync(join(FIXTURES, 'acevedo20', c)).map((f) => ({ c, path: join(FIXTURES, 'acevedo20', c, f) })));
    for (const [li, lab] of labs.entries()) {
      const shift = Array.from({ length: 50 }, () => (rand() - 0.5) * 0.5);
      const ds = await client.query(`INSERT INTO datasets (name, description) VALUES ($1, 'synthetic latents (dashboard test)') RETURNING id`, [lab]);
      labIds.push(ds.rows[0].id);
      for (let i = 0; i < 120; i++) {
        const f = files[i % files.length]!;
        const k = CLASSES.indexOf(f.c);
        const img = await client.query(
          `INSERT INTO images (dataset_id, source_path, storage_path, sha256, width, height, format, bytes, raw_label, cell_type)
           VALUES ($1, $2, $3, $4, 360, 363, 'jpeg', 1, $5, $5) RETURNING id`,
          [ds.rows[0].id, `synthetic/${f.c}/${i}.jpg`, f.path, createHash('sha256').update(`${lab}-${i}`).digest('hex'), f.c],
        );
        const latent = centre[k]!.map((v, j) => Math.tanh(v + shift[j]! * (li === 0 ? 0 : 1) + (rand() - 0.5) * 0.55));
        await client.query(`INSERT INTO cells (image_id, index, box, score, latent) VALUES ($1, 0, $2, 0.98, $3)`, [img.rows[0].id, [80, 80, 280, 283], latent]);
      }
    }

    // A finished train-autoencoder job: per-epoch history in its result, reconstructions on disk.
    const epochs = 12;
    const history = Array.from({ length: epochs }, (_, e) => {
      const ssim = 0.42 * Math.exp(-(e + 1) / 3.5) + 0.11;
      const mse = 0.07 * Math.exp(-(e + 1) / 3) + 0.012;
      const align = 0.05 * Math.exp(-(e + 1) / 4.5) + 0.008;
      return { epoch: e + 1, loss: ssim + mse + 5 * align, ssim, mse, align, samplesPerSec: 176 + 6 * Math.sin(e), seconds: 41 + Math.cos(e) };
    });
    const params = { sourceDatasetId: labIds[0], alignDatasetIds: labIds.slice(1), preset: 'cpu', epochs, batchSize: 64, learningRate: 0.001, alignWeight: 5, seed: 0 };
    const train = await client.query(
      `INSERT INTO jobs (kind, status, progress, done, total, message, params, result, attempts, created_at, started_at, finished_at)
       VALUES ('train-autoencoder', 'succeeded', 1, 72, 72, 'trained 12 epochs (synthetic)', $1, $2, 1, now() - interval '12 minutes', now() - interval '11 minutes', now() - interval '3 minutes') RETURNING id`,
      [params, { modelId: null, epochs, history, sourceCells: 120, alignCells: [120, 120] }],
    );
    const trainJobId: string = train.rows[0].id;
    await writeReconstructions(join(stack.cfg.dataDir, 'jobs', trainJobId), epochs, files.filter((_, i) => i % 4 === 0).slice(0, 4).map((f) => f.path));

    // An evaluation: AE-CFE and two baselines on the source's held-out cells and two target labs.
    const support = { 'lab A': [5, 6, 8, 6, 9], 'lab B': [24, 24, 24, 24, 24], 'lab C': [24, 24, 24, 24, 24] };
    const recalls: Record<string, Record<string, number[]>> = {
      ae_cfe: { 'lab A': [0.8, 1, 1, 0.83, 1], 'lab B': [0.71, 0.83, 0.92, 0.67, 0.88], 'lab C': [0.63, 0.79, 0.88, 0.58, 0.83] },
      ae_no_align: { 'lab A': [0.8, 1, 1, 0.83, 1], 'lab B': [0.46, 0.63, 0.79, 0.42, 0.71], 'lab C': [0.38, 0.54, 0.75, 0.33, 0.67] },
      colour_shape: { 'lab A': [0.6, 0.83, 0.88, 0.67, 0.89], 'lab B': [0.33, 0.5, 0.71, 0.29, 0.58], 'lab C': [0.25, 0.42, 0.63, 0.25, 0.5] },
      morphology_default: { 'lab A': [1, 1, 1, 0.83, 1], 'lab B': [0.92, 0.88, 0.79, 0.75, 0.83], 'lab C': [0.42, 0.33, 0.5, 0.25, 0.38] },
    };
    const domainsOf = (m: string) => ({
      'lab A': domainScores('source-test', support['lab A'], recalls[m]!['lab A']!),
      'lab B': domainScores('target', support['lab B'], recalls[m]!['lab B']!),
      'lab C': domainScores('target', support['lab C'], recalls[m]!['lab C']!),
    });
    // The latent sample: labs apart without alignment, together with it; classes apart in both.
    const embeddingOf = (aligned: boolean) => {
      const r = rng(aligned ? 11 : 12);
      const e = { domain: [] as string[], label: [] as string[], z: [] as number[][] };
      ['lab A', 'lab B', 'lab C'].forEach((lab, li) => {
        for (let i = 0; i < 40; i++) {
          const c = i % CLASSES.length;
          e.domain.push(lab);
          e.label.push(CLASSES[c]!);
          e.z.push(Array.from({ length: 8 }, (_, d) => (d === c ? 2 : 0) + (aligned ? 0 : d === 5 ? 3 * li : 0) + (r() - 0.5) * 0.6));
        }
      });
      return e;
    };
    const aeRun = (alignWeight: number) => ({
      alignWeight, alignDomains: alignWeight ? ['lab B', 'lab C'] : [], steps: 72, backend: 'wasm', device: 'cpu', parameterCount: 1_234_567,
      epochs: history.map((e) => ({ ...e, align: alignWeight ? e.align : e.align * 2.4 + 0.01, loss: alignWeight ? e.loss : e.ssim + e.mse })),
      embedding: embeddingOf(alignWeight > 0),
    });
    // The classify job's path keeps each lab's self-check: lab C's failed, as a job over it would have said.
    const checked = domainsOf('morphology_default');
    const selfCheck = (status: string, warning: string | null) => ({ status, cells: 120, verdicts: [], skipped: [], warning });
    const defaultDomains = {
      'lab A': { ...checked['lab A'], selfCheck: selfCheck('passed', null) },
      'lab B': { ...checked['lab B'], selfCheck: selfCheck('passed', null) },
      'lab C': { ...checked['lab C'], selfCheck: selfCheck('failed', 'SELF-CHECK FAILED: estimated accuracy 61 % (under 84 % fails)') },
    };
    const report = {
      format: 'leukograph-evaluation/1', created: new Date().toISOString(), source: 'lab A', targets: ['lab B', 'lab C'], align: ['lab B', 'lab C'], classes: CLASSES,
      settings: { preset: 'cpu', imageSize: 64, epochs, batchSize: 64, learningRate: 0.001, alignWeight: 5, seed: 0, trees: 100, maxDepth: 16, testFraction: 0.2, minSupport: 5, methods: ['ae_cfe', 'ae_no_align', 'colour_shape', 'morphology_default'] },
      datasets: {},
      domains: domainsOf('ae_cfe'),
      baselines: { ae_no_align: { description: 'without alignment', domains: domainsOf('ae_no_align') }, colour_shape: { description: 'colour and shape', domains: domainsOf('colour_shape') }, morphology_default: { description: 'the classify job', domains: defaultDomains } },
      methods: {}, autoencoders: { ae_cfe: aeRun(5), ae_no_align: aeRun(0) }, timings: {}, notes: ['synthetic report written by test/dashboard.test.ts'],
    };
    await client.query(`INSERT INTO evaluations (name, report) VALUES ('synthetic evaluation (dashboard test)', $1)`, [report]);
    return { trainJobId };
  } finally {
    await client.end();
  }
}

/** Input/reconstruction pairs as the training job writes them (inputs on top), blurrier early on. */
async function writeReconstructions(dir: string, epochs: number, paths: string[], from = 1): Promise<void> {
  await mkdir(dir, { recursive: true });
  const size = 64;
  const inputs = await Promise.all(paths.map((p) => cropResize(readFileSync(p), [60, 60, 300, 303], size)));
  const W = size * inputs.length;
  for (let epoch = from; epoch <= epochs; epoch++) {
    const out = new Uint8Array(W * 2 * size * 3);
    const radius = Math.max(1, Math.round(6 - epoch * 0.42));
    inputs.forEach((img, k) => {
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          for (let c = 0; c < 3; c++) {
            out[(y * W + k * size + x) * 3 + c] = img[(y * size + x) * 3 + c]!;
            let sum = 0;
            let cnt = 0;
            for (let dy = -radius; dy <= radius; dy++) {
              for (let dx = -radius; dx <= radius; dx++) {
                const yy = Math.min(size - 1, Math.max(0, y + dy));
                const xx = Math.min(size - 1, Math.max(0, x + dx));
                sum += img[(yy * size + xx) * 3 + c]!;
                cnt++;
              }
            }
            out[((y + size) * W + k * size + x) * 3 + c] = Math.round(sum / cnt);
          }
        }
      }
    });
    await writeFile(join(dir, `reconstructions-epoch-${epoch}.png`), await encodePng(out, W, 2 * size, 3));
  }
}

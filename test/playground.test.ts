// The playground in headless Chromium (Debian's, driven by playwright-core): it renders, every request
// it makes stays on this machine, and a subscription runs over graphql-ws from the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { startStack, REPO, type Stack } from './helpers/stack.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// CI installs Chromium (.ci/run); elsewhere the test says why it cannot run instead of failing.
const skip = !existsSync(CHROMIUM) && !process.env.CI ? `no Chromium at ${CHROMIUM} (apt-get install chromium)` : false;

let s: Stack;
let browser: Browser;

before(async () => {
  if (skip) return;
  s = await startStack({ engine: false });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => {
  await browser?.close();
  await s?.close();
});

test('the playground loads offline and runs a subscription over graphql-ws', { skip }, async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const requests: string[] = [];
  const consoleErrors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  await page.route('**/*', (route) => {
    const u = new URL(route.request().url());
    requests.push(u.toString());
    return u.hostname === '127.0.0.1' ? route.continue() : route.abort();
  });
  await page.goto(s.url, { waitUntil: 'networkidle' });
  await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
  await page.waitForSelector('.graphiql-query-editor', { timeout: 30_000 });
  const outside = requests.filter((r) => new URL(r).hostname !== '127.0.0.1');
  assert.deepEqual(outside, [], 'no request leaves the machine');
  assert.ok(requests.some((r) => r.includes('/graphql-assets/graphiql/graphiql.min.js')));

  // A job to watch: queued with no engine running, then cancelled, so its stream shows the change.
  const d = await s.ok(`mutation { createDataset(input: { name: "pg" }) { id } }`);
  const job = await s.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId: d.createDataset.id, path: 'zheng-ds2' } });
  const jobId = job.importDataset.id;
  const events = page.evaluate(async ({ url, jobId }) => {
    const { createClient } = await import('/graphql-assets/graphql-ws/client.js' as string);
    const client = createClient({ url });
    const out: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      client.subscribe({ query: `subscription { jobProgress(jobId: "${jobId}") { status } }` }, {
        next: (v: { data: { jobProgress: { status: string } } }) => out.push(v.data.jobProgress.status),
        error: reject,
        complete: resolve,
      });
    });
    return out;
  }, { url: s.url.replace('http', 'ws'), jobId });
  await new Promise((r) => setTimeout(r, 500));
  await s.ok(`mutation($id: ID!) { cancelJob(id: $id) { id } }`, { id: jobId });
  assert.deepEqual(await events, ['QUEUED', 'CANCELLED']);

  // Run the default query from the editor, as a person would.
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(() => document.querySelector('.result-window')?.textContent?.includes('"__typename": "Query"'), null, { timeout: 20_000 });
  mkdirSync(join(REPO, 'docs'), { recursive: true });
  await page.screenshot({ path: join(REPO, 'docs/playground.png') });
  assert.deepEqual(consoleErrors.filter((e) => !/favicon/.test(e)), []);
});

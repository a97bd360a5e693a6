// The dashboard and the playground on a server with tokens, in headless Chromium: each asks for the token
// once, keeps it in the browser, sends it as a header or in connectionParams (never in a URL) and shows
// images fetched with it; a refused token is asked for again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startStack, waitFor, type Stack } from './helpers/stack.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) && !process.env.CI ? `no Chromium at ${CHROMIUM} (apt-get install chromium)` : false;
const RW = 'rw-dashboard-token-0123456789';
const RO = 'ro-dashboard-token-0123456789';

let s: Stack;
let browser: Browser;
let base: string;
let jobId: string;

before(async () => {
  if (skip) return;
  [s, browser] = await Promise.all([
    startStack({ token: RW, engine: false, env: { readToken: RO } }),
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] }),
  ]);
  base = s.url.replace(/\/graphql$/, '');
  // Queued with no engine yet, so the page subscribes before the first image arrives.
  const d = await s.ok(`mutation { createDataset(input: { name: "watched" }) { id } }`);
  jobId = (await s.ok(`mutation($i: ImportDatasetInput!) { importDataset(input: $i) { id } }`, { i: { datasetId: d.createDataset.id, path: 'acevedo20', maxPerClass: 1 } })).importDataset.id;
});
after(async () => {
  await browser?.close();
  await s?.close();
});

async function watchedPage(): Promise<{ page: Page; urls: string[]; wsParams: string[] }> {
  const page = await browser.newPage();
  const urls: string[] = [];
  const wsParams: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  page.on('websocket', (ws) => ws.on('framesent', (f) => wsParams.push(String(f.payload))));
  return { page, urls, wsParams };
}

async function enterToken(page: Page, token: string): Promise<void> {
  await page.waitForSelector('#token-dialog[open]', { timeout: 20_000 });
  await page.fill('#token-dialog input[name="token"]', token);
  await page.click('#token-dialog button[type="submit"]');
}

test('the dashboard asks for the token, then follows a job live with images fetched into blob: URLs', { skip }, async () => {
  const { page, urls, wsParams } = await watchedPage();
  await page.goto(`${base}/dashboard?job=${jobId}`);
  await enterToken(page, RO);
  await page.waitForSelector(`#stream-panel[data-subscribed="${jobId}"]`, { timeout: 20_000 });
  await page.waitForSelector('#connection.live', { timeout: 20_000 });
  await s.startEngine();
  await page.waitForSelector('#stream-panel[data-status="SUCCEEDED"]', { timeout: 30_000 });
  await page.waitForFunction(() => {
    const imgs = [...document.querySelectorAll('#stream .item.image img')] as HTMLImageElement[];
    return imgs.length === 5 && imgs.every((i) => i.naturalWidth > 0);
  }, null, { timeout: 30_000 });
  const srcs = await page.$$eval('#stream .item.image img', (els) => els.map((e) => (e as HTMLImageElement).src));
  assert.ok(srcs.every((u) => u.startsWith('blob:')), 'images come from blob: URLs');
  assert.ok(wsParams.some((p) => p.includes('connection_init') && p.includes(RO)), 'the socket sends the token in connectionParams');
  assert.ok(urls.every((u) => !u.includes(RO) && !u.includes(encodeURIComponent(RO))), 'the token is in no URL');
  assert.equal(await page.evaluate(() => localStorage.getItem('leukograph:token')), RO);
  // A reload keeps the token: no second question.
  await page.reload();
  await page.waitForSelector('#stream-panel[data-status="SUCCEEDED"]', { timeout: 30_000 });
  assert.equal(await page.$('#token-dialog'), null);
  // A token the server refuses is asked for again.
  await page.evaluate(() => localStorage.setItem('leukograph:token', 'stale'));
  await page.reload();
  await page.waitForSelector('#token-dialog[open]');
  assert.match((await page.textContent('#token-dialog')) ?? '', /refused the token/);
  await enterToken(page, RO);
  await page.waitForSelector('#stream-panel[data-status="SUCCEEDED"]', { timeout: 30_000 });
  await page.close();
});

test('the playground asks for the token and runs queries and subscriptions with it', { skip }, async () => {
  const { page, urls } = await watchedPage();
  await page.goto(s.url);
  await enterToken(page, RO);
  await page.waitForSelector('.graphiql-query-editor', { timeout: 30_000 });
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(() => document.querySelector('.result-window')?.textContent?.includes('"__typename": "Query"'), null, { timeout: 20_000 });
  const status = await page.evaluate(async (id) => {
    const { createClient } = await import('/graphql-assets/graphql-ws/client.js' as string);
    const { connectionParams } = await import('/dashboard/js/auth.js' as string);
    const client = createClient({ url: location.origin.replace('http', 'ws') + '/graphql', connectionParams });
    return new Promise<string>((resolve, reject) =>
      client.subscribe({ query: `subscription { jobProgress(jobId: "${id}") { status } }` }, { next: (v: any) => resolve(v.data.jobProgress.status), error: reject, complete: () => undefined }),
    );
  }, jobId);
  assert.equal(status, 'SUCCEEDED');
  assert.ok(urls.every((u) => !u.includes(RO)), 'the token is in no URL');
  await page.close();
});

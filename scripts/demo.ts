/**
 * Issue 6's demonstration on real images, against a server started with the README's command
 * (`leukograph serve`, embedded PostgreSQL in a fresh data directory unless DATABASE_URL is set):
 *
 *   1. with the CLI: import Acevedo-20 (N per class) and Zheng DS2, detect, train the autoencoder
 *      (aligned to Zheng DS2), train the forest on Acevedo-20, encode both labs (for the embedding);
 *   2. an evaluation job (Acevedo-20 -> Zheng DS2) through the `evaluate` mutation;
 *   3. client-sdk/examples/differential-count on a "smear" of Acevedo-20 images that were not imported,
 *      its count printed beside the count of the images' labels;
 *   4. screenshots of the dashboard after that evaluation: docs/dashboard-evaluation.png,
 *      docs/dashboard-embedding-class.png.
 *
 *   npm run build && node dist/scripts/demo.js [--data ../shared/data] [--per-class 60] [--smear 4]
 *        [--epochs 15] [--port 4100] [--docs docs] [--keep]
 *
 * Prints what it does; the last lines are the differential count against the labels.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const REPO = resolve(fileURLToPath(new URL('../../', import.meta.url)));
const { values: opt } = parseArgs({
  options: {
    data: { type: 'string', default: resolve(REPO, '../shared/data') },
    'per-class': { type: 'string', default: '60' },
    smear: { type: 'string', default: '4' },
    epochs: { type: 'string', default: '15' },
    port: { type: 'string', default: '4100' },
    docs: { type: 'string', default: join(REPO, 'docs') },
    keep: { type: 'boolean', default: false },
  },
});
const CLASSES = ['basophil', 'eosinophil', 'lymphocyte', 'monocyte', 'neutrophil'];
const URL_ = `http://127.0.0.1:${opt.port}/graphql`;
const T0 = performance.now();
const log = (m: string) => process.stderr.write(`[demo ${((performance.now() - T0) / 1000).toFixed(0).padStart(4)} s] ${m}\n`);

async function gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await fetch(URL_, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data!;
}

/** A CLI job command, followed to its end (--json); returns the job's result line. */
function cli(args: string[]): any {
  log(`leukograph ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [join(REPO, 'bin/leukograph.js'), ...args, '--url', URL_, '--json'], { encoding: 'utf8' });
  const lines = r.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const result = lines.find((l) => l.type === 'result');
  if (r.status !== 0 || !result || result.status !== 'SUCCEEDED') throw new Error(`leukograph ${args[0]} failed: ${r.stderr.trim() || JSON.stringify(result)}`);
  return result;
}

async function waitJob(id: string): Promise<any> {
  for (;;) {
    const { job } = await gql(`query($id: ID!) { job(id: $id) { status message error } }`, { id });
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(job.status)) return job;
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function main(): Promise<void> {
  const data = resolve(opt.data!);
  const perClass = Number(opt['per-class']);
  const smearPerClass = Number(opt.smear);
  const work = mkdtempSync(join(tmpdir(), 'leukograph-demo-'));
  // The training import and the smear: disjoint images of each class (sorted, the first N to training).
  const train = join(work, 'acevedo20');
  const smear = join(work, 'smear');
  const truth = new Map<string, number>();
  for (const c of CLASSES) {
    const files = readdirSync(join(data, 'acevedo20', c)).filter((f) => /\.jpe?g$/i.test(f)).sort();
    mkdirSync(join(train, c), { recursive: true });
    mkdirSync(join(smear, c), { recursive: true });
    for (const f of files.slice(0, perClass)) symlinkSync(join(data, 'acevedo20', c, f), join(train, c, f));
    for (const f of files.slice(perClass, perClass + smearPerClass)) symlinkSync(join(data, 'acevedo20', c, f), join(smear, c, f));
    truth.set(c, Math.min(smearPerClass, Math.max(0, files.length - perClass)));
  }
  const dataDir = join(work, 'server-data');
  log(`server: leukograph serve --port ${opt.port} (data ${dataDir}, ${process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded PostgreSQL'})`);
  const server: ChildProcess = spawn(process.execPath, [join(REPO, 'bin/leukograph.js'), 'serve', '--port', opt.port!, '--data-dir', dataDir, '--data-root', work, '--data-root', data], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, LEUKOGRAPH_LOG_LEVEL: 'warn' },
  });
  try {
    for (let i = 0; ; i++) {
      try {
        await gql('{ __typename }');
        break;
      } catch {
        if (i > 120) throw new Error('the server did not start');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    cli(['import', train, '--dataset', 'acevedo20', '--layout', 'class-folders']);
    cli(['import', join(data, 'zheng-ds2'), '--dataset', 'zheng-ds2', '--layout', 'labels-csv']);
    cli(['detect-dataset', '--dataset', 'acevedo20', '--top-only']);
    cli(['detect-dataset', '--dataset', 'zheng-ds2', '--top-only']);
    const trained = cli(['train', '--source', 'acevedo20', '--align', 'zheng-ds2', '--epochs', opt.epochs!]);
    cli(['train-classifier', '--dataset', 'acevedo20']);
    cli(['classify', '--dataset', 'acevedo20']);
    cli(['classify', '--dataset', 'zheng-ds2']);

    const ids = await gql(`{ datasets { id name } }`);
    const idOf = (n: string) => ids.datasets.find((d: any) => d.name === n).id as string;
    log('evaluate mutation: Acevedo-20 (80 % train / 20 % held out) -> Zheng DS2');
    const ev = await gql(`mutation($i: EvaluateInput!) { evaluate(input: $i) { id } }`, {
      i: { name: `demo: Acevedo-20 -> Zheng DS2 (${perClass} per class, ${opt.epochs} epochs)`, sourceDatasetId: idOf('acevedo20'), targetDatasetIds: [idOf('zheng-ds2')], epochs: Number(opt.epochs) },
    });
    const evJob = await waitJob(ev.evaluate.id);
    if (evJob.status !== 'SUCCEEDED') throw new Error(`evaluation ${evJob.status}: ${evJob.error}`);
    log(`evaluation: ${evJob.message}`);

    // The dashboard after that evaluation.
    const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      await page.goto(`${URL_.replace(/\/graphql$/, '')}/dashboard?job=${trained.jobId}`);
      await page.waitForSelector('#loss-charts svg path.series', { timeout: 60_000 });
      await page.waitForSelector('#confusion rect.cell', { timeout: 60_000 });
      await page.waitForFunction(() => Number(document.getElementById('embedding')?.dataset.points) > 0, null, { timeout: 60_000 });
      mkdirSync(opt.docs!, { recursive: true });
      await page.screenshot({ path: join(opt.docs!, 'dashboard-evaluation.png'), fullPage: true, animations: 'disabled' });
      await page.check('input[name="colour"][value="class"]');
      await page.waitForSelector('#embedding[data-colour-by="class"]');
      await page.locator('#embedding').screenshot({ path: join(opt.docs!, 'dashboard-embedding-class.png'), animations: 'disabled' });
      log(`screenshots: ${join(opt.docs!, 'dashboard-evaluation.png')}, dashboard-embedding-class.png`);
    } finally {
      await browser.close();
    }

    // The SDK example on the smear, then its count beside the labels'.
    log(`differential-count on ${[...truth.values()].reduce((a, b) => a + b, 0)} held-out Acevedo-20 images`);
    const ex = spawnSync(process.execPath, [join(REPO, 'client-sdk/dist/examples/differential-count.js'), '--url', URL_, '--dataset', 'smear', smear], { encoding: 'utf8' });
    process.stdout.write(ex.stdout);
    if (ex.status !== 0) throw new Error(`differential-count failed: ${ex.stderr}`);
    const counted = new Map<string, number>();
    for (const line of ex.stdout.split('\n')) {
      const m = /^\s*(basophil|eosinophil|lymphocyte|monocyte|neutrophil)\s+(\d+)/.exec(line);
      if (m) counted.set(m[1]!, Number(m[2]));
    }
    const rows = CLASSES.map((c) => `${c.padEnd(11)} ${String(counted.get(c) ?? 0).padStart(7)} ${String(truth.get(c)).padStart(7)}`);
    process.stdout.write(['', 'class        counted  labels', ...rows].join('\n') + '\n');
    writeFileSync(join(work, 'demo-summary.json'), JSON.stringify({ counted: Object.fromEntries(counted), labels: Object.fromEntries(truth) }, null, 1));
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    if (!opt.keep) rmSync(work, { recursive: true, force: true });
    else log(`kept ${work}`);
  }
}

await main();

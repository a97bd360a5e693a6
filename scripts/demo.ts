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
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
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
  if (r.status !== 0 || !result || String(result.status).toUpperCase() !== 'SUCCEEDED') throw new Error(`leukograph ${args[0]} failed: ${r.stderr.trim() || JSON.stringify(result)}`);
  return result;
}

async function waitJob(id: string): Promise<any> {
  for (;;) {
    const { job } = await gql(`query($id: ID!) { job(id: $id) { status message error result } }`, { id });
    if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(String(job.status).toUpperCase())) return { ...job, status: String(job.status).toUpperCase() };
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function main(): Promise<void> {
  const data = resolve(opt.data!);
  const perClass = Number(opt['per-class']);
  const smearPerClass = Number(opt.smear);
  const work = mkdtempSync(join(tmpdir(), 'leukograph-demo-'));
  // Run as root, the embedded PostgreSQL runs as the `postgres` user, which must reach the data dir.
  chmodSync(work, 0o755);
  // The training import and the smear: disjoint images of each class (sorted, the first N to training),
  // copied (the importer does not follow links out of its folder).
  const train = join(work, 'acevedo20');
  const smear = join(work, 'smear');
  const truth = new Map<string, number>();
  for (const c of CLASSES) {
    const files = readdirSync(join(data, 'acevedo20', c)).filter((f) => /\.jpe?g$/i.test(f)).sort();
    mkdirSync(join(train, c), { recursive: true });
    mkdirSync(join(smear, c), { recursive: true });
    for (const f of files.slice(0, perClass)) copyFileSync(join(data, 'acevedo20', c, f), join(train, c, f));
    for (const f of files.slice(perClass, perClass + smearPerClass)) copyFileSync(join(data, 'acevedo20', c, f), join(smear, c, f));
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
    cli(['analyze', '--dataset', 'acevedo20']); // the forest trains on encoded cells: encode first (no classifier yet)
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
    // Per image (the example prints "<file> #<index>: <verdict>" when not on a terminal): the top cell's
    // verdict against the image's folder.
    const classOfFile = new Map<string, string>();
    for (const c of CLASSES) for (const f of readdirSync(join(smear, c))) classOfFile.set(f, c);
    let right = 0;
    let judged = 0;
    for (const line of ex.stdout.split('\n')) {
      const m = /^(\S+) #0: (\S+)/.exec(line);
      if (!m || !classOfFile.has(m[1]!)) continue;
      judged++;
      if (m[2] === classOfFile.get(m[1]!)) right++;
    }
    const rows = CLASSES.map((c) => `| ${c} | ${counted.get(c) ?? 0} | ${truth.get(c)} |`);
    process.stdout.write(['', '| class | counted | labels |', '| --- | ---: | ---: |', ...rows, '', `top cell of each image = its label: ${right} of ${judged}`].join('\n') + '\n');

    // docs/demo.md: what ran, on what, and what came out.
    const { evaluation } = await gql(`query($id: ID!) { evaluation(id: $id) { report } }`, { id: evJob.result.evaluationId });
    const r = evaluation.report;
    const methods: Array<[string, Record<string, any>]> = [['ae_cfe', r.domains], ...Object.entries(r.baselines ?? {}).map(([k, v]: [string, any]) => [k, v.domains] as [string, Record<string, any>])];
    const doms = Object.keys(r.domains ?? {});
    const pct = (v: unknown) => (typeof v === 'number' ? `${(v * 100).toFixed(1)} %` : '—');
    const md = [
      '# A whole run on real images (`scripts/demo.ts`)', '',
      `Date ${new Date().toISOString()}; machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, Node.js ${process.version}; wall time ${((performance.now() - T0) / 1000).toFixed(0)} s.`,
      `Command: \`npm run build && node dist/scripts/demo.js --per-class ${perClass} --smear ${smearPerClass} --epochs ${opt.epochs}\`.`, '',
      `A server started as the README says (\`leukograph serve\`, embedded PostgreSQL, fresh data directory), driven by the CLI: Acevedo-20 (${perClass} images per class of ${CLASSES.join(', ')}, the first in file order) and Zheng DS2 (100 images) imported, the top cell of each image detected, the \`cpu\` autoencoder trained ${opt.epochs} epochs on Acevedo-20 aligned to Zheng DS2, the forest trained on Acevedo-20; then an \`evaluate\` job and the dashboard:`, '',
      '![dashboard after the evaluation](dashboard-evaluation.png)', '',
      '## The evaluation job (accuracy)', '',
      `| method | ${doms.join(' | ')} |`, `| --- | ${doms.map(() => '---:').join(' | ')} |`,
      ...methods.map(([m, d]) => `| ${m} | ${doms.map((k) => pct(d?.[k]?.accuracy)).join(' | ')} |`), '',
      `(${doms.map((k) => `${k}: ${r.domains[k]?.n} cells`).join(', ')}; the source is scored on its held-out 20 %. Small: a demonstration; the full evaluation is docs/results.md.)`, '',
      '## The SDK example on images the server never saw', '',
      `\`client-sdk/examples/differential-count\` sent ${judged} Acevedo-20 images (${smearPerClass} per class, the next in file order after the imported ones) and printed the count as the cells streamed in:`, '',
      '```', ex.stdout.trim(), '```', '',
      'Its count beside the images\' labels (cells flagged as unlike the training data are counted apart by the example and not in this table):', '',
      '| class | counted | labels |', '| --- | ---: | ---: |', ...rows, '',
      `The first cell of each image carries that image's label in ${right} of ${judged} images.`, '',
    ].join('\n');
    mkdirSync(opt.docs!, { recursive: true });
    writeFileSync(join(opt.docs!, 'demo.md'), md);
    log(`wrote ${join(opt.docs!, 'demo.md')}`);
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    if (!opt.keep) rmSync(work, { recursive: true, force: true });
    else log(`kept ${work}`);
  }
}

await main();

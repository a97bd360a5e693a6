/**
 * The fault and load suite of issue 19, against `leukograph serve` as users run it: kill -9 of the engine
 * mid-detect, mid-training and three times in a row; PostgreSQL stopped and started again while idle and
 * mid-job (serve's embedded server, and a server cluster of the system's binaries); 50 subscribers + 20
 * query clients + a running analyze job; the audit's bad inputs. Per scenario: requests, errors,
 * p50/p95/p99 of the query clients, rows lost or duplicated (against a clean run on the same images),
 * events missed (a subscriber's cells against the job's rows), recovery time. Writes
 * bench/load/RESULTS.md and bench/load/results.json. Figures, not pass/fail: no timed tests.
 *
 *   npm run load                     everything (about 20 minutes on 2 cores)
 *   npm run load -- --quick          fewer images, 20 s of load
 *   npm run load -- --only kill,pg,load,bad,train   --databases embedded,server   --seconds 60   --images 40
 */
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { execSync } from 'node:child_process';
import { join } from 'node:path';
import { Target, workDir } from './target.js';
import { embeddedControl, serverControl, type PgControl } from './pg-control.js';
import { importImages, killMidDetect, killMidTraining, killThreeTimes, loadWithAnalyze, pgRestartIdle, pgRestartMidJob, referenceRun, type Ctx } from './scenarios.js';
import { badInputs } from './bad-inputs.js';
import type { ResultRow } from './measure.js';
import { benchArgs } from '../lib/args.js';
import { REPO } from '../lib/server.js';

const a = benchArgs('npm run load --', {
  quick: { type: 'boolean' }, only: { type: 'string' }, databases: { type: 'string' }, seconds: { type: 'string' }, images: { type: 'string' }, 'analyze-images': { type: 'string' }, 'down-ms': { type: 'string' }, 'out-dir': { type: 'string' },
});
const arg = a.str;
const num = a.num;
const quick = a.flag('quick');
const only = new Set((arg('only') ?? 'bad,pg,kill,train,load').split(','));
const databases = (arg('databases') ?? 'embedded,server').split(',');
const seconds = num('seconds', quick ? 20 : 60);
const detectImages = num('images', quick ? 16 : 40);
const analyzeImages = num('analyze-images', quick ? 60 : 240);
const downMs = num('down-ms', 5000);
const outDir = arg('out-dir') ?? join(REPO, 'bench/load');
const SHARED = '/work/shared/data/acevedo20';

const log = (m: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);

/**
 * `n` images in class folders: Acevedo-20's where the shared data is there, else copies of the committed
 * fixtures (the same work for the detector, distinct rows for the database).
 */
function makeImages(root: string, name: string, n: number): string {
  const dir = join(root, name);
  const src = existsSync(SHARED) ? SHARED : join(REPO, 'test/fixtures/acevedo20');
  const classes = readdirSync(src).filter((c) => !c.includes('.') && readdirSync(join(src, c)).length > 0).sort();
  const files = classes.map((c) => readdirSync(join(src, c)).filter((f) => /\.(jpe?g|png|tiff?|bmp)$/i.test(f)).sort());
  for (let i = 0; i < n; i++) {
    const k = i % classes.length;
    const list = files[k]!;
    const f = list[Math.floor(i / classes.length) % list.length]!;
    mkdirSync(join(dir, classes[k]!), { recursive: true });
    cpSync(join(src, classes[k]!, f), join(dir, classes[k]!, `${i}-${f}`));
  }
  return name;
}

function badInputData(root: string): void {
  const fixtures = join(REPO, 'test/fixtures/acevedo20');
  const cls = readdirSync(fixtures).filter((c) => !c.includes('.'))[0]!;
  cpSync(join(fixtures, cls), join(root, 'bad-inputs', 'no-csv', cls), { recursive: true });
  const csv = join(root, 'bad-inputs', 'csv-missing');
  cpSync(join(fixtures, cls), csv, { recursive: true });
  writeFileSync(join(csv, 'labels.csv'), `path,class\n${readdirSync(csv)[0]},${cls}\nmissing.jpg,${cls}\n`);
}

async function embeddedUrl(t: Target): Promise<string> {
  const { readFileSync } = await import('node:fs');
  return `postgres://leukograph:leukograph@127.0.0.1:${readFileSync(join(t.dataDir, 'pg.port'), 'utf8').trim()}/leukograph`;
}

async function runOn(kind: string, work: string, dataRoot: string, paths: { detect: string; analyze: string }, rows: ResultRow[], badLines: string[], reference: { counts: Ctx['reference'] | null }): Promise<void> {
  let pg: PgControl | null = null;
  let t: Target | null = null;
  try {
    if (kind === 'server') {
      pg = await serverControl(work);
      if (!pg) {
        log('no system PostgreSQL binaries (/usr/lib/postgresql/*/bin): server runs skipped');
        return;
      }
    }
    t = new Target({ databaseUrl: pg?.databaseUrl ?? null, dataRoots: [dataRoot], workDir: work });
    await t.start();
    if (!pg) pg = embeddedControl(t.dataDir);
    const dbUrl = pg.databaseUrl ?? (await embeddedUrl(t));
    log(`serve up on ${kind} PostgreSQL (${t.url})`);
    if (!reference.counts) {
      const ref = await referenceRun(t, dbUrl, paths.detect);
      reference.counts = ref.counts;
      log(`reference detect: ${[...ref.counts.values()].reduce((a, r) => a + r.n, 0)} cells on ${ref.counts.size} images in ${(ref.ms / 1000).toFixed(0)} s`);
    }
    const ctx: Ctx = { t, pg, dbUrl, imagesPath: paths.detect, reference: reference.counts, log };
    const step = async (name: string, fn: () => Promise<ResultRow>) => {
      log(`${kind}: ${name}`);
      try {
        const r = await fn();
        rows.push(r);
        log(`  ${JSON.stringify(r)}`);
      } catch (err) {
        log(`  failed: ${(err as Error).stack}`);
        rows.push({ scenario: name, database: pg!.kind, requests: 0, errors: 0, p50: null, p95: null, p99: null, rowsLost: null, rowsDuplicated: null, eventsMissed: null, recoveryMs: null, outcome: `the suite could not run it: ${(err as Error).message.slice(0, 300)}` });
      }
    };
    if (only.has('bad') && kind === 'embedded') {
      await step('bad inputs', async () => {
        const id = (await t!.ok(`mutation { createDataset(input: { name: "bad-inputs" }) { id } }`)).createDataset.id;
        const r = await badInputs(t!, pg!.kind, id);
        badLines.push(...r.lines);
        return r.row;
      });
    }
    if (only.has('pg')) {
      await step('PostgreSQL restart while idle', () => pgRestartIdle(ctx, downMs));
      await step('PostgreSQL restart mid-detect', () => pgRestartMidJob(ctx, downMs));
    }
    if (kind === 'embedded') {
      if (only.has('kill')) {
        await step('kill -9 mid-detect', () => killMidDetect(ctx));
        // The supervisor's back-off grows with crashes in a row; start the three kills from its first step.
        await new Promise((r) => setTimeout(r, 61_000));
        await step('kill -9 three times', () => killThreeTimes(ctx));
      }
      if (only.has('train')) {
        const source = await importImages(t, paths.detect);
        const d = (await t.ok(`mutation($i: DetectCellsInput!) { detectCells(input: $i) { id } }`, { i: { datasetId: source, topOnly: true } })).detectCells.id;
        await t.waitJob(d);
        await step('kill -9 mid-training', () => killMidTraining(ctx, source, quick ? 3 : 4));
      }
      if (only.has('load')) {
        const analyzeDataset = await importImages(t, paths.analyze);
        await step('load', () => loadWithAnalyze(ctx, analyzeDataset, { subscribers: 50, clients: 20, seconds, thinkMs: 100 }));
      }
    }
  } finally {
    await t?.stop().catch((e) => log(`stopping serve: ${e}`));
    await pg?.dispose().catch((e) => log(`stopping PostgreSQL: ${e}`));
  }
}

function table(rows: ResultRow[]): string {
  const f = (v: number | null) => (v === null ? '–' : String(v));
  const s = (v: number | null) => (v === null ? '–' : `${(v / 1000).toFixed(1)} s`);
  return [
    '| scenario | database | requests | errors | p50 ms | p95 ms | p99 ms | rows lost | rows duplicated | events missed | recovery | outcome |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${r.scenario} | ${r.database} | ${r.requests} | ${r.errors} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.p99)} | ${f(r.rowsLost)} | ${f(r.rowsDuplicated)} | ${f(r.eventsMissed)} | ${s(r.recoveryMs)} | ${r.outcome.replace(/\|/g, '\\|')} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  const work = workDir();
  const dataRoot = join(work, 'data');
  mkdirSync(dataRoot, { recursive: true });
  const paths = { detect: makeImages(dataRoot, 'detect', detectImages), analyze: makeImages(dataRoot, 'analyze', analyzeImages) };
  badInputData(dataRoot);
  const started = new Date();
  const loadBefore = loadavg();
  log(`work dir ${work}; load average ${loadBefore.map((x) => x.toFixed(2)).join(' ')}`);
  const rows: ResultRow[] = [];
  const badLines: string[] = [];
  const reference = { counts: null as Ctx['reference'] | null };
  for (const kind of databases) await runOn(kind, work, dataRoot, paths, rows, badLines, reference);
  const loadAfter = loadavg();
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse --short HEAD', { cwd: REPO, encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  const command = `npm run load${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const md = `# Fault and load suite (issue 19)

\`${command}\` at ${commit}, ${started.toISOString()}, ${cpus().length} × ${cpu}; load average (1/5/15 min) ${loadBefore.map((x) => x.toFixed(2)).join(' / ')} before, ${loadAfter.map((x) => x.toFixed(2)).join(' / ')} after (other work on the machine disturbs the latencies: compare runs only at a similar load).

Images: ${existsSync(SHARED) ? 'Acevedo-20 (shared data)' : 'copies of the committed fixtures'}; ${detectImages} for the detect scenarios, ${analyzeImages} for the analyze job. Requests and latencies are those of the query clients running during each scenario (2 during faults, ${'20'} under load, ${100} ms between a response and the next request); errors during a database outage are expected and counted. Rows lost or duplicated: cells per image against a clean detect run on the same images. Events missed: cells in the job's rows that a subscriber never received (summed over subscribers). Recovery: from the end of the fault (PostgreSQL started again, the engine killed) to the next cell event of the job (for the idle restart: to /healthz answering 200; for training: to the next epoch's progress).

${table(rows)}

## Bad inputs

| input | HTTP status | code | message | ms |
| --- | --- | --- | --- | --- |
${badLines.join('\n')}
`;
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'RESULTS.md'), md);
  writeFileSync(join(outDir, 'results.json'), JSON.stringify({ command, commit, started, loadBefore, loadAfter, cpu, cpus: cpus().length, rows }, null, 2) + '\n');
  log(`wrote ${join(outDir, 'RESULTS.md')}`);
}

main().catch((err) => {
  log(`suite failed: ${(err as Error).stack}`);
  process.exit(1);
});

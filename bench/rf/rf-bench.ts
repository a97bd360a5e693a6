// Random forest fit/predict time against scikit-learn on the same machine and data (issue 5's goal:
// fit on 10k x 50 latents <= 1.0x scikit-learn). Our forest is single-threaded, so the fair
// comparison is scikit-learn with n_jobs=1; n_jobs=2 is reported alongside.
//
// Usage: node dist/bench/rf/rf-bench.js [--runs 3] [--rows 10000] [--test-rows 2000] [--cols 50]
//        [--classes 5] [--trees 100] [--max-depth 16] [--seed 0] [--python /usr/bin/python3] [--out result.json]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fitRandomForest, predict, type RandomForest } from '../../src/engine/classifier/random-forest.js';
import { gaussianClusters } from '../../src/engine/classifier/synthetic-data.js';
import type { FeatureMatrix } from '../../src/engine/classifier/feature-matrix.js';

interface Args {
  runs: number;
  rows: number;
  testRows: number;
  cols: number;
  classes: number;
  trees: number;
  maxDepth: number;
  seed: number;
  python: string;
  out: string | null;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    ...{ runs: 3, rows: 10_000, testRows: 2_000, cols: 50, classes: 5, trees: 100, maxDepth: 16, seed: 0 },
    ...{ python: '/usr/bin/python3', out: null },
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
    const value = argv[i + 1];
    if (!(key in a) || value === undefined) throw new Error(`rf-bench: unknown or incomplete option ${argv[i]}`);
    (a as unknown as Record<string, unknown>)[key] = key === 'python' || key === 'out' ? value : Number(value);
  }
  return a;
}

/** A .npy file (format 1.0, C order) that numpy.load reads. */
function npy(data: Float32Array | Int32Array, shape: number[]): Buffer {
  const descr = data instanceof Float32Array ? '<f4' : '<i4';
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface SklearnResult {
  fit_s: number;
  fit_cpu_s: number;
  predict_s: number;
  fit_runs_s: number[];
  accuracy: number;
  n_jobs: number;
  sklearn_version: string;
}

function runSklearn(a: Args, dir: string, nJobs: number): SklearnResult {
  const script = fileURLToPath(new URL('../../../bench/reference/rf_sklearn.py', import.meta.url));
  if (!existsSync(script)) throw new Error(`rf-bench: ${script} not found (run the compiled bench from dist/bench/rf)`);
  const r = spawnSync(
    a.python,
    [
      script,
      ...['--x-train', join(dir, 'x_train.npy'), '--y-train', join(dir, 'y_train.npy')],
      ...['--x-test', join(dir, 'x_test.npy'), '--y-test', join(dir, 'y_test.npy')],
      ...['--trees', String(a.trees), '--max-depth', String(a.maxDepth), '--n-jobs', String(nJobs)],
      ...['--runs', String(a.runs), '--seed', String(a.seed)],
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`rf-bench: scikit-learn reference failed (${r.status}): ${r.stderr || r.error?.message}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]) as SklearnResult;
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  const loadAtStart = loadavg();
  // Gaussian class clusters with overlap: centres ~ N(0, 0.35^2) per feature, unit noise.
  const all = gaussianClusters({ rows: a.rows + a.testRows, cols: a.cols, classes: a.classes, separation: 0.35, seed: a.seed + 1 });
  const cut = a.rows * a.cols;
  const xTrain: FeatureMatrix = { data: all.x.data.subarray(0, cut), rows: a.rows, cols: a.cols };
  const xTest: FeatureMatrix = { data: all.x.data.subarray(cut), rows: a.testRows, cols: a.cols };
  const yTrain = all.y.subarray(0, a.rows);
  const yTest = all.y.subarray(a.rows);

  const dir = mkdtempSync(join(tmpdir(), 'rf-bench-'));
  try {
    writeFileSync(join(dir, 'x_train.npy'), npy(xTrain.data as Float32Array, [a.rows, a.cols]));
    writeFileSync(join(dir, 'y_train.npy'), npy(yTrain, [a.rows]));
    writeFileSync(join(dir, 'x_test.npy'), npy(xTest.data as Float32Array, [a.testRows, a.cols]));
    writeFileSync(join(dir, 'y_test.npy'), npy(yTest, [a.testRows]));

    const fitTimes: number[] = [];
    const fitCpuTimes: number[] = [];
    const predictTimes: number[] = [];
    let forest: RandomForest | null = null;
    let accuracyOurs = 0;
    for (let run = 0; run < a.runs; run++) {
      let t = performance.now();
      const cpu = process.cpuUsage();
      forest = fitRandomForest(xTrain, yTrain, { nEstimators: a.trees, maxDepth: a.maxDepth, seed: a.seed });
      fitTimes.push((performance.now() - t) / 1000);
      const used = process.cpuUsage(cpu);
      fitCpuTimes.push((used.user + used.system) / 1e6);
      t = performance.now();
      const pred = predict(forest, xTest);
      predictTimes.push((performance.now() - t) / 1000);
      accuracyOurs = pred.reduce((s, p, i) => s + (p === yTest[i] ? 1 : 0), 0) / a.testRows;
    }
    const sk1 = runSklearn(a, dir, 1);
    const sk2 = runSklearn(a, dir, 2);
    const rfFit = median(fitTimes);
    const meanNodes = forest ? forest.trees.reduce((s, t) => s + t.feature.length, 0) / forest.trees.length : 0;
    const result = {
      rf_fit_s: round(rfFit),
      rf_predict_s: round(median(predictTimes)),
      sklearn_fit_s: round(sk1.fit_s),
      sklearn_predict_s: round(sk1.predict_s),
      rf_ratio_vs_sklearn: round(rfFit / sk1.fit_s),
      sklearn_n_jobs2_fit_s: round(sk2.fit_s),
      rf_ratio_vs_sklearn_n_jobs2: round(rfFit / sk2.fit_s),
      // CPU seconds are less disturbed than wall time when other jobs share the cores.
      rf_fit_cpu_s: round(median(fitCpuTimes)),
      sklearn_fit_cpu_s: round(sk1.fit_cpu_s),
      rf_cpu_ratio_vs_sklearn: round(median(fitCpuTimes) / sk1.fit_cpu_s),
      accuracy_ours: accuracyOurs,
      accuracy_sklearn: sk1.accuracy,
      rf_fit_runs_s: fitTimes.map(round),
      sklearn_fit_runs_s: sk1.fit_runs_s.map(round),
      sklearn_n_jobs2_fit_runs_s: sk2.fit_runs_s.map(round),
      rf_mean_nodes_per_tree: Math.round(meanNodes),
      setup: {
        train: `${a.rows} x ${a.cols}`,
        test_rows: a.testRows,
        classes: a.classes,
        trees: a.trees,
        max_depth: a.maxDepth,
        max_features: 'sqrt',
        runs: a.runs,
        note:
          'ratios are against scikit-learn n_jobs=1 because our forest is single-threaded; ' +
          'times are medians of runs; predict is on the test rows',
      },
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        memory_gib: round(totalmem() / 2 ** 30),
        load_average_at_start: loadAtStart.map(round),
        node: process.version,
        sklearn: sk1.sklearn_version,
      },
    };
    const text = JSON.stringify(result, null, 2);
    console.log(text);
    if (a.out) writeFileSync(a.out, text + '\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

main();

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { initTfjs } from '../engine/backends/tfjs.js';
import { evaluateCommand, parseEvaluateArgs } from './evaluate.command.js';
import { fakeDetector } from '../../test/helpers/fake-detector.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

function sink(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(c, _e, cb) {
      chunks.push(String(c));
      cb();
    },
  }) as Writable & { text: () => string };
  w.text = () => chunks.join('');
  return w;
}

async function run(argv: string[], deps = {}): Promise<{ code: number; out: string; err: string }> {
  const out = sink();
  const err = sink();
  const code = await evaluateCommand(argv, out, err, deps);
  return { code, out: out.text(), err: err.text() };
}

test('bad arguments exit 2 with a message that says what is wrong', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--source', 'a', '--target', 'b=c'], /--out report\.json is required/],
    [['--source', 'a', '--target', 'nodir', '--out', 'r.json'], /--target must be <name>=<dir>/],
    [['--source', 'a', '--target', '=x', '--out', 'r.json'], /both parts/],
    [['--target', 'b=c', '--out', 'r.json'], /--source is required/],
    [['--source', 'a', '--out', 'r.json', '--preset', 'gpu'], /--preset must be/],
    [['--source', 'a', '--out', 'r.json', '--epochs', '0'], /--epochs must be an integer >= 1/],
    [['--source', 'a', '--out', 'r.json', '--max-per-class', 'x'], /--max-per-class must be an integer/],
    [['--source', 'a', '--out', 'r.json', '--classes', 'all'], /--classes must be common5 or common5_ig or paper13/],
    [['--source', 'a', '--out', 'r.json', '--bogus'], /unknown flag --bogus/],
    [['--source', 'a', '--out', 'r.txt'], /\.json file/],
    [['--source', 'a=x', '--target', 'a=y', '--out', 'r.json'], /"a" is used twice/],
    [['--source', 'a', '--out'], /--out needs a value/],
  ];
  for (const [argv, re] of cases) {
    const r = await run(argv);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.err, re, argv.join(' '));
    assert.match(r.err, /Usage: leukograph evaluate/);
  }
  const missing = await run(['--source', '/nonexistent/folder', '--out', 'r.json']);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /--source folder: \/nonexistent\/folder is not a folder/);
  const help = await run(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.out, /--max-per-class/);
});

test('argument defaults: source name from the folder, targets aligned unless --no-align-targets', () => {
  const a = parseEvaluateArgs(['--source', '/data/acevedo20/', '--target', 'bccd=/d/b', '--align', '/d/raabin', '--out', 'r.json']);
  assert.ok(a !== 'help');
  assert.equal(a.source.name, 'acevedo20');
  assert.equal(a.align[0]!.name, 'raabin');
  assert.equal(a.alignTargets, true);
  assert.equal(a.preset, 'cpu');
  assert.equal(a.classes, 'common5');
  assert.equal(a.trees, 100);
  assert.equal(a.maxDepth, 16);
  assert.equal(a.alignScale, 'raw');
  const b = parseEvaluateArgs(['--source=s=/x', '--no-align-targets', '--out=r.json', '--methods', 'ae_cfe,colour_shape', '--align-scale', 'standardised']);
  assert.ok(b !== 'help');
  assert.equal(b.alignScale, 'standardised');
  assert.throws(() => parseEvaluateArgs(['--source=s=/x', '--out=r.json', '--align-scale', 'big']), /--align-scale must be one of raw, standardised/);
  assert.equal(b.alignTargets, false);
  assert.deepEqual(b.methods, ['ae_cfe', 'colour_shape']);
  assert.equal(b.targetMaxPerClass, undefined);
  const c = parseEvaluateArgs(['--source', 's', '--out', 'r.json', '--max-per-class', '5', '--target-max-per-class', 'all']);
  assert.ok(c !== 'help');
  assert.equal(c.maxPerClass, 5);
  assert.equal(c.targetMaxPerClass, null);
  assert.throws(() => parseEvaluateArgs(['--source', 's', '--out', 'r.json', '--target-max-per-class', '0']), /integer >= 1/);
});

test('end to end on the fixtures with a fake detector: report.json and report.md written', async () => {
  const rt = await initTfjs({ prefer: 'wasm' });
  const dir = await mkdtemp(join(tmpdir(), 'lg-eval-'));
  try {
    const out = join(dir, 'sub', 'report.json');
    const r = await run(
      [
        '--source', `acevedo20=${join(FIXTURES, 'acevedo20')}`,
        '--target', `zheng-ds2=${join(FIXTURES, 'zheng-ds2')}`,
        '--target', `bccd=${join(FIXTURES, 'bccd')}`,
        '--epochs', '1', '--trees', '5', '--max-depth', '4', '--batch-size', '8', '--seed', '1',
        '--model', '/nonexistent/detector.onnx', '--out', out,
      ],
      { loadDetector: async () => fakeDetector(), autoencoder: { runtime: rt } },
    );
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /acevedo20: 15 cells/);
    assert.match(r.err, /ae_cfe epoch 1\/1/);
    const report = JSON.parse(await readFile(out, 'utf8'));
    assert.deepEqual(Object.keys(report.domains).sort(), ['acevedo20', 'bccd', 'zheng-ds2']);
    assert.deepEqual(report.align, ['zheng-ds2', 'bccd']);
    assert.equal(report.datasets.bccd.loading.noDetection, 0);
    assert.ok(report.commandLine.startsWith('leukograph evaluate --source'));
    assert.ok(report.machine.cores >= 1);
    for (const m of ['ae_no_align', 'pooled_features', 'colour_shape']) assert.ok(report.baselines[m].domains['zheng-ds2']);
    // Every domain's accuracy carries its 95 % interval, which holds the accuracy.
    for (const d of Object.values(report.domains) as Array<{ accuracy: number; accuracy_ci95: [number, number] }>) {
      assert.ok(d.accuracy_ci95[0] <= d.accuracy && d.accuracy <= d.accuracy_ci95[1], JSON.stringify(d.accuracy_ci95));
    }
    // ... and the product's flags: every scored cell either flagged (for one reason) or left.
    for (const d of Object.values(report.baselines.morphology.domains) as Array<{ n: number; flags: { n: number; flagged: number; novel: number; low_confidence: number; unflagged: { n: number } } }>) {
      assert.equal(d.flags.n, d.n);
      assert.equal(d.flags.flagged, d.flags.novel + d.flags.low_confidence);
      assert.equal(d.flags.flagged + d.flags.unflagged.n, d.n);
    }
    const md = await readFile(join(dir, 'sub', 'report.md'), 'utf8');
    assert.match(md, /## Summary/);
    assert.match(md, /colour_shape/);
    assert.match(md, /Accuracy, % \(its 95 % interval\)/);
    assert.match(md, /If a person reviews the flagged cells/);
    assert.match(md, /Flagged as the product would .*: \d+ of \d+ \(\d+ unlike, \d+ low confidence\)/);
    assert.match(md, /accuracy \d+\.\d % \(95 % interval \d+\.\d-\d+\.\d %\)/);
    assert.match(md, /Acevedo et al\. 2020/);
    assert.match(md, /Zheng et al\. 2018/);
    assert.match(r.out, /report\.md/);

    const failed = await run(['--source', join(FIXTURES, 'acevedo20'), '--out', out, '--model', '/x.onnx'], {
      loadDetector: async () => {
        throw new Error('no model at /x.onnx');
      },
    });
    assert.equal(failed.code, 1);
    assert.match(failed.err, /no model at/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

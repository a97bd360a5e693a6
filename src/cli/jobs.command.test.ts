import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { jobCommand, jobExitCode, EXIT, JOB_COMMANDS } from './jobs.command.js';
import { UsageError } from './args.js';

// The URL points nowhere: each refusal must come from the argument check, not from a failed request.
const NOWHERE = ['--url', 'http://127.0.0.1:9/graphql'];

test('classify refuses an unknown --stain, --consensus or --self-training value before it talks to any server', async () => {
  await assert.rejects(jobCommand('classify', ['--dataset', 'lab', '--stain', 'sometimes', ...NOWHERE]), (e: Error) => e instanceof UsageError && /--stain takes auto, off, always, centred, adaptive, prior_mix, ensemble, not "sometimes"/.test(e.message));
  await assert.rejects(jobCommand('classify', ['--dataset', 'lab', '--consensus', 'maybe', ...NOWHERE]), /--consensus takes on, off, not "maybe"/);
  await assert.rejects(jobCommand('classify', ['--dataset', 'lab', '--self-training', 'yes', ...NOWHERE]), /--self-training takes on, off, not "yes"/);
});

test('a misspelt flag is an error that names the command, the likely flag and every known one', async () => {
  await assert.rejects(jobCommand('classify', ['--dataset', 'lab', '--stian', 'off', ...NOWHERE]), (e: Error) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, /^leukograph classify: unknown flag --stian \(did you mean --stain\?\); its flags are --help, --dataset, --classifier, --stain, --consensus, --self-training, --url, --token, --json$/);
    return true;
  });
  await assert.rejects(jobCommand('train-classifier', ['--dataset', 'lab', '--feature', 'morphology', ...NOWHERE]), /unknown flag --feature \(did you mean --features\?\)/);
  await assert.rejects(jobCommand('train-classifier', ['--dataset', 'lab', '--features', 'pixels', ...NOWHERE]), /--features takes morphology, latent, not "pixels"/);
  await assert.rejects(jobCommand('export', ['--dataset', 'lab', '--out', 'x.txt', ...NOWHERE]), /--out must end in \.csv, \.parquet or \.json/);
  await assert.rejects(jobCommand('analyze', ['stray', '--dataset', 'lab', ...NOWHERE]), /unexpected argument "stray"/);
});

test('every job command has usage text with its flags', async () => {
  for (const c of JOB_COMMANDS) {
    const r = spawnSync(process.execPath, [fileURLToPath(new URL('../../../bin/leukograph.js', import.meta.url)), c, '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${c}: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: leukograph ${c}`), c);
    assert.match(r.stdout, /--url URL/, c);
  }
});

test('the leukograph command exits 2 on a misspelt flag, naming the known ones, and never runs the job', () => {
  const bin = fileURLToPath(new URL('../../../bin/leukograph.js', import.meta.url));
  const r = spawnSync(process.execPath, [bin, 'classify', '--dataset', 'lab', '--stian', 'off', ...NOWHERE], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /leukograph classify: unknown flag --stian \(did you mean --stain\?\); its flags are .*--stain/);
  assert.doesNotMatch(r.stderr, /cannot reach|at .*\.js:\d+/);
  const serve = spawnSync(process.execPath, [bin, 'serve', '--prot', '4001'], { encoding: 'utf8' });
  assert.equal(serve.status, 2);
  assert.match(serve.stderr, /leukograph serve: unknown flag --prot \(did you mean --port\?\)/);
  const unknown = spawnSync(process.execPath, [bin, 'clasify'], { encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown command "clasify"/);
  const bench = spawnSync(process.execPath, [fileURLToPath(new URL('../../bench/run.js', import.meta.url)), '--quik'], { encoding: 'utf8' });
  assert.equal(bench.status, 2, bench.stderr);
  assert.match(bench.stderr, /unknown flag --quik \(did you mean --quick\?\)/);
});

test('a job that succeeded but whose self-check failed exits 3 with the warning on stderr; a warning exits 0 and says it', () => {
  const said: string[] = [];
  const say = (l: string) => said.push(l);
  const failed = { status: 'failed', warning: 'SELF-CHECK FAILED: do not report this count without review: the count is degenerate.' };
  assert.equal(jobExitCode({ status: 'succeeded', result: { classified: 300, selfCheck: failed } }, say), EXIT.selfCheckFailed);
  assert.equal(EXIT.selfCheckFailed, 3);
  assert.deepEqual(said, [`${failed.warning}\n`]);
  said.length = 0;
  const warned = { status: 'warning', warning: 'Self-check warning: review this count: too few cells (5) to check the count; a check needs at least 30.' };
  assert.equal(jobExitCode({ status: 'succeeded', result: { selfCheck: warned } }, say), 0);
  assert.deepEqual(said, [`${warned.warning}\n`]);
  said.length = 0;
  // Passed, no self-check at all (other kinds of job, latent classifiers of old), or no result: 0, nothing said.
  for (const result of [{ selfCheck: { status: 'passed', warning: null } }, { imported: 4 }, null]) assert.equal(jobExitCode({ status: 'succeeded', result }, say), 0);
  assert.deepEqual(said, []);
  // A job that did not succeed exits 1, whatever its result holds.
  for (const status of ['failed', 'cancelled']) assert.equal(jobExitCode({ status, result: { selfCheck: failed } }, say), 1);
});

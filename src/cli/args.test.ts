import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestFlag, parseFlags, UsageError, type FlagSpecs } from './args.js';

const SPECS = {
  dataset: { type: 'string', multiple: true },
  stain: { type: 'string' },
  json: { type: 'boolean' },
  'no-engine': { type: 'boolean' },
} as const satisfies FlagSpecs;
const parse = (argv: string[], positionals: number | 'any' = 0) => parseFlags(argv, SPECS, { command: 'leukograph x', positionals });
const refuses = (argv: string[], re: RegExp, positionals: number | 'any' = 0) =>
  assert.throws(() => parse(argv, positionals), (e: Error) => e instanceof UsageError && e.exitCode === 2 && re.test(e.message));

test('known flags parse: values, inline values, repeats, switches, negated names, positionals', () => {
  const r = parse(['--dataset', 'a', '--dataset=b', '--stain', 'off', '--json', '--no-engine', 'dir'], 1);
  assert.deepEqual(r.flags.dataset, ['a', 'b']);
  assert.equal(r.flags.stain, 'off');
  assert.equal(r.flags.json, true);
  assert.equal(r.flags['no-engine'], true);
  assert.deepEqual(r.positional, ['dir']);
  assert.equal(parse(['-h']).flags.help, true);
});

test('mistakes are UsageErrors (exit code 2) that say what is wrong', () => {
  refuses(['--stian', 'off'], /^leukograph x: unknown flag --stian \(did you mean --stain\?\); its flags are --help, --dataset, --stain, --json, --no-engine$/);
  refuses(['--colour'], /unknown flag --colour; its flags are/);
  refuses(['-x'], /unknown flag -x/);
  refuses(['--stain'], /--stain needs a value/);
  refuses(['--stain', '--json'], /--stain needs a value/);
  refuses(['--json=yes'], /--json takes no value/);
  refuses(['--stain', 'a', '--stain', 'b'], /--stain is given twice/);
  refuses(['extra'], /unexpected argument "extra" \(it takes flags only/);
  refuses(['a', 'b'], /unexpected argument "b" \(it takes 1/, 1);
  assert.deepEqual(parse(['a', 'b'], 'any').positional, ['a', 'b']);
});

test('the closest flag: a typo or a prefix, not an unrelated word', () => {
  assert.equal(closestFlag('feature', ['features', 'dataset']), 'features');
  assert.equal(closestFlag('datset', ['features', 'dataset']), 'dataset');
  assert.equal(closestFlag('colour', ['features', 'dataset']), null);
});

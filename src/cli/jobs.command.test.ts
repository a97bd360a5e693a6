import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobCommand } from './jobs.command.js';

test('classify refuses an unknown --stain before it talks to any server', async () => {
  // The URL points nowhere: the refusal must come from the argument check, not from a failed request.
  const args = { command: 'classify', positional: [], flags: { dataset: 'lab', stain: 'sometimes', url: 'http://127.0.0.1:9/graphql' } };
  await assert.rejects(jobCommand(args), /--stain takes auto, off or always, not "sometimes"/);
});

test('classify refuses an unknown --consensus before it talks to any server', async () => {
  const args = { command: 'classify', positional: [], flags: { dataset: 'lab', consensus: 'maybe', url: 'http://127.0.0.1:9/graphql' } };
  await assert.rejects(jobCommand(args), /--consensus takes on or off, not "maybe"/);
});

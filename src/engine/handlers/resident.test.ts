import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withRowEncoder } from './resident.js';
import type { CellClassifier } from '../classifier/classifier-artifact.js';

// Only the fields withRowEncoder reads; the forest is never touched.
const latent = { features: 'latent', encoderId: 'id-where-it-was-trained' } as CellClassifier;

test("a bundled latent classifier reads the encoder this database registered, whatever id its file names", () => {
  assert.equal(withRowEncoder(latent, { params: { bundled: true, encoderId: 'id-here' } }).encoderId, 'id-here');
  assert.equal(latent.encoderId, 'id-where-it-was-trained', 'the cached file is not changed');
});

test('a trained classifier, or a bundled one without an encoder, keeps its own', () => {
  assert.equal(withRowEncoder(latent, { params: { encoderId: 'other' } }).encoderId, 'id-where-it-was-trained');
  assert.equal(withRowEncoder(latent, { params: { bundled: true } }).encoderId, 'id-where-it-was-trained');
  const morphology = { features: 'morphology', encoderId: null } as CellClassifier;
  assert.equal(withRowEncoder(morphology, { params: { bundled: true, encoderId: 'id-here' } }).encoderId, null);
});

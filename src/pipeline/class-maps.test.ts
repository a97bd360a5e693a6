import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harmonise, classOf, MATEK_CODES } from './class-maps.js';

test('Acevedo folders and prefixes harmonise to canonical types', () => {
  assert.equal(harmonise('neutrophil', 'SNE'), 'neutrophil_segmented');
  assert.equal(harmonise('neutrophil', 'BNE'), 'neutrophil_band');
  assert.equal(harmonise('ig', 'MMY'), 'metamyelocyte');
  assert.equal(harmonise('ig', 'IG'), 'immature_granulocyte');
  assert.equal(harmonise('basophil', 'BA'), 'basophil');
  // a subtype that contradicts the folder does not win
  assert.equal(harmonise('basophil', 'SNE'), 'basophil');
});

test('every Matek-19 code maps to a paper class', () => {
  for (const code of MATEK_CODES.filter((c) => c !== 'PMB')) {
    const t = harmonise(code);
    assert.ok(t, code);
    assert.ok(classOf(t, 'paper13'), `${code} -> ${t} has a paper13 class`);
  }
  assert.equal(classOf(harmonise('LYA'), 'common5'), 'lymphocyte');
  assert.equal(classOf(harmonise('NGB'), 'common5'), 'neutrophil');
});

test('the common-5 map leaves out what all domains do not share', () => {
  assert.equal(classOf('immature_granulocyte', 'common5'), null);
  assert.equal(classOf('erythroblast', 'common5'), null);
  assert.equal(classOf('erythroblast', 'paper13'), 'erythroblast');
  assert.equal(classOf('neutrophil', 'paper13'), 'neutrophil_segmented');
});

test('per-dataset overrides win and unknown labels are null', () => {
  assert.equal(harmonise('Seg. Neut.', null, { 'Seg. Neut.': 'neutrophil_segmented' }), 'neutrophil_segmented');
  assert.equal(harmonise('Mystery'), null);
  assert.equal(harmonise('LYMPHOCYTE'), 'lymphocyte');
  assert.equal(harmonise('x', null, { x: 'not-a-type' }), null);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VerdictChanges } from './verdict-changes.js';

test('changes are tallied per transition; cells without an earlier verdict are not compared', () => {
  const v = new VerdictChanges();
  v.add('a', { label: 'lymphocyte', flagged: false }, { label: 'monocyte', flagged: false });
  v.add('b', { label: null, flagged: true }, { label: 'monocyte', flagged: false });
  v.add('c', { label: 'lymphocyte', flagged: false }, { label: 'monocyte', flagged: false });
  v.add('d', { label: 'neutrophil', flagged: false }, { label: 'neutrophil', flagged: false });
  v.add('e', null, { label: 'neutrophil', flagged: false });
  const s = v.summary();
  assert.equal(s.compared, 4);
  assert.equal(s.changed, 3);
  assert.deepEqual(s.transitions, { 'lymphocyte -> monocyte': 2, 'flagged -> monocyte': 1 });
  assert.deepEqual(s.cells.map((c) => c.cellId), ['a', 'b', 'c']);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gpuDeviceNodes } from './gpu-devices.js';

test('GPU device nodes: DRM render nodes and NVIDIA devices count, other nodes do not; no check off Linux', () => {
  const dev = mkdtempSync(join(tmpdir(), 'dev-'));
  writeFileSync(join(dev, 'null'), '');
  writeFileSync(join(dev, 'nvidiactl'), '');
  assert.deepEqual(gpuDeviceNodes(dev, 'linux'), []);
  mkdirSync(join(dev, 'dri'));
  writeFileSync(join(dev, 'dri', 'card0'), '');
  writeFileSync(join(dev, 'dri', 'renderD128'), '');
  writeFileSync(join(dev, 'nvidia0'), '');
  assert.deepEqual(gpuDeviceNodes(dev, 'linux'), [join(dev, 'dri', 'renderD128'), join(dev, 'nvidia0')]);
  assert.equal(gpuDeviceNodes(dev, 'darwin'), null);
});

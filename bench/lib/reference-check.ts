// What the PyTorch reference of the benchmark needs, checked before anything is measured (issue 23): a
// benchmark without its reference would write a null ratio and exit 0, which reads like a result.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Python modules the reference imports, with the Debian package that provides each. */
export const REFERENCE_MODULES: readonly { module: string; debian: string; for: string }[] = [
  { module: 'torch', debian: 'python3-torch', for: 'the detector and autoencoder reference' },
  { module: 'torchvision', debian: 'python3-torchvision', for: 'Mask R-CNN and mask pasting' },
  { module: 'sklearn', debian: 'python3-sklearn', for: 'the random forest reference' },
  { module: 'onnx', debian: 'python3-onnx', for: 'rebuilding the reference weights from models/detector.onnx' },
  { module: 'numpy', debian: 'python3-numpy', for: 'everything' },
  { module: 'PIL', debian: 'python3-pil', for: 'image decoding' },
];

export const REFERENCE_INSTALL = `apt-get install -y ${REFERENCE_MODULES.map((m) => m.debian).join(' ')}`;

export interface ReferenceCheck {
  ok: boolean;
  python: string;
  missing: string[];
  /** What to print when !ok: what is missing and how to install it. */
  message: string;
}

/**
 * Checks that `python` exists and imports every module the reference needs (one interpreter start).
 * The message names the missing Debian packages and the apt-get command.
 */
export function checkReference(python: string): ReferenceCheck {
  const fix = `The benchmark's PyTorch reference runs with Debian's Python and needs ${REFERENCE_MODULES.map((m) => m.debian).join(', ')}: ` +
    `\`${REFERENCE_INSTALL}\` (as root), or --python PATH for an interpreter that has them (see bench/README.md).`;
  if (!existsSync(python)) {
    return { ok: false, python, missing: REFERENCE_MODULES.map((m) => m.module), message: `PyTorch reference: ${python} not found. ${fix}` };
  }
  const probe = `import importlib, json\nmissing = []\nfor m in ${JSON.stringify(REFERENCE_MODULES.map((m) => m.module))}:\n    try:\n        importlib.import_module(m)\n    except Exception:\n        missing.append(m)\nprint(json.dumps(missing))\n`;
  const r = spawnSync(python, ['-c', probe], { encoding: 'utf8', timeout: 120_000 });
  let missing: string[];
  try {
    missing = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as string[];
  } catch {
    const why = (r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop();
    return { ok: false, python, missing: REFERENCE_MODULES.map((m) => m.module), message: `PyTorch reference: ${python} could not be run (${why}). ${fix}` };
  }
  if (missing.length === 0) return { ok: true, python, missing, message: '' };
  const pkgs = REFERENCE_MODULES.filter((m) => missing.includes(m.module));
  return {
    ok: false,
    python,
    missing,
    message: `PyTorch reference: ${python} lacks ${pkgs.map((m) => `${m.module} (Debian ${m.debian}, for ${m.for})`).join(', ')}. ` +
      `Install: \`apt-get install -y ${pkgs.map((m) => m.debian).join(' ')}\` (as root), or --python PATH for an interpreter that has them (see bench/README.md).`,
  };
}

// WebGPU in Node: the only module that imports the optional npm `webgpu` package (Dawn). It looks for an
// adapter once per setting and, when one is found, exposes it as `navigator.gpu` the way a browser does,
// for onnxruntime-node's `webgpu` provider and tfjs-backend-webgpu (shared/docs/gpu.md).

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; type?: string };
  isFallbackAdapter?: boolean;
}

export type WebgpuProbe = { ok: true; description: string; software: boolean } | { ok: false; reason: string };

import { gpuDeviceNodes } from './gpu-devices.js';

const probes = new Map<boolean, Promise<WebgpuProbe>>();

export function withTimeout<T>(p: Promise<T>, ms: number, fallback: T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => resolve(fallback), ms);
    timer.unref?.();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (err && typeof err === 'object' && 'message' in err) return String((err as { message: unknown }).message);
  return String(err);
}

/**
 * Looks for a WebGPU adapter; never throws. A software (CPU) adapter counts only with allowSoftware.
 * Memoised per allowSoftware: Dawn is started once per process.
 */
export function probeWebgpu(allowSoftware: boolean, timeoutMs: number): Promise<WebgpuProbe> {
  let p = probes.get(allowSoftware);
  if (!p) {
    p = (async (): Promise<WebgpuProbe> => {
      // No GPU device on this machine: say so once, without starting Dawn (and its warnings). A software
      // adapter, asked for, needs none.
      if (!allowSoftware && process.env.LEUKOGRAPH_WEBGPU_PROBE !== 'always' && gpuDeviceNodes()?.length === 0) {
        return { ok: false, reason: 'webgpu: no adapter (no GPU device under /dev)' };
      }
      try {
        const spec = 'webgpu'; // a variable specifier: the package is optional
        const mod = (await import(spec)) as { create?: (o: string[]) => { requestAdapter(o?: object): Promise<GpuAdapterLike | null> }; globals?: object };
        if (typeof mod.create !== 'function') return { ok: false, reason: 'npm package `webgpu` has no create()' };
        const gpu = mod.create([]);
        const adapter = await withTimeout(gpu.requestAdapter({ powerPreference: 'high-performance' }), timeoutMs, null);
        if (!adapter) return { ok: false, reason: 'webgpu: no adapter' };
        const info = adapter.info ?? {};
        const software = adapter.isFallbackAdapter === true || /cpu/i.test(info.type ?? '');
        const description = [info.vendor, info.architecture, info.description || info.device].filter(Boolean).join(' ') || 'adapter';
        if (software && !allowSoftware) return { ok: false, reason: `only a software adapter (${description})` };
        Object.assign(globalThis, mod.globals ?? {});
        const g = globalThis as { navigator?: { gpu?: unknown } };
        if (g.navigator === undefined) Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
        else if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
        return { ok: true, description: `WebGPU: ${description}${software ? ' (software)' : ''}`, software };
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return { ok: false, reason: 'npm package `webgpu` not installed' };
        return { ok: false, reason: errorMessage(err) };
      }
    })();
    probes.set(allowSoftware, p);
  }
  return p;
}

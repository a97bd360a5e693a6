// Whether this machine shows a GPU at all, before Dawn is started to look for a WebGPU adapter: on Linux a
// hardware adapter needs a device node (a DRM render node, NVIDIA's, or WSL's /dev/dxg). Without one, starting
// Dawn finds nothing and prints Vulkan and XDG_RUNTIME_DIR warnings that read like failures.
import { readdirSync } from 'node:fs';

/** The GPU device nodes under /dev (Linux); null on other systems, where there is no such check. */
export function gpuDeviceNodes(dev = '/dev', platform: string = process.platform): string[] | null {
  if (platform !== 'linux') return null;
  const list = (dir: string) => {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  };
  return [
    ...list(`${dev}/dri`).filter((n) => n.startsWith('renderD')).map((n) => `${dev}/dri/${n}`),
    ...list(dev).filter((n) => /^nvidia\d+$/.test(n) || n === 'dxg' || n === 'kfd').map((n) => `${dev}/${n}`),
  ];
}

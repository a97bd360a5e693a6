// Small numeric and machine helpers shared by the bench scripts.
import { cpus, loadavg, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median with min, max and the half-range relative to the median (the spread RESULTS.md reports). */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** (max - min) / 2 / median, as a fraction. */
  spread: number;
  n: number;
  runs: number[];
}

export function summarize(xs: number[], digits = 3): Summary {
  const med = median(xs);
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  return {
    median: round(med, digits),
    min: round(min, digits),
    max: round(max, digits),
    spread: round(med ? (max - min) / 2 / med : 0, 3),
    n: xs.length,
    runs: xs.map((x) => round(x, digits)),
  };
}

export function round(v: number, digits = 3): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** Processes' resident and peak resident memory from /proc (Linux), MiB. */
export function procMemory(pid: number): { rssMb: number; peakRssMb: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(/\d+/.exec(s.split('\n').find((l) => l.startsWith(k)) ?? '')?.[0] ?? NaN);
    return { rssMb: round(kb('VmRSS:') / 1024, 1), peakRssMb: round(kb('VmHWM:') / 1024, 1) };
  } catch {
    return null;
  }
}

/** CPU seconds (user + system, all threads) a process has used, from /proc/PID/stat (Linux). */
export function procCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ": state is field 3 overall; utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

export interface Machine {
  cpu: string;
  cores: number;
  memory_gib: number;
  node: string;
  os: string;
  load_average_at_start: number[];
  load_average_at_end?: number[];
}

export function machine(): Machine {
  let osName: string = process.platform;
  try {
    osName = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? osName;
  } catch {
    /* not Linux */
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory_gib: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    os: osName,
    load_average_at_start: loadavg().map((v) => round(v, 2)),
  };
}

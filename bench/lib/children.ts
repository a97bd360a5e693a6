// Child processes of the bench: one-shot scripts that print a JSON document, and long-lived workers
// that answer one JSON line per request (the PyTorch reference, the in-process pipeline).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface ChildResult<T> {
  json: T;
  stderr: string;
  wallS: number;
}

/** Runs a command to the end and parses the JSON document it prints on stdout (the last one). */
export function runJson<T>(cmd: string, args: string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<ChildResult<T>> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : null;
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const wallS = (performance.now() - t0) / 1000;
      if (code !== 0) return reject(new Error(`${cmd} ${args.join(' ')} exited ${code ?? signal}: ${err.slice(-2000)}`));
      const start = out.indexOf('{');
      try {
        // The documents are printed last; everything before the first brace is chatter.
        resolve({ json: JSON.parse(out.slice(start)) as T, stderr: err, wallS });
      } catch {
        const lines = out.trim().split('\n');
        try {
          resolve({ json: JSON.parse(lines[lines.length - 1]!) as T, stderr: err, wallS });
        } catch (e) {
          reject(new Error(`${cmd}: no JSON on stdout (${(e as Error).message}): ${out.slice(-500)}`));
        }
      }
    });
  });
}

/** A long-lived child speaking one JSON line per request and one per answer (requests are serial). */
export class JsonLineWorker {
  private readonly child: ChildProcess;
  private readonly waiting: { resolve: (v: any) => void; reject: (e: Error) => void }[] = [];
  private stderrTail = '';
  private exited: Error | null = null;

  constructor(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
    this.child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString()).slice(-4000);
      if (process.env.BENCH_VERBOSE) process.stderr.write(d);
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const t = line.trim();
      if (!t.startsWith('{')) return; // chatter from libraries
      const w = this.waiting.shift();
      if (!w) return;
      try {
        const v = JSON.parse(t) as { error?: string };
        if (v.error) w.reject(new Error(v.error));
        else w.resolve(v);
      } catch (err) {
        w.reject(err as Error);
      }
    });
    this.child.on('exit', (code, signal) => {
      this.exited = new Error(`${cmd} exited ${code ?? signal}: ${this.stderrTail.slice(-1500)}`);
      for (const w of this.waiting.splice(0)) w.reject(this.exited);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  request<T>(msg: Record<string, unknown>, timeoutMs = 3_600_000): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker request timed out: ${JSON.stringify(msg).slice(0, 200)}`)), timeoutMs);
      this.waiting.push({
        resolve: (v) => (clearTimeout(timer), resolve(v as T)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      this.child.stdin!.write(JSON.stringify(msg) + '\n');
    });
  }

  async close(): Promise<void> {
    if (this.exited) return;
    const done = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
  }
}

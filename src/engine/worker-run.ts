// One computation in a worker thread, as the engine's jobs run their long ones (classifier-fitting.ts,
// cell-classifying.ts): so that heartbeats, progress and cancellation keep running on the main thread. The
// lifecycle they share: start, read the worker's messages until one settles the run, poll for a cancel request
// (terminating the worker), and turn a worker that fails or exits early into an error that says which computation.
import { Worker, type TransferListItem } from 'node:worker_threads';

export interface WorkerRun<M, T> {
  /** Names the computation in errors ("classify", "classifier training"). */
  what: string;
  /** What the run was to return, for the error of a worker that exits without it ("the verdicts"). */
  returns: string;
  /**
   * Reads one message: `{ value }` settles the run with it, undefined waits for the next one. A throw fails the run
   * (the worker is terminated first): a message that reports the computation's own error, or a progress callback
   * that threw (as it would fail the computation in the thread).
   */
  onMessage: (m: M) => { value: T } | undefined;
  /** Polled every `pollMs` and after every message that does not settle: once true, the worker is terminated. */
  cancelled: () => boolean;
  /** The run's value once cancelled: given the terminated worker's exit code, or null when no worker was started. */
  onCancel: (exitCode: number | null) => T;
  pollMs?: number;
}

/**
 * Runs the worker script at `url` on `workerData` (`transfer`: buffers moved rather than copied). A run cancelled
 * before it starts starts no worker.
 */
export async function runInWorker<M, T>(url: URL, workerData: unknown, transfer: readonly TransferListItem[], run: WorkerRun<M, T>): Promise<T> {
  if (run.cancelled()) return run.onCancel(null);
  const worker = new Worker(url, { workerData, transferList: [...transfer] });
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (end: () => void) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      end();
    };
    const cancelIfAsked = () => {
      if (settled || !run.cancelled()) return;
      settle(() => void worker.terminate().then((exitCode) => run.onCancel(exitCode)).then(resolve, reject));
    };
    const timer = setInterval(cancelIfAsked, run.pollMs ?? 1000);
    worker.on('message', (m: M) => {
      if (settled) return;
      let out: { value: T } | undefined;
      try {
        out = run.onMessage(m);
      } catch (err) {
        return settle(() => void worker.terminate().catch(() => undefined).then(() => reject(err)));
      }
      if (out) return settle(() => resolve(out.value));
      cancelIfAsked();
    });
    worker.on('error', (err) => settle(() => reject(new Error(`${run.what}: the worker thread failed: ${err.message}`, { cause: err }))));
    worker.on('exit', (code) => settle(() => reject(new Error(`${run.what}: the worker thread exited (code ${code}) before it returned ${run.returns}`))));
  });
}

/** What a worker script sends when its computation throws (reportedError makes the Error of it again). */
export interface ErrorReport {
  type: 'error';
  message: string;
  stack?: string;
}

/** The worker's side: the report of what its computation threw. */
export function errorReport(err: unknown): ErrorReport {
  const e = err instanceof Error ? err : new Error(String(err));
  return { type: 'error', message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
}

/** The Error a worker reported for its computation, with the worker's stack. */
export function reportedError(m: { message: string; stack?: string }): Error {
  const err = new Error(m.message);
  if (m.stack) err.stack = m.stack;
  return err;
}

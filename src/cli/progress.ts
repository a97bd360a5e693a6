// Progress display for long jobs in the terminal: a bar with rate and ETA on a TTY, plain lines when the
// output is not a terminal (logs, CI), JSON lines with --json.
export interface ProgressUpdate {
  done: number;
  total: number | null;
  message?: string | null;
  status?: string;
}

export interface ProgressView {
  update(u: ProgressUpdate): void;
  end(final: ProgressUpdate & { status: string }): void;
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Rate (items/s) and ETA from the first update seen; pure, for the tests. */
export function rateAndEta(startMs: number, startDone: number, nowMs: number, u: ProgressUpdate): { rate: number; etaSec: number | null } {
  const dt = (nowMs - startMs) / 1000;
  const rate = dt > 0 ? (u.done - startDone) / dt : 0;
  const etaSec = u.total !== null && rate > 0 ? (u.total - u.done) / rate : null;
  return { rate, etaSec };
}

export function renderBar(label: string, u: ProgressUpdate, rate: number, etaSec: number | null, width = 30): string {
  const frac = u.total ? Math.min(1, u.done / u.total) : 0;
  const filled = Math.round(frac * width);
  const bar = u.total ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]` : '[' + ' '.repeat(width) + ']';
  const count = u.total !== null ? `${u.done}/${u.total}` : `${u.done}`;
  const pct = u.total ? ` ${(frac * 100).toFixed(0).padStart(3)}%` : '';
  return `${label} ${bar}${pct} ${count} ${rate.toFixed(1)}/s ETA ${etaSec === null ? '--' : fmtSeconds(etaSec)}${u.message ? `  ${u.message}` : ''}`;
}

export function createProgressView(label: string, opts: { json?: boolean; stream?: NodeJS.WriteStream; plainEveryMs?: number } = {}): ProgressView {
  const stream = opts.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY) && !opts.json;
  let start: { ms: number; done: number } | null = null;
  let lastPlain = 0;
  const every = opts.plainEveryMs ?? 2000;
  const line = (u: ProgressUpdate) => {
    const now = Date.now();
    start ??= { ms: now, done: u.done };
    return { now, ...rateAndEta(start.ms, start.done, now, u) };
  };
  return {
    update(u) {
      const { now, rate, etaSec } = line(u);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ type: 'progress', label, ...u, rate, etaSec }) + '\n');
      } else if (tty) {
        const text = renderBar(label, u, rate, etaSec).slice(0, Math.max(20, (stream.columns ?? 100) - 1));
        stream.write(`\r\x1b[2K${text}`);
      } else if (now - lastPlain >= every) {
        lastPlain = now;
        stream.write(renderBar(label, u, rate, etaSec) + '\n');
      }
    },
    end(final) {
      const { rate } = line(final);
      if (opts.json) process.stdout.write(JSON.stringify({ type: 'end', label, ...final, rate }) + '\n');
      else stream.write(`${tty ? '\r\x1b[2K' : ''}${label}: ${final.status} — ${final.done}${final.total !== null ? `/${final.total}` : ''}${final.message ? `, ${final.message}` : ''}\n`);
    },
  };
}

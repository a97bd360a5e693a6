// The event loop's longest stall while something runs: a 10 ms timer's longest gap between ticks is the longest
// time no timer (no job heartbeat) could run.
export interface GapProbe {
  /** Stops the probe; the longest gap in ms since it started. */
  stop(): number;
  /** What `where()` said at the end of the longest gap (where the run was when it stalled). */
  readonly at: string;
}

export function startGapProbe(where: () => string = () => ''): GapProbe {
  let last = performance.now();
  let longest = 0;
  let at = '';
  const timer = setInterval(() => {
    const t = performance.now();
    if (t - last > longest) {
      longest = t - last;
      at = where();
    }
    last = t;
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
    get at() {
      return at;
    },
  };
}

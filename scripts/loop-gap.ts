// The event loop's longest stall while something runs: a 10 ms timer's longest gap between ticks is the longest
// time no timer (no job heartbeat) could run.
export interface GapProbe {
  /** Stops the probe; the longest gap in ms since it started. */
  stop(): number;
}

export function startGapProbe(): GapProbe {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    longest = Math.max(longest, t - last);
    last = t;
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(longest, performance.now() - last);
    },
  };
}

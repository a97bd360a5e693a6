// One line of JSON per log event on stderr, so that logs of the API and engines can be merged and parsed.
type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
let threshold: Level = (process.env.LEUKOGRAPH_LOG_LEVEL as Level) ?? 'info';

export function setLogLevel(level: Level): void {
  threshold = level;
}

function write(level: Level, scope: string, msg: string, extra?: Record<string, unknown>): void {
  if (order[level] < order[threshold]) return;
  const line: Record<string, unknown> = { t: new Date().toISOString(), level, scope, msg, ...extra };
  if (extra?.err instanceof Error) line.err = { message: extra.err.message, stack: extra.err.stack };
  process.stderr.write(JSON.stringify(line) + '\n');
}

export interface Logger {
  debug(msg: string, extra?: Record<string, unknown>): void;
  info(msg: string, extra?: Record<string, unknown>): void;
  warn(msg: string, extra?: Record<string, unknown>): void;
  error(msg: string, extra?: Record<string, unknown>): void;
}

export function logger(scope: string): Logger {
  return {
    debug: (m, e) => write('debug', scope, m, e),
    info: (m, e) => write('info', scope, m, e),
    warn: (m, e) => write('warn', scope, m, e),
    error: (m, e) => write('error', scope, m, e),
  };
}

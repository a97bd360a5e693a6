// The one strict flag parser of the command line and the benchmarks, on node:util parseArgs: every command
// declares its flags, and an unknown or misspelt flag, a missing value or a stray argument is a UsageError
// (exit code 2) that names the command's known flags, instead of being silently ignored.
import { parseArgs as nodeParseArgs } from 'node:util';

export interface FlagSpec {
  type: 'string' | 'boolean';
  /** Repeatable: the values collect into an array. */
  multiple?: boolean;
  short?: string;
  /** Placeholder for the value in the usage text (`--dataset NAME`). */
  value?: string;
  help?: string;
}
export type FlagSpecs = Record<string, FlagSpec>;

/** A command-line mistake: the message says what is wrong; exit code 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

type ValueOf<S extends FlagSpec> = S['type'] extends 'boolean' ? (S['multiple'] extends true ? boolean[] : boolean) : S['multiple'] extends true ? string[] : string;
export type FlagValues<S extends FlagSpecs> = { [K in keyof S]?: ValueOf<S[K]> };

export interface Parsed<S extends FlagSpecs> {
  flags: FlagValues<S & typeof HELP_FLAG>;
  positional: string[];
}

export interface ParseOptions {
  /** How the command is called, for messages: 'leukograph classify'. */
  command: string;
  /** How many positional arguments the command takes (default 0); 'any' for a list. */
  positionals?: number | 'any';
}

/** The flags every command takes besides its own. */
export const HELP_FLAG = { help: { type: 'boolean', short: 'h', help: 'this text' } } as const satisfies FlagSpecs;

export function flagList(specs: FlagSpecs): string {
  return Object.keys(specs).map((k) => `--${k}`).join(', ');
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** The known flag closest to a misspelt one (at most two edits, or a prefix of it), if any. */
export function closestFlag(name: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = k.startsWith(name) || name.startsWith(k) ? Math.min(1, editDistance(name, k)) : editDistance(name, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= Math.max(1, Math.min(2, Math.floor(name.length / 3))) ? best : null;
}

/**
 * Parses `argv` (the arguments after the command name) against the command's flags. Throws a UsageError for
 * an unknown flag (with the closest known one and the whole list), a string flag without its value, a value
 * given to a switch, a repeated single flag, or more positional arguments than the command takes.
 */
export function parseFlags<S extends FlagSpecs>(argv: readonly string[], specs: S, opts: ParseOptions): Parsed<S> {
  const all: FlagSpecs = { ...HELP_FLAG, ...specs };
  const known = Object.keys(all);
  const options = Object.fromEntries(Object.entries(all).map(([k, s]) => [k, { type: s.type, ...(s.multiple ? { multiple: true } : {}), ...(s.short ? { short: s.short } : {}) }]));
  // A first, lenient pass gives the tokens, so that each mistake is named in the command line's own words.
  const { tokens } = nodeParseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  const seen = new Set<string>();
  for (const t of tokens) {
    if (t.kind !== 'option') continue;
    const spec = all[t.name];
    const written = t.rawName;
    if (!spec) {
      const near = closestFlag(t.name, known);
      throw new UsageError(`${opts.command}: unknown flag ${written}${near ? ` (did you mean --${near}?)` : ''}; its flags are ${flagList(all)}`);
    }
    if (spec.type === 'string') {
      // parseArgs takes the next argument as the value even when it is another flag: `--dataset --json`.
      if (t.value === undefined || (!t.inlineValue && t.value.startsWith('--') && t.value.length > 2)) {
        throw new UsageError(`${opts.command}: ${written} needs a value${spec.value ? ` (${written} ${spec.value})` : ''}`);
      }
    } else if (t.inlineValue) throw new UsageError(`${opts.command}: ${written} takes no value (got "${t.value}")`);
    if (!spec.multiple && seen.has(t.name)) throw new UsageError(`${opts.command}: ${written} is given twice`);
    seen.add(t.name);
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = nodeParseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
  } catch (err) {
    throw new UsageError(`${opts.command}: ${(err as Error).message}`);
  }
  const max = opts.positionals ?? 0;
  if (max !== 'any' && parsed.positionals.length > max && !parsed.values.help) {
    const extra = parsed.positionals.slice(max);
    throw new UsageError(
      `${opts.command}: unexpected argument${extra.length > 1 ? 's' : ''} ${extra.map((a) => `"${a}"`).join(' ')}` +
        `${max === 0 ? ' (it takes flags only' : ` (it takes ${max}`}; its flags are ${flagList(all)})`,
    );
  }
  return { flags: parsed.values as FlagValues<S & typeof HELP_FLAG>, positional: parsed.positionals };
}

/** The flag lines of a usage text: `  --dataset NAME   what it is`. */
export function flagHelp(specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([k, s]) => [`  ${s.short ? `-${s.short}, ` : ''}--${k}${s.type === 'string' ? ` ${s.value ?? 'VALUE'}` : ''}${s.multiple ? ' ...' : ''}`, s.help ?? '']);
  const width = Math.max(...rows.map((r) => r[0]!.length)) + 2;
  return rows.map(([a, b]) => (b ? a!.padEnd(width) + b : a)).join('\n');
}

/** A string flag as an integer (>= min), or undefined when not given. */
export function intFlag(command: string, name: string, v: string | undefined, min = Number.MIN_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${command}: --${name} must be an integer${min > Number.MIN_SAFE_INTEGER ? ` >= ${min}` : ''}, got "${v}"`);
  return n;
}

/** A string flag as a finite number, or undefined when not given. */
export function numberFlag(command: string, name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${command}: --${name} must be a number, got "${v}"`);
  return n;
}

/** A string flag that must be one of `choices` (case-insensitive), or `dflt` when not given. */
export function choiceFlag<T extends string>(command: string, name: string, v: string | undefined, choices: readonly T[], dflt: T): T {
  if (v === undefined) return dflt;
  const c = choices.find((x) => x === v.toLowerCase());
  if (!c) throw new UsageError(`${command}: --${name} takes ${choices.join(', ')}, not "${v}"`);
  return c;
}

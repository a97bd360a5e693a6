// Command-line flags of the bench scripts, through the command line's one strict parser (src/cli/args.ts):
// each script declares its flags, and a misspelt one stops it with exit code 2 instead of running the
// default benchmark for half an hour.
import { flagHelp, parseFlags, UsageError, type FlagSpecs } from '../../src/cli/args.js';

export interface BenchArgs {
  /** The raw arguments, for the command line a report records. */
  argv: string[];
  str(name: string): string | undefined;
  flag(name: string): boolean;
  num(name: string, dflt: number): number;
}

/** Parses process.argv (or `argv`) against `specs`; prints the flags and exits on --help, exits 2 on a mistake. */
export function benchArgs(script: string, specs: FlagSpecs, argv: string[] = process.argv.slice(2)): BenchArgs {
  let flags: Record<string, unknown>;
  try {
    flags = parseFlags(argv, specs, { command: script }).flags;
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  if (flags.help) {
    process.stdout.write(`Usage: ${script} [flags]\n${flagHelp(specs)}\n`);
    process.exit(0);
  }
  const str = (name: string) => {
    if (!(name in specs)) throw new Error(`${script}: reads --${name}, which it does not declare`);
    return flags[name] as string | undefined;
  };
  return {
    argv,
    str,
    flag: (name) => {
      if (!(name in specs)) throw new Error(`${script}: reads --${name}, which it does not declare`);
      return flags[name] === true;
    },
    num: (name, dflt) => {
      const v = str(name);
      if (v === undefined) return dflt;
      const n = Number(v);
      if (v.trim() === '' || !Number.isFinite(n)) {
        process.stderr.write(`${script}: --${name} must be a number, got "${v}"\n`);
        process.exit(2);
      }
      return n;
    },
  };
}

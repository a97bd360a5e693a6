// A small flag parser: --name value, --name=value, --flag, repeated flags collect into arrays.
export interface ParsedArgs {
  command: string | null;
  positional: string[];
  flags: Record<string, string | boolean | string[]>;
}

export function parseArgs(argv: string[], repeatable: string[] = []): ParsedArgs {
  const out: ParsedArgs = { command: null, positional: [], flags: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq > 0 ? eq : undefined);
      let value: string | boolean;
      if (eq > 0) value = a.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = argv[++i];
      else value = true;
      if (name.startsWith('no-') && value === true) {
        out.flags[name.slice(3)] = false;
        continue;
      }
      if (repeatable.includes(name)) {
        const prev = out.flags[name];
        out.flags[name] = [...(Array.isArray(prev) ? prev : []), String(value)];
      } else out.flags[name] = value;
    } else if (out.command === null) out.command = a;
    else out.positional.push(a);
  }
  return out;
}

export function flagString(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === 'string' ? v : undefined;
}

export function flagInt(args: ParsedArgs, name: string): number | undefined {
  const v = flagString(args, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer, got "${v}"`);
  return n;
}

export interface CliIO {
  out(s: string): void;
  err(s: string): void;
}
export const defaultIO: CliIO = {
  out: (s) => { process.stdout.write(s.endsWith('\n') ? s : `${s}\n`); },
  err: (s) => { process.stderr.write(s.endsWith('\n') ? s : `${s}\n`); },
};
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 2) { super(message); }
}

/** Minimal flag parser: `--flag value`, `--flag=value`, boolean flags, repeated flags, positionals. */
export function parseArgs(args: string[], spec: { bool?: string[]; value?: string[]; multi?: string[] }): { flags: Map<string, string[]>; positional: string[] } {
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  const bools = new Set(spec.bool ?? []);
  const values = new Set([...(spec.value ?? []), ...(spec.multi ?? [])]);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { positional.push(...args.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      if (bools.has(name)) { flags.set(name, ['true']); continue; }
      if (!values.has(name)) throw new CliError(`unknown option '--${name}'`);
      const v = eq > 0 ? a.slice(eq + 1) : args[++i];
      if (v === undefined) throw new CliError(`option '--${name}' needs a value`);
      flags.set(name, [...(flags.get(name) ?? []), v]);
    } else positional.push(a);
  }
  return { flags, positional };
}

/**
 * Flag parsing for the binaries: upstream's `--flag=value` and `--flag value` forms, with typed
 * conversions. Unknown flags are an error, as in upstream's pflag.
 */
import { parseArgs } from 'node:util';

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

export function parseFlags<T extends FlagSpec>(argv: string[], spec: T): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  const { values, positionals } = parseArgs({ args: argv, options: spec, allowPositionals: true, strict: true });
  return { values: values as Record<string, string | boolean | string[] | undefined>, positionals };
}

export function intFlag(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`invalid value ${JSON.stringify(v)} for --${name}: not a number`);
  return n;
}

/** Go-style durations as upstream flags take them: `5m`, `30s`, `1h30m`, `500ms`. */
export function durationFlag(v: unknown, name: string): number | undefined {
  if (v === undefined) return undefined;
  const s = String(v);
  if (s === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    const n = Number(m[1]);
    total += m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
    consumed += m[0].length;
  }
  if (consumed !== s.length || consumed === 0) throw new Error(`invalid duration ${JSON.stringify(s)} for --${name}`);
  return total;
}

/** Runs a component until SIGTERM or SIGINT, exiting non-zero if it fails. */
export function runUntilSignal(main: (signal: AbortSignal) => Promise<void>): void {
  const ac = new AbortController();
  const stop = () => ac.abort();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  main(ac.signal).then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}

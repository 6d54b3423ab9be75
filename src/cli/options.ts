import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { RewindError } from '../domain/errors.js';

/** A positive (or, with allowZero, non-negative) integer option, or a usage error naming it. */
export function positive(value: string, name: string, allowZero = false): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < (allowZero ? 0 : 1)) {
    throw new RewindError('INVALID_NUMBER', `${name} must be a ${allowZero ? 'non-negative' : 'positive'} integer, not "${value}"`);
  }
  return n;
}

/** A TCP port: 0 (random) to 65535. */
export function port(value: string): number {
  const n = positive(value, '--port', true);
  if (n > 65535) throw new RewindError('INVALID_PORT', `--port must be at most 65535, not ${n}`);
  return n;
}

/** The data directory: --data, else REWIND_DATA, else ~/.rewind. */
export function dataDir(given: string | undefined, env: Readonly<Record<string, string | undefined>>): string {
  return resolve(given || env.REWIND_DATA || join(homedir(), '.rewind'));
}

/** `KEY=VALUE` arguments of `env set` (the value may contain `=`). */
export function parseAssignments(args: readonly string[]): Record<string, string> {
  // A Map, then fromEntries: `__proto__=x` is a key like any other, not a prototype assignment.
  const set = new Map<string, string>();
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw new RewindError('INVALID_KEY_VALUE', `"${arg}" is not KEY=VALUE; e.g. rewind env set FOO=bar`);
    set.set(arg.slice(0, eq), arg.slice(eq + 1));
  }
  return Object.fromEntries(set);
}

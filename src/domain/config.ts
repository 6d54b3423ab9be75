import { CONFIG_KEY } from './ids.js';
import { RewindError } from './errors.js';
import { hasKey, mapOf, recordOf, valueOf } from './records.js';

/** Environment variables of a release. Plain readonly record, sorted keys when stored. */
export type Config = Readonly<Record<string, string>>;

export interface ConfigDiff {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

export function diffConfig(from: Config, to: Config): ConfigDiff {
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const k of Object.keys(to).sort()) {
    if (!hasKey(from, k)) added.push(k);
    else if (valueOf(from, k) !== valueOf(to, k)) changed.push(k);
  }
  for (const k of Object.keys(from).sort()) if (!hasKey(to, k)) removed.push(k);
  return { added, changed, removed };
}

export const isEmptyDiff = (d: ConfigDiff) => d.added.length + d.changed.length + d.removed.length === 0;

/** Convox's release description for a config change: `env add:FOO change:BAR remove:BAZ`. */
export function describeConfigDiff(d: ConfigDiff): string {
  const parts = [...d.added.map((k) => `add:${k}`), ...d.changed.map((k) => `change:${k}`), ...d.removed.map((k) => `remove:${k}`)];
  return ['env', ...parts].join(' ');
}

export function applyConfigChange(base: Config, set: Readonly<Record<string, string>>, unset: readonly string[]): Config {
  const problems: string[] = [];
  for (const k of [...Object.keys(set), ...unset]) {
    if (!CONFIG_KEY.test(k)) problems.push(`"${k}" is not a valid variable name (letters, digits and _, not starting with a digit)`);
  }
  for (const k of unset) if (!hasKey(base, k)) problems.push(`${k} is not set`);
  if (problems.length) throw new RewindError('INVALID_CONFIG', problems.join('; '));
  const next = mapOf(base);
  for (const [k, v] of Object.entries(set)) next.set(k, v);
  for (const k of unset) next.delete(k);
  return sortConfig(recordOf(next));
}

export function sortConfig(c: Record<string, string>): Config {
  return Object.freeze(Object.fromEntries(Object.entries(c).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

const SECRET = /(SECRET|TOKEN|PASSWORD|PASSWD|KEY|CREDENTIAL|PRIVATE|DATABASE_URL|_URL$)/i;

/** Values of keys that look secret are masked in plans and diffs. */
export function maskValue(key: string, value: string): string {
  return SECRET.test(key) ? '********' : value;
}

/** Parses `K=V` arguments; the value may contain `=`. */
export function parseAssignments(args: readonly string[]): Record<string, string> {
  const out = new Map<string, string>();
  for (const a of args) {
    const i = a.indexOf('=');
    if (i <= 0) throw new RewindError('INVALID_KEY_VALUE', `"${a}" is not KEY=VALUE; write it as ${a || 'KEY'}=value`);
    out.set(a.slice(0, i), a.slice(i + 1));
  }
  return recordOf(out);
}

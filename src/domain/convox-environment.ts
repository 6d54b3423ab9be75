/** convox.yml's `environment:` lists: read into the variables the build reports (not applied), and the build-log lines about them. */
import { isSeq } from 'yaml';
import type { Node } from 'yaml';
import { CONFIG_KEY } from './ids.js';
import type { ManifestVariable } from './manifest-types.js';
import { deref, describe, describeText, scalarValue } from './manifest-yaml.js';
import type { Field, Reading } from './convox-reading.js';

/**
 * Build-log lines for convox.yml's `environment:`: Rewind does not apply its defaults (config is
 * what `rewind env` shows, set by a person); it says which keys the environment lacks, and how to set them.
 */
export function environmentNote(variables: readonly ManifestVariable[], config: Readonly<Record<string, string>>, env: string): string[] {
  const set = variables.filter((v) => Object.hasOwn(config, v.key));
  const unset = variables.filter((v) => !Object.hasOwn(config, v.key));
  const lines: string[] = [];
  if (set.length > 0) lines.push(`environment: ${set.map((v) => v.key).join(', ')} set in ${env}`);
  if (unset.length > 0) {
    const assignments = unset.map((v) => (v.value === undefined ? `${v.key}=…` : shellWord(`${v.key}=${v.value}`)));
    lines.push(
      `environment: ${unset.map((v) => v.key).join(', ')} not set in ${env} (convox.yml defaults are not applied): rewind env set ${assignments.join(' ')}`,
    );
  }
  return lines;
}

/** `environment: [KEY, KEY=default]`, at the top or in a service: collected once per key (the first default wins). */
export function readEnvironment(r: Reading, path: string, field: Field): void {
  const { ctx } = r;
  if (!isSeq(field.node)) {
    ctx.issues.add(field.node ?? field.pair.key, path, `must be a list of KEY or KEY=default, got ${describe(ctx, field.node)}`);
    return;
  }
  for (const item of field.node.items) {
    const node = deref(ctx, item as Node | null);
    const v = scalarValue(node);
    if (typeof v !== 'string') {
      ctx.issues.add(node, path, `must be a list of KEY or KEY=default, got an entry ${describe(ctx, node)}`);
      continue;
    }
    const eq = v.indexOf('=');
    const key = (eq < 0 ? v : v.slice(0, eq)).trim();
    if (!CONFIG_KEY.test(key)) {
      ctx.issues.add(node, path, `has ${describeText(key)}, not a valid variable name (letters, digits and _, not starting with a digit)`);
      continue;
    }
    if (!r.variables.has(key)) r.variables.set(key, Object.freeze(eq < 0 ? { key } : { key, value: v.slice(eq + 1) }));
  }
}

/** KEY=value as one shell word for the suggested command (single-quoted when it needs to be). */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]*$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

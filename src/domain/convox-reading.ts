/** The state of reading one `convox.yml`: its notes and variables so far, and the keys not understood (named once in the notes). */
import type { Node, Pair } from 'yaml';
import type { ManifestVariable } from './manifest-types.js';
import type { Ctx } from './manifest-yaml.js';

/** One key of a service's settings: its pair (for the key's line) and its value. */
export type Field = { pair: Pair<unknown, unknown>; node: Node | null };

export interface Reading {
  readonly ctx: Ctx;
  readonly notes: string[];
  readonly variables: Map<string, ManifestVariable>;
  /** Not understood: top-level keys, and service keys (`scale.memory`) with the services that have them; first line kept for order. */
  readonly unknownTop: Map<string, number>;
  readonly unknownInServices: Map<string, { line: number; services: string[] }>;
}

/** Records a service key not understood: the services that have it, and the line it first appears on. */
export function noteUnknownKey(r: Reading, key: string, service: string, at: unknown): void {
  const seen = r.unknownInServices.get(key);
  if (seen) {
    if (!seen.services.includes(service)) seen.services.push(service);
  } else r.unknownInServices.set(key, { line: r.ctx.issues.lineOf(at), services: [service] });
}

/** One line naming every key not understood, each once, in the order they first appear. */
export function unknownNote(r: Reading): string | undefined {
  const top = [...r.unknownTop.entries()].sort((a, b) => a[1] - b[1]).map(([k]) => k);
  const inServices = [...r.unknownInServices.entries()].sort((a, b) => a[1].line - b[1].line).map(([k, v]) => `${k} (${v.services.join(', ')})`);
  const parts = [...(top.length > 0 ? [top.join(', ')] : []), ...(inServices.length > 0 ? [`in services: ${inServices.join(', ')}`] : [])];
  return parts.length > 0 ? `not understood, ignored: ${parts.join('; ')}` : undefined;
}

import { isMap } from 'yaml';
import type { Node, Pair } from 'yaml';
import type { ComponentSpec, Manifest, ManifestVariable } from './manifest-types.js';
import { deref, describe, isNothing, keyOf, parseYaml } from './manifest-yaml.js';
import { readEnvironment } from './convox-environment.js';
import { unknownNote } from './convox-reading.js';
import type { Reading } from './convox-reading.js';
import { readService } from './convox-service.js';

/**
 * A Convox `convox.yml`, read as a Rewind manifest: each service with a command becomes a
 * component (build path, command, port, health, scale; convox-service.ts); `environment:` is reported,
 * not applied (convox-environment.ts); what has no Rewind meaning (resources, timers, images, …) is
 * named in the notes for the build log.
 */

export { environmentNote } from './convox-environment.js';

export interface ConvoxReading {
  readonly manifest: Manifest;
  readonly notes: readonly string[];
  readonly variables: readonly ManifestVariable[];
}

/** Parses `convox.yml`. Throws INVALID_MANIFEST listing every problem with its line. */
export function parseConvoxManifest(text: string, file = 'convox.yml'): ConvoxReading {
  const ctx = parseYaml(text, file);
  const { doc, issues } = ctx;
  const r: Reading = { ctx, notes: [], variables: new Map(), unknownTop: new Map(), unknownInServices: new Map() };
  const root = deref(ctx, doc.contents as Node | null);
  if (isNothing(root) || !isMap(root)) {
    issues.add(root, '', `the manifest must be a map with a "services:" key, got ${describe(ctx, root)}`);
    issues.throwIfAny();
  }
  let servicesPair: Pair<unknown, unknown> | undefined;
  for (const pair of (root as { items: Pair<unknown, unknown>[] }).items) {
    const key = keyOf(ctx, pair);
    if (key === 'services') servicesPair = pair;
    else if (key === 'environment') readEnvironment(r, 'environment', { pair, node: deref(ctx, pair.value as Node | null) });
    else if (!r.unknownTop.has(key)) r.unknownTop.set(key, ctx.issues.lineOf(pair.key));
  }
  const components: Record<string, ComponentSpec> = {};
  const servicesNode = servicesPair ? deref(ctx, servicesPair.value as Node | null) : null;
  if (!servicesPair) {
    issues.add(root, 'services', 'is missing; declare at least one service with a command, e.g. "services: { web: { command: node server.js, port: 3000 } }"');
  } else if (!isMap(servicesNode)) {
    issues.add(servicesNode ?? servicesPair.key, 'services', `must be a map of service names to settings, got ${describe(ctx, servicesNode)}`);
  } else if (servicesNode.items.length === 0) {
    issues.add(servicesNode, 'services', 'must declare at least one service');
  } else {
    for (const pair of servicesNode.items) {
      const spec = readService(r, pair);
      if (spec) components[spec.name] = spec;
    }
    if (Object.keys(components).length === 0 && issues.count === 0) {
      issues.addAt(1, '', 'declares no service Rewind can run (images are not supported yet); add a service with a command');
    }
  }
  issues.throwIfAny();
  const notUnderstood = unknownNote(r);
  return Object.freeze({
    manifest: Object.freeze({ components: Object.freeze(components) }),
    notes: Object.freeze(notUnderstood ? [...r.notes, notUnderstood] : r.notes),
    variables: Object.freeze([...r.variables.values()]),
  });
}

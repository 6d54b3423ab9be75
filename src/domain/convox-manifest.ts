import { isMap, isScalar, isSeq } from 'yaml';
import type { Node, Pair } from 'yaml';
import { CONFIG_KEY } from './ids.js';
import type { ComponentSpec, Manifest, ManifestVariable } from './manifest.js';
import {
  DEFAULT_HEALTH_INTERVAL_S,
  DEFAULT_HEALTH_TIMEOUT_S,
  MAX_HEALTH_INTERVAL_S,
  MAX_HEALTH_TIMEOUT_S,
  MAX_SCALE,
  checkHealthPath,
  componentEntry,
  component,
  defaultHealth,
  deref,
  describe,
  describeText,
  healthSpec,
  isNothing,
  keyOf,
  normalizeRelative,
  parseYaml,
  portNote,
  portNumber,
  scalarValue,
} from './manifest-yaml.js';
import type { Ctx } from './manifest-yaml.js';

/**
 * A Convox `convox.yml`, read as a Rewind manifest: each service with a command becomes a
 * component (build path, command, port, health, scale); `environment:` is reported, not applied;
 * what has no Rewind meaning (resources, timers, images, …) is named in the notes for the build log.
 */

export interface ConvoxReading {
  readonly manifest: Manifest;
  readonly notes: readonly string[];
  readonly variables: readonly ManifestVariable[];
}

type Field = { pair: Pair<unknown, unknown>; node: Node | null };

/** Keys read by Rewind; any other key is named once in the notes as not understood. */
const SERVICE_KEYS = ['build', 'command', 'port', 'health', 'scale', 'environment', 'image'];

interface Reading {
  readonly ctx: Ctx;
  readonly notes: string[];
  readonly variables: Map<string, ManifestVariable>;
  /** Not understood: top-level keys, and service keys (`scale.memory`) with the services that have them; first line kept for order. */
  readonly unknownTop: Map<string, number>;
  readonly unknownInServices: Map<string, { line: number; services: string[] }>;
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

function readService(r: Reading, pair: Pair<unknown, unknown>): ComponentSpec | undefined {
  const { ctx } = r;
  const { issues } = ctx;
  const entry = componentEntry(ctx, pair, { section: 'services', noun: 'service', example: 'command: bin/web' });
  if (!entry) return undefined;
  const { name, path, node } = entry;
  const fields = new Map<string, Field>();
  if (isMap(node)) {
    for (const p of node.items) {
      const key = keyOf(ctx, p);
      if (SERVICE_KEYS.includes(key)) fields.set(key, { pair: p, node: deref(ctx, p.value as Node | null) });
      else unknown(r, key, name, p.key);
    }
  }
  const image = fields.get('image');
  if (image) {
    r.notes.push(
      `${name}: image ${String(scalarValue(image.node) ?? describe(ctx, image.node))} is not supported yet (Rewind runs commands from the source, not images); not deployed`,
    );
    return undefined;
  }

  const before = issues.count;
  const dir = readBuild(r, name, fields.get('build'));
  const command = text(ctx, `${path}.command`, fields.get('command'));
  if (!fields.has('command')) issues.add(pair.key, path, 'needs a command (Rewind builds no image from a Dockerfile: write the command its CMD runs)');
  const port = readPort(r, name, fields.get('port'));
  const scale = readScale(r, name, fields.get('scale'));
  const health = readHealth(r, name, fields.get('health'), port);
  const env = fields.get('environment');
  if (env) readEnvironment(r, `${path}.environment`, env);
  if (issues.count > before || command === undefined) return undefined;
  return component({ name, command, ...(dir !== undefined && { path: dir }), port, health, scale });
}

/** `build: ./api` or `build: { path, manifest }`: the component's folder; Rewind builds no image, so `manifest` (a Dockerfile) is not used. */
function readBuild(r: Reading, name: string, field: Field | undefined): string | undefined {
  if (!field) return undefined;
  const path = `services.${name}.build`;
  let dirField: Field | undefined = field;
  if (isMap(field.node)) {
    dirField = undefined;
    for (const p of field.node.items) {
      const key = keyOf(r.ctx, p);
      const f = { pair: p, node: deref(r.ctx, p.value as Node | null) };
      if (key === 'path') dirField = f;
      else if (key === 'manifest') {
        r.notes.push(
          `${name}: build.manifest ${String(scalarValue(f.node))} is not used: Rewind builds no image, it runs the command on the files of build.path`,
        );
      } else unknown(r, `build.${key}`, name, p.key);
    }
  }
  const raw = text(r.ctx, dirField === field ? path : `${path}.path`, dirField);
  if (raw === undefined) return undefined;
  const normalized = normalizeRelative(raw);
  if (normalized === null) {
    r.ctx.issues.add(
      dirField!.node,
      dirField === field ? path : `${path}.path`,
      `must be a folder inside the source (relative, without ..), got ${describeText(raw)}`,
    );
    return undefined;
  }
  return normalized === '.' ? undefined : normalized;
}

/** `port: 3000` (or `https:3000`): the service serves HTTP; the number is informational, the app gets $PORT. */
function readPort(r: Reading, name: string, field: Field | undefined): boolean {
  if (!field) return false;
  const v = scalarValue(field.node);
  const m = typeof v === 'string' ? /^(?:https?:)?(\d+)$/.exec(v.trim()) : null;
  const declared = m ? portNumber(Number(m[1])) : portNumber(v);
  if (declared === null) {
    r.ctx.issues.add(field.node ?? field.pair.key, `services.${name}.port`, `must be a port number like 3000, got ${describe(r.ctx, field.node)}`);
    return false;
  }
  r.notes.push(portNote(name, declared));
  return true;
}

/** `scale: 2` or `scale: { count: 2 }` (a range `1-3` runs its minimum); memory, cpu and targets have no Rewind meaning. */
function readScale(r: Reading, name: string, field: Field | undefined): number {
  if (!field) return 1;
  let path = `services.${name}.scale`;
  let count: Field | undefined = field;
  if (isMap(field.node)) {
    count = undefined;
    for (const p of field.node.items) {
      const key = keyOf(r.ctx, p);
      if (key === 'count') count = { pair: p, node: deref(r.ctx, p.value as Node | null) };
      else unknown(r, `scale.${key}`, name, p.key);
    }
    path = `${path}.count`;
    if (!count) return 1;
  }
  let v = scalarValue(count.node);
  const range = typeof v === 'string' ? /^(\d+)-(\d+)$/.exec(v.trim()) : null;
  if (range) {
    v = Number(range[1]);
    r.notes.push(`${name}: scale.count ${range[0]} is an autoscaling range; Rewind runs ${v}`);
  }
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_SCALE) return v;
  r.ctx.issues.add(count.node ?? count.pair.key, path, `must be a whole number from 1 to ${MAX_SCALE}, got ${describe(r.ctx, count.node)}`);
  return 1;
}

/**
 * `health: /check` or `{ path, interval, grace, timeout }`. Convox's grace (boot time) plus timeout
 * (one check's limit) is when a healthy service has answered: Rewind waits that long, at least its default 30 s.
 */
function readHealth(r: Reading, name: string, field: Field | undefined, port: boolean) {
  if (!field) return defaultHealth();
  const { ctx } = r;
  const path = `services.${name}.health`;
  let healthPath: string | undefined;
  let pathNode: Node | null = field.node;
  let interval = DEFAULT_HEALTH_INTERVAL_S;
  let wait = 0;
  const seconds = (p: Pair<unknown, unknown>, key: string, max: number, zeroOk: boolean): number | undefined => {
    const at = deref(ctx, p.value as Node | null);
    const v = scalarValue(at);
    if (typeof v === 'number' && Number.isFinite(v) && (zeroOk ? v >= 0 : v > 0) && v <= max) return v;
    ctx.issues.add(at ?? p.key, `${path}.${key}`, `must be a number of seconds ${zeroOk ? 'from 0' : 'above 0'} and at most ${max}, got ${describe(ctx, at)}`);
    return undefined;
  };
  if (isMap(field.node)) {
    for (const p of field.node.items) {
      const key = keyOf(ctx, p);
      if (key === 'path') {
        pathNode = deref(ctx, p.value as Node | null);
        healthPath = checkHealthPath(ctx, scalarValue(pathNode), pathNode, p.key, `${path}.path`);
      } else if (key === 'interval') interval = seconds(p, key, MAX_HEALTH_INTERVAL_S, false) ?? interval;
      else if (key === 'grace' || key === 'timeout') wait += seconds(p, key, MAX_HEALTH_TIMEOUT_S, true) ?? 0;
      else unknown(r, `health.${key}`, name, p.key);
    }
  } else if (isScalar(field.node) && typeof field.node.value === 'string') {
    healthPath = checkHealthPath(ctx, field.node.value, field.node, field.pair.key, path);
  } else {
    ctx.issues.add(
      field.node ?? field.pair.key,
      path,
      `must be a path like /health or a map with path, interval, grace and timeout, got ${describe(ctx, field.node)}`,
    );
  }
  if (healthPath !== undefined && !port) {
    ctx.issues.add(pathNode, path, 'has an HTTP path but the service has no port; add "port: 3000" or remove the path');
  }
  return healthSpec(healthPath, Math.min(MAX_HEALTH_TIMEOUT_S, Math.max(DEFAULT_HEALTH_TIMEOUT_S, wait)), interval);
}

/** `environment: [KEY, KEY=default]`, at the top or in a service: collected once per key (the first default wins). */
function readEnvironment(r: Reading, path: string, field: Field): void {
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

function text(ctx: Ctx, path: string, field: Field | undefined): string | undefined {
  if (!field) return undefined;
  const v = scalarValue(field.node);
  if (typeof v !== 'string' || v.trim() === '') {
    ctx.issues.add(field.node ?? field.pair.key, path, `must be text, got ${describe(ctx, field.node)}`);
    return undefined;
  }
  return v.trim();
}

function unknown(r: Reading, key: string, service: string, at: unknown): void {
  const seen = r.unknownInServices.get(key);
  if (seen) {
    if (!seen.services.includes(service)) seen.services.push(service);
  } else r.unknownInServices.set(key, { line: r.ctx.issues.lineOf(at), services: [service] });
}

/** One line naming every key not understood, each once, in the order they first appear. */
function unknownNote(r: Reading): string | undefined {
  const top = [...r.unknownTop.entries()].sort((a, b) => a[1] - b[1]).map(([k]) => k);
  const inServices = [...r.unknownInServices.entries()].sort((a, b) => a[1].line - b[1].line).map(([k, v]) => `${k} (${v.services.join(', ')})`);
  const parts = [...(top.length > 0 ? [top.join(', ')] : []), ...(inServices.length > 0 ? [`in services: ${inServices.join(', ')}`] : [])];
  return parts.length > 0 ? `not understood, ignored: ${parts.join('; ')}` : undefined;
}

/** KEY=value as one shell word for the suggested command (single-quoted when it needs to be). */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]*$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** One service of a `convox.yml` read as a Rewind component: its build folder, command, port, scale and health. */
import { isMap, isScalar } from 'yaml';
import type { Node, Pair } from 'yaml';
import type { ComponentSpec } from './manifest-types.js';
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
  keyOf,
  normalizeRelative,
  portNote,
  portNumber,
  scalarValue,
} from './manifest-yaml.js';
import type { Ctx } from './manifest-yaml.js';
import { readEnvironment } from './convox-environment.js';
import { noteUnknownKey } from './convox-reading.js';
import type { Field, Reading } from './convox-reading.js';

/** Keys read by Rewind; any other key is named once in the notes as not understood. */
const SERVICE_KEYS = ['build', 'command', 'port', 'health', 'scale', 'environment', 'image'];

/** A service with a command as a component; undefined with its problems recorded, or for an image (named in the notes). */
export function readService(r: Reading, pair: Pair<unknown, unknown>): ComponentSpec | undefined {
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
      else noteUnknownKey(r, key, name, p.key);
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
      } else noteUnknownKey(r, `build.${key}`, name, p.key);
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
      else noteUnknownKey(r, `scale.${key}`, name, p.key);
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
      else noteUnknownKey(r, `health.${key}`, name, p.key);
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

function text(ctx: Ctx, path: string, field: Field | undefined): string | undefined {
  if (!field) return undefined;
  const v = scalarValue(field.node);
  if (typeof v !== 'string' || v.trim() === '') {
    ctx.issues.add(field.node ?? field.pair.key, path, `must be text, got ${describe(ctx, field.node)}`);
    return undefined;
  }
  return v.trim();
}

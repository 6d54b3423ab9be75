/** `rewind.yml` read as a manifest: the YAML tree walked into components, each setting checked, every problem collected with its line. */
import { isMap, isScalar } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import type { HealthSpec } from './health.js';
import {
  DEFAULT_HEALTH_INTERVAL_S,
  DEFAULT_HEALTH_TIMEOUT_S,
  MAX_HEALTH_INTERVAL_S,
  MAX_HEALTH_TIMEOUT_S,
  MAX_SCALE,
  checkHealthPath,
  componentEntry,
  component,
  deepFreeze,
  defaultHealth,
  deref,
  describe,
  describeText,
  healthSpec,
  keyOf,
  normalizeRelative,
  parseYaml,
  portNote,
  portNumber,
  scalarValue,
  toJS,
} from './manifest-yaml.js';
import type { Ctx, Issues } from './manifest-yaml.js';
import type { ComponentSpec, Manifest } from './manifest-types.js';
import { parseImageRef } from './image-ref.js';

export const COMPONENT_KEYS = ['build', 'command', 'image', 'path', 'port', 'health', 'scale', 'static'] as const;
export const HEALTH_KEYS = ['path', 'timeout', 'interval'] as const;
export const TOP_LEVEL_KEYS = ['components', 'pipelines'] as const;

/** One known key of a component's settings: its pair (for the key's line) and its value. */
type Field = { pair: Pair<unknown, unknown>; node: Node | null };

/** Parses `rewind.yml`. Throws INVALID_MANIFEST listing every problem with its line. */
export function parseManifest(text: string, file = 'rewind.yml'): Manifest {
  return readRewindYml(text, file).manifest;
}

/** Parses `rewind.yml`, with the notes for the build log (a port number is informational). */
export function readRewindYml(text: string, file = 'rewind.yml'): { manifest: Manifest; notes: string[] } {
  const { doc, issues } = parseYaml(text, file);
  const notes: string[] = [];
  const manifest = readManifest(doc, issues, notes);
  issues.throwIfAny();
  return { manifest: manifest!, notes };
}

function readManifest(doc: Document, issues: Issues, notes: string[]): Manifest | undefined {
  const ctx: Ctx = { doc, issues };
  const root = deref(ctx, doc.contents as Node | null);
  if (root === null || (isScalar(root) && root.value === null)) {
    issues.add(root, '', 'the manifest is empty; declare at least one component under "components:" (see examples/hello)');
    return undefined;
  }
  if (!isMap(root)) {
    issues.add(root, '', `the manifest must be a map with a "components:" key, got ${describe(ctx, root)}`);
    return undefined;
  }

  let componentsPair: Pair<unknown, unknown> | undefined;
  let pipelines: unknown;
  for (const pair of root.items) {
    const key = keyOf(ctx, pair);
    if (key === 'components') componentsPair = pair;
    else if (key === 'pipelines') pipelines = deepFreeze(toJS(ctx, pair.value));
    else issues.add(pair.key, key, `is not a known key (known: ${TOP_LEVEL_KEYS.join(', ')})`);
  }

  if (!componentsPair) {
    issues.add(root, 'components', 'is missing; declare at least one component, e.g. "components: { web: { command: node server.js } }"');
    return undefined;
  }
  const componentsNode = deref(ctx, componentsPair.value as Node | null);
  const where = componentsNode ?? componentsPair.key;
  if (componentsNode === null || (isScalar(componentsNode) && componentsNode.value === null)) {
    issues.add(where, 'components', 'must declare at least one component');
    return undefined;
  }
  if (!isMap(componentsNode)) {
    issues.add(where, 'components', `must be a map of component names to settings, got ${describe(ctx, componentsNode)}`);
    return undefined;
  }
  if (componentsNode.items.length === 0) {
    issues.add(where, 'components', 'must declare at least one component');
    return undefined;
  }

  const components: Record<string, ComponentSpec> = {};
  for (const pair of componentsNode.items) {
    const spec = readComponent(ctx, pair, notes);
    if (spec) components[spec.name] = spec;
  }
  const manifest: Manifest = pipelines === undefined ? { components: Object.freeze(components) } : { components: Object.freeze(components), pipelines };
  return Object.freeze(manifest);
}

function readComponent(ctx: Ctx, pair: Pair<unknown, unknown>, notes: string[]): ComponentSpec | undefined {
  const { issues } = ctx;
  const entry = componentEntry(ctx, pair, { section: 'components', noun: 'component', example: 'command: node server.js' });
  if (!entry) return undefined;
  const { name, path, node } = entry;

  const before = issues.count;
  const fields = componentFields(ctx, path, node);
  const command = readText(ctx, path, fields, 'command');
  const image = readImage(ctx, path, fields);
  const build = readText(ctx, path, fields, 'build');
  const staticDir = readFolder(ctx, path, fields, 'static');
  const folder = readFolder(ctx, path, fields, 'path');
  const dir = folder === '.' ? undefined : folder;
  // Static components are served over HTTP by the agent.
  const port = readPort(ctx, name, path, fields.get('port'), notes, name === 'web' || fields.has('static'));
  const scale = readScale(ctx, path, fields.get('scale'));
  const health = readHealth(ctx, path, fields.get('health'), port);

  checkKind(ctx, pair, path, fields);

  if (issues.count > before) return undefined;
  return component({
    name,
    ...(command !== undefined && { command }),
    ...(image !== undefined && { image }),
    ...(build !== undefined && { build }),
    ...(dir !== undefined && { path: dir }),
    ...(staticDir !== undefined && { static: staticDir }),
    port,
    health,
    scale,
  });
}

/** A component runs a command, serves a static folder, or runs an image: exactly one of them. */
function checkKind(ctx: Ctx, pair: Pair<unknown, unknown>, path: string, fields: Map<string, Field>): void {
  const commandField = fields.get('command');
  const imageField = fields.get('image');
  if (imageField) {
    const others = (['command', 'build', 'static', 'path'] as const).filter((k) => fields.has(k));
    if (others.length > 0) {
      ctx.issues.add(imageField.pair.key, path, `has both image and ${others.join(', ')}; an image component runs its image and has no ${others.join(', ')}`);
    }
  } else if (commandField && fields.has('static')) {
    ctx.issues.add(commandField.pair.key, path, 'has both command and static; a static component serves files and runs no command');
  } else if (!commandField && !fields.has('static')) {
    ctx.issues.add(pair.key, path, 'needs a command (or static: FOLDER, or image: IMAGE)');
  }
}

/** `image:`: a container image reference Docker would accept (`NAME[:TAG]`, `REGISTRY/NAME[:TAG][@sha256:…]`, `sha256:…`). */
function readImage(ctx: Ctx, path: string, fields: Map<string, Field>): string | undefined {
  const ref = readText(ctx, path, fields, 'image');
  if (ref === undefined) return undefined;
  if (parseImageRef(ref) === null) {
    ctx.issues.add(
      fields.get('image')!.node,
      `${path}.image`,
      `must be an image reference like rewind-test/web:1.12 or HOST:PORT/NAME:TAG (lowercase name, optional tag and @sha256 digest), got ${describeText(ref)}`,
    );
    return undefined;
  }
  return ref;
}

/** The known keys of a component's settings; any other key is an issue. */
function componentFields(ctx: Ctx, path: string, node: Node | null): Map<string, Field> {
  const fields = new Map<string, Field>();
  if (isMap(node)) {
    for (const p of node.items) {
      const key = keyOf(ctx, p);
      if ((COMPONENT_KEYS as readonly string[]).includes(key)) fields.set(key, { pair: p, node: deref(ctx, p.value as Node | null) });
      else ctx.issues.add(p.key, `${path}.${key}`, `is not a known key (known: ${COMPONENT_KEYS.join(', ')})`);
    }
  }
  return fields;
}

/** A setting that must be non-empty text, trimmed; undefined when absent or wrong (with an issue). */
function readText(ctx: Ctx, path: string, fields: Map<string, Field>, key: string): string | undefined {
  const f = fields.get(key);
  if (!f) return undefined;
  const v = scalarValue(f.node);
  if (typeof v !== 'string') {
    ctx.issues.add(f.node ?? f.pair.key, `${path}.${key}`, `must be text, got ${describe(ctx, f.node)}`);
    return undefined;
  }
  if (v.trim() === '') {
    ctx.issues.add(f.node ?? f.pair.key, `${path}.${key}`, 'must not be empty');
    return undefined;
  }
  return v.trim();
}

/** A folder inside the source (`static:`, `path:`), normalized ('.' for the root); undefined when absent or wrong. */
function readFolder(ctx: Ctx, path: string, fields: Map<string, Field>, key: 'static' | 'path'): string | undefined {
  const text = readText(ctx, path, fields, key);
  if (text === undefined) return undefined;
  const normalized = normalizeRelative(text);
  if (normalized === null) {
    ctx.issues.add(fields.get(key)!.node, `${path}.${key}`, `must be a folder inside the source (relative, without ..), got ${describeText(text)}`);
    return undefined;
  }
  return normalized;
}

/** `port: true|false`, or a number (as Convox writes it), which only says the component serves HTTP: it still gets $PORT. */
function readPort(ctx: Ctx, name: string, path: string, field: Field | undefined, notes: string[], byDefault: boolean): boolean {
  if (!field) return byDefault;
  const v = scalarValue(field.node);
  const declared = portNumber(v);
  if (typeof v === 'boolean') return v;
  if (declared !== null) {
    notes.push(portNote(name, declared));
    return true;
  }
  ctx.issues.add(
    field.node ?? field.pair.key,
    `${path}.port`,
    `must be true, false or a port number from 1 to 65535 (the app listens on $PORT), got ${describe(ctx, field.node)}`,
  );
  return byDefault;
}

function readScale(ctx: Ctx, path: string, field: Field | undefined): number {
  if (!field) return 1;
  const v = scalarValue(field.node);
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_SCALE) return v;
  ctx.issues.add(field.node ?? field.pair.key, `${path}.scale`, `must be a whole number from 1 to ${MAX_SCALE}, got ${describe(ctx, field.node)}`);
  return 1;
}

function readHealth(ctx: Ctx, componentPath: string, field: Field | undefined, port: boolean): HealthSpec {
  const { issues } = ctx;
  const path = `${componentPath}.health`;
  if (!field) return defaultHealth();
  const { node } = field;
  let healthPath: string | undefined;
  let healthPathNode: Node | null = node;
  let timeout = DEFAULT_HEALTH_TIMEOUT_S;
  let interval = DEFAULT_HEALTH_INTERVAL_S;

  const checkPath = (v: unknown, at: Node | null, p: string) => checkHealthPath(ctx, v, at, field.pair.key, p);
  const seconds = (key: 'timeout' | 'interval', p: Pair<unknown, unknown>, max: number, fallback: number): number => {
    const at = deref(ctx, p.value as Node | null);
    const v = scalarValue(at);
    if (typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= max) return v;
    issues.add(at ?? p.key, `${path}.${key}`, `must be a number of seconds above 0 and at most ${max}, got ${describe(ctx, at)}`);
    return fallback;
  };

  if (isMap(node)) {
    for (const p of node.items) {
      const key = keyOf(ctx, p);
      if (key === 'path') {
        healthPathNode = deref(ctx, p.value as Node | null);
        healthPath = checkPath(scalarValue(healthPathNode), healthPathNode, `${path}.path`);
      } else if (key === 'timeout') timeout = seconds('timeout', p, MAX_HEALTH_TIMEOUT_S, timeout);
      else if (key === 'interval') interval = seconds('interval', p, MAX_HEALTH_INTERVAL_S, interval);
      else issues.add(p.key, `${path}.${key}`, `is not a known key (known: ${HEALTH_KEYS.join(', ')})`);
    }
  } else if (isScalar(node) && typeof node.value === 'string') {
    healthPath = checkPath(node.value, node, path);
  } else {
    issues.add(node ?? field.pair.key, path, `must be a path like /health or a map with path, timeout and interval, got ${describe(ctx, node)}`);
  }

  if (healthPath !== undefined && !port) {
    issues.add(healthPathNode, path, 'has an HTTP path but the component has no port; set "port: true" or remove the path');
  }
  return healthSpec(healthPath, timeout, interval);
}

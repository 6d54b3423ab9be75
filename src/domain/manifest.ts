import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import { RewindError } from './errors.js';
import type { HealthSpec } from '../protocol/agent-protocol.js';

/**
 * The app manifest: `rewind.yml` at the source root, or a `Procfile` as a fallback.
 * Pure: parse → normalize → rules, collecting every error with its line so that a
 * user fixes them all in one go.
 */

export interface ComponentSpec {
  readonly name: string;
  /** Shell command line, run as ['/bin/sh', '-c', command] (see buildCommandArgv). Absent for static components. */
  readonly command?: string;
  /** Command run at build time in the component's folder. */
  readonly build?: string;
  /**
   * The component's source folder, relative to the source root (absent: the root). Its files alone
   * make the component's build and decide, by content hash, whether a deploy rebuilds it.
   */
  readonly path?: string;
  /** Folder (relative to the component's folder) served as files instead of a process. */
  readonly static?: string;
  /** Serves HTTP on $PORT. */
  readonly port: boolean;
  readonly health: HealthSpec;
  readonly scale: number;
}

export interface Manifest {
  readonly components: Readonly<Record<string, ComponentSpec>>;
  /** Reserved for release pipelines; accepted as-is and not interpreted yet. */
  readonly pipelines?: unknown;
}

/** One problem in a manifest. `path` is the dotted key path (`components.web.scale`), '' for the whole file. */
export interface ManifestIssue {
  readonly line: number;
  readonly path: string;
  readonly message: string;
}

export const COMPONENT_NAME = /^[a-z][a-z0-9-]{0,30}$/;
export const COMPONENT_KEYS = ['build', 'command', 'path', 'port', 'health', 'scale', 'static'] as const;
export const HEALTH_KEYS = ['path', 'timeout', 'interval'] as const;
export const TOP_LEVEL_KEYS = ['components', 'pipelines'] as const;
export const MAX_SCALE = 20;
export const DEFAULT_HEALTH_TIMEOUT_S = 30;
export const DEFAULT_HEALTH_INTERVAL_S = 0.5;
const MAX_HEALTH_TIMEOUT_S = 3600;
const MAX_HEALTH_INTERVAL_S = 60;

const NAME_RULE = 'use lower-case letters, digits and -, starting with a letter, at most 31 characters';

/** The argv that runs a manifest command: commands are data, one executor runs them. */
export function buildCommandArgv(command: string): string[] {
  return ['/bin/sh', '-c', command];
}

/** Parses `rewind.yml`. Throws INVALID_MANIFEST listing every problem with its line. */
export function parseManifest(text: string, file = 'rewind.yml'): Manifest {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const issues = new Issues(file, lineCounter);

  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line;
      issues.addAt(line, '', `invalid YAML: ${firstLine(e.message)}`);
    }
    return issues.throwIfAny() as never;
  }

  const manifest = readManifest(doc, issues);
  issues.throwIfAny();
  return manifest!;
}

/** Parses a Heroku-style `Procfile`: `name: command` per line; `web` serves HTTP. */
export function parseProcfile(text: string, file = 'Procfile'): Manifest {
  const issues = new Issues(file, null);
  const components: Record<string, ComponentSpec> = {};
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = /^([^:\s]+)\s*:(.*)$/.exec(trimmed);
    if (!m) {
      issues.addAt(line, '', `expected "name: command", got ${describeText(trimmed)}`);
      return;
    }
    const name = m[1]!;
    const command = m[2]!.trim();
    if (!COMPONENT_NAME.test(name)) issues.addAt(line, name, `is not a valid process name: ${NAME_RULE}`);
    else if (Object.hasOwn(components, name)) issues.addAt(line, name, 'is declared twice');
    else if (command === '') issues.addAt(line, name, 'needs a command after "name:"');
    else components[name] = component({ name, command, port: name === 'web', health: defaultHealth(), scale: 1 });
  });
  if (Object.keys(components).length === 0 && issues.count === 0) {
    issues.addAt(1, '', 'the Procfile declares no processes; add a line like "web: node server.js"');
  }
  issues.throwIfAny();
  return Object.freeze({ components: Object.freeze(components) });
}

/** Picks the manifest of an uploaded source: `rewind.yml` wins over `Procfile`. */
export function manifestFromFiles(files: { readonly 'rewind.yml'?: string; readonly Procfile?: string }): Manifest {
  if (files['rewind.yml'] !== undefined) return parseManifest(files['rewind.yml'], 'rewind.yml');
  if (files.Procfile !== undefined) return parseProcfile(files.Procfile, 'Procfile');
  throw new RewindError(
    'NO_MANIFEST',
    'no rewind.yml or Procfile at the root of the source; add a rewind.yml (see examples/hello)',
  );
}

// ---------------------------------------------------------------------------------------
// reading the YAML tree

type Ctx = { doc: Document; issues: Issues };

function readManifest(doc: Document, issues: Issues): Manifest | undefined {
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
    const spec = readComponent(ctx, pair);
    if (spec) components[spec.name] = spec;
  }
  const manifest: Manifest = pipelines === undefined
    ? { components: Object.freeze(components) }
    : { components: Object.freeze(components), pipelines };
  return Object.freeze(manifest);
}

function readComponent(ctx: Ctx, pair: Pair<unknown, unknown>): ComponentSpec | undefined {
  const { issues } = ctx;
  const name = keyOf(ctx, pair);
  const path = `components.${name}`;
  if (!COMPONENT_NAME.test(name)) {
    issues.add(pair.key, path, `is not a valid component name: ${NAME_RULE}`);
    return undefined;
  }
  const node = deref(ctx, pair.value as Node | null);
  const isEmpty = node === null || (isScalar(node) && node.value === null);
  if (!isEmpty && !isMap(node)) {
    issues.add(node, path, `must be a map of settings (like "command: node server.js"), got ${describe(ctx, node)}`);
    return undefined;
  }

  const before = issues.count;
  const fields = new Map<string, { pair: Pair<unknown, unknown>; node: Node | null }>();
  if (isMap(node)) {
    for (const p of node.items) {
      const key = keyOf(ctx, p);
      if ((COMPONENT_KEYS as readonly string[]).includes(key)) fields.set(key, { pair: p, node: deref(ctx, p.value as Node | null) });
      else issues.add(p.key, `${path}.${key}`, `is not a known key (known: ${COMPONENT_KEYS.join(', ')})`);
    }
  }

  const text = (key: string): string | undefined => {
    const f = fields.get(key);
    if (!f) return undefined;
    const v = scalarValue(f.node);
    if (typeof v !== 'string') {
      issues.add(f.node ?? f.pair.key, `${path}.${key}`, `must be text, got ${describe(ctx, f.node)}`);
      return undefined;
    }
    if (v.trim() === '') {
      issues.add(f.node ?? f.pair.key, `${path}.${key}`, 'must not be empty');
      return undefined;
    }
    return v.trim();
  };

  const command = text('command');
  const build = text('build');
  let staticDir = text('static');
  if (staticDir !== undefined) {
    const f = fields.get('static')!;
    const normalized = normalizeRelative(staticDir);
    if (normalized === null) {
      issues.add(f.node, `${path}.static`, `must be a folder inside the source (relative, without ..), got ${describeText(staticDir)}`);
      staticDir = undefined;
    } else staticDir = normalized;
  }

  let dir = text('path');
  if (dir !== undefined) {
    const f = fields.get('path')!;
    const normalized = normalizeRelative(dir);
    if (normalized === null) {
      issues.add(f.node, `${path}.path`, `must be a folder inside the source (relative, without ..), got ${describeText(dir)}`);
      dir = undefined;
    } else dir = normalized === '.' ? undefined : normalized;
  }

  // Static components are served over HTTP by the agent.
  let port = name === 'web' || fields.has('static');
  const portField = fields.get('port');
  if (portField) {
    const v = scalarValue(portField.node);
    if (typeof v === 'boolean') port = v;
    else issues.add(portField.node ?? portField.pair.key, `${path}.port`, `must be true or false, got ${describe(ctx, portField.node)}`);
  }

  let scale = 1;
  const scaleField = fields.get('scale');
  if (scaleField) {
    const v = scalarValue(scaleField.node);
    if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_SCALE) scale = v;
    else issues.add(scaleField.node ?? scaleField.pair.key, `${path}.scale`, `must be a whole number from 1 to ${MAX_SCALE}, got ${describe(ctx, scaleField.node)}`);
  }

  const health = readHealth(ctx, path, fields.get('health'), port);

  const commandField = fields.get('command');
  if (commandField && fields.has('static')) {
    issues.add(commandField.pair.key, path, 'has both command and static; a static component serves files and runs no command');
  } else if (!commandField && !fields.has('static')) {
    issues.add(pair.key, path, 'needs a command (or static: FOLDER)');
  }

  if (issues.count > before) return undefined;
  return component({
    name,
    ...(command !== undefined && { command }),
    ...(build !== undefined && { build }),
    ...(dir !== undefined && { path: dir }),
    ...(staticDir !== undefined && { static: staticDir }),
    port,
    health,
    scale,
  });
}

function readHealth(
  ctx: Ctx,
  componentPath: string,
  field: { pair: Pair<unknown, unknown>; node: Node | null } | undefined,
  port: boolean,
): HealthSpec {
  const { issues } = ctx;
  const path = `${componentPath}.health`;
  if (!field) return defaultHealth();
  const { node } = field;
  let healthPath: string | undefined;
  let healthPathNode: Node | null = node;
  let timeout = DEFAULT_HEALTH_TIMEOUT_S;
  let interval = DEFAULT_HEALTH_INTERVAL_S;

  const checkPath = (v: unknown, at: Node | null, p: string): string | undefined => {
    if (typeof v !== 'string' || v.trim() === '') {
      issues.add(at ?? field.pair.key, p, `must be an HTTP path like /health, got ${describe(ctx, at)}`);
      return undefined;
    }
    const s = v.trim();
    if (!s.startsWith('/') || /\s/.test(s)) {
      issues.add(at, p, `must be an HTTP path starting with "/" (like /health), got ${describeText(s)}`);
      return undefined;
    }
    return s;
  };
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

// ---------------------------------------------------------------------------------------
// helpers

class Issues {
  private readonly list: ManifestIssue[] = [];
  constructor(private readonly file: string, private readonly lines: LineCounter | null) {}

  get count(): number {
    return this.list.length;
  }

  add(node: unknown, path: string, message: string): void {
    this.addAt(this.lineOf(node), path, message);
  }

  addAt(line: number, path: string, message: string): void {
    this.list.push({ line, path, message: path === '' ? message : `${path} ${message}` });
  }

  throwIfAny(): void {
    if (this.list.length === 0) return;
    const sorted = [...this.list].sort((a, b) => a.line - b.line);
    const text = sorted.map((i) => `${this.file}:${i.line}: ${i.message}`).join('; ');
    throw new RewindError('INVALID_MANIFEST', text, { file: this.file, errors: sorted });
  }

  private lineOf(node: unknown): number {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (!this.lines || !range) return 1;
    return this.lines.linePos(range[0]).line;
  }
}

function component(spec: ComponentSpec): ComponentSpec {
  return Object.freeze({ ...spec, health: Object.freeze({ ...spec.health }) });
}

function defaultHealth(): HealthSpec {
  return healthSpec(undefined, DEFAULT_HEALTH_TIMEOUT_S, DEFAULT_HEALTH_INTERVAL_S);
}

function healthSpec(path: string | undefined, timeoutS: number, intervalS: number): HealthSpec {
  const timing = { timeoutMs: Math.round(timeoutS * 1000), intervalMs: Math.round(intervalS * 1000) };
  return Object.freeze(path === undefined ? timing : { path, ...timing });
}

function deref(ctx: Ctx, node: Node | null | undefined): Node | null {
  if (node && isAlias(node)) return (node.resolve(ctx.doc) as Node | undefined) ?? null;
  return node ?? null;
}

function scalarValue(node: Node | null): unknown {
  return node && isScalar(node) ? node.value : undefined;
}

function keyOf(ctx: Ctx, pair: Pair<unknown, unknown>): string {
  const key = deref(ctx, pair.key as Node | null);
  if (key && isScalar(key)) return String(key.value);
  return key ? String(key.toJSON()) : '';
}

function toJS(ctx: Ctx, node: unknown): unknown {
  const n = deref(ctx, node as Node | null);
  return n ? n.toJS(ctx.doc) : null;
}

function describe(ctx: Ctx, node: Node | null): string {
  if (node === null) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const v = node.value;
    if (v === null || v === undefined) return 'nothing';
    if (typeof v === 'string') return describeText(v);
    return String(v);
  }
  return describeText(String(toJS(ctx, node)));
}

function describeText(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?\s*$/, '');
}

/** `public/` → `public`, `./a//b` → `a/b`; null for absolute paths or any `..` segment. */
function normalizeRelative(p: string): string | null {
  if (p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p) || p.includes('\0')) return null;
  const parts = p.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..')) return null;
  return parts.length === 0 ? '.' : parts.join('/');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

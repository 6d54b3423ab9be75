import { isMap, isScalar } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import { RewindError } from './errors.js';
import type { HealthSpec } from './health.js';
import { parseConvoxManifest } from './convox-manifest.js';
import {
  COMPONENT_NAME,
  DEFAULT_HEALTH_INTERVAL_S,
  DEFAULT_HEALTH_TIMEOUT_S,
  Issues,
  MAX_HEALTH_INTERVAL_S,
  MAX_HEALTH_TIMEOUT_S,
  MAX_SCALE,
  NAME_RULE,
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
import type { Ctx } from './manifest-yaml.js';

export type { ManifestIssue } from './manifest-yaml.js';
export { COMPONENT_NAME, DEFAULT_HEALTH_INTERVAL_S, DEFAULT_HEALTH_TIMEOUT_S, MAX_SCALE } from './manifest-yaml.js';

/**
 * The app manifest: `rewind.yml` at the source root, else a `convox.yml`, else a `Procfile`.
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

/** A manifest as read from a source, with what the build log should say about it. */
export interface ManifestReading {
  /** The file it was read from: rewind.yml, convox.yml or Procfile. */
  readonly file: ManifestFile;
  readonly manifest: Manifest;
  /** Lines for the build log: what was read differently, or not at all. */
  readonly notes: readonly string[];
  /** convox.yml `environment:` entries (KEY or KEY=default): reported, not applied. */
  readonly variables: readonly ManifestVariable[];
}

export interface ManifestVariable {
  readonly key: string;
  /** The default after `=`, if any. */
  readonly value?: string;
}

/** The manifests Rewind reads, in order of precedence. */
export const MANIFEST_FILES = ['rewind.yml', 'convox.yml', 'Procfile'] as const;
export type ManifestFile = (typeof MANIFEST_FILES)[number];

export const COMPONENT_KEYS = ['build', 'command', 'path', 'port', 'health', 'scale', 'static'] as const;
export const HEALTH_KEYS = ['path', 'timeout', 'interval'] as const;
export const TOP_LEVEL_KEYS = ['components', 'pipelines'] as const;

/** The argv that runs a manifest command: commands are data, one executor runs them. */
export function buildCommandArgv(command: string): string[] {
  return ['/bin/sh', '-c', command];
}

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

/** Parses a Heroku-style `Procfile`: `name: command` per line; `web` serves HTTP. */
export function parseProcfile(text: string, file = 'Procfile'): Manifest {
  return readProcfile(text, file).manifest;
}

/**
 * Reads a `Procfile`, with the notes for the build log. Its `release:` line is Heroku's
 * release-phase command, not a process: it is reported and never started (not run yet either).
 */
export function readProcfile(text: string, file = 'Procfile'): { manifest: Manifest; notes: string[] } {
  const issues = new Issues(file, null);
  const notes: string[] = [];
  const components: Record<string, ComponentSpec> = {};
  const seen = new Set<string>();
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
    else if (seen.has(name)) issues.addAt(line, name, 'is declared twice');
    else if (command === '') issues.addAt(line, name, 'needs a command after "name:"');
    else if (name === 'release') notes.push(`release: ${command} (a release-phase command: not yet supported, not started)`);
    else components[name] = component({ name, command, port: name === 'web', health: defaultHealth(), scale: 1 });
    if (COMPONENT_NAME.test(name) && command !== '') seen.add(name);
  });
  if (Object.keys(components).length === 0 && issues.count === 0) {
    issues.addAt(1, '', 'the Procfile declares no processes; add a line like "web: node server.js"');
  }
  issues.throwIfAny();
  return { manifest: Object.freeze({ components: Object.freeze(components) }), notes };
}

/** Picks the manifest of an uploaded source: `rewind.yml`, else `convox.yml`, else `Procfile`. */
export function manifestFromFiles(files: Partial<Readonly<Record<ManifestFile, string>>>): Manifest {
  return readManifestFiles(files).manifest;
}

/**
 * Reads the manifest of an uploaded source: `rewind.yml`, else `convox.yml`, else `Procfile`
 * (the first that exists is read, even when it is invalid); the notes name the files not read.
 */
export function readManifestFiles(files: Partial<Readonly<Record<ManifestFile, string>>>): ManifestReading {
  const file = MANIFEST_FILES.find((f) => files[f] !== undefined);
  if (file === undefined) {
    throw new RewindError('NO_MANIFEST', 'no rewind.yml, convox.yml or Procfile at the root of the source; add a rewind.yml (see examples/hello)');
  }
  const text = files[file]!;
  const others = MANIFEST_FILES.filter((f) => f !== file && files[f] !== undefined);
  const notes = others.length > 0 ? [`${others.join(', ')} not read: ${file} comes first`] : [];
  if (file === 'convox.yml') {
    const r = parseConvoxManifest(text, file);
    return Object.freeze({ file, manifest: r.manifest, notes: [...notes, ...r.notes], variables: r.variables });
  }
  const r = file === 'rewind.yml' ? readRewindYml(text, file) : readProcfile(text, file);
  return Object.freeze({ file, manifest: r.manifest, notes: [...notes, ...r.notes], variables: [] });
}

// ---------------------------------------------------------------------------------------
// reading the YAML tree

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
    // A number (as Convox writes it) only says the component serves HTTP: it still gets $PORT.
    const declared = portNumber(v);
    if (typeof v === 'boolean') port = v;
    else if (declared !== null) {
      port = true;
      notes.push(portNote(name, declared));
    } else {
      issues.add(
        portField.node ?? portField.pair.key,
        `${path}.port`,
        `must be true, false or a port number from 1 to 65535 (the app listens on $PORT), got ${describe(ctx, portField.node)}`,
      );
    }
  }

  let scale = 1;
  const scaleField = fields.get('scale');
  if (scaleField) {
    const v = scalarValue(scaleField.node);
    if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_SCALE) scale = v;
    else
      issues.add(
        scaleField.node ?? scaleField.pair.key,
        `${path}.scale`,
        `must be a whole number from 1 to ${MAX_SCALE}, got ${describe(ctx, scaleField.node)}`,
      );
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

function readHealth(ctx: Ctx, componentPath: string, field: { pair: Pair<unknown, unknown>; node: Node | null } | undefined, port: boolean): HealthSpec {
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

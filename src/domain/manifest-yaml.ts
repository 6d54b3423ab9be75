import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import { RewindError } from './errors.js';
import type { HealthSpec } from './health.js';
import type { ComponentSpec } from './manifest-types.js';

/**
 * What reading `rewind.yml` and `convox.yml` share: the YAML document with its lines, the issue
 * collector (every problem with its line, thrown at once), and small node helpers.
 */

/** One problem in a manifest. `path` is the dotted key path (`components.web.scale`), '' for the whole file. */
export interface ManifestIssue {
  readonly line: number;
  readonly path: string;
  readonly message: string;
}

export const COMPONENT_NAME = /^[a-z][a-z0-9-]{0,30}$/;
export const NAME_RULE = 'use lower-case letters, digits and -, starting with a letter, at most 31 characters';
export const MAX_SCALE = 20;
export const DEFAULT_HEALTH_TIMEOUT_S = 30;
export const DEFAULT_HEALTH_INTERVAL_S = 0.5;
export const MAX_HEALTH_TIMEOUT_S = 3600;
export const MAX_HEALTH_INTERVAL_S = 60;

export type Ctx = { doc: Document; issues: Issues };

/** Parses YAML text; a syntax error throws INVALID_MANIFEST with its line. */
export function parseYaml(text: string, file: string): Ctx {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const issues = new Issues(file, lineCounter);
  if (doc.errors.length > 0) {
    for (const e of doc.errors) {
      const line = e.linePos?.[0]?.line ?? lineCounter.linePos(e.pos[0]).line;
      issues.addAt(line, '', `invalid YAML: ${firstLine(e.message)}`);
    }
    issues.throwIfAny();
  }
  return { doc, issues };
}

export class Issues {
  private readonly list: ManifestIssue[] = [];
  constructor(
    private readonly file: string,
    private readonly lines: LineCounter | null,
  ) {}

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

  /** The line a YAML node starts on (1 when unknown). */
  lineOf(node: unknown): number {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    if (!this.lines || !range) return 1;
    return this.lines.linePos(range[0]).line;
  }
}

export function component(spec: ComponentSpec): ComponentSpec {
  return Object.freeze({ ...spec, health: Object.freeze({ ...spec.health }) });
}

export function defaultHealth(): HealthSpec {
  return healthSpec(undefined, DEFAULT_HEALTH_TIMEOUT_S, DEFAULT_HEALTH_INTERVAL_S);
}

export function healthSpec(path: string | undefined, timeoutS: number, intervalS: number): HealthSpec {
  const timing = { timeoutMs: Math.round(timeoutS * 1000), intervalMs: Math.round(intervalS * 1000) };
  return Object.freeze(path === undefined ? timing : { path, ...timing });
}

/** A port number as a manifest may declare it: a whole number from 1 to 65535, else null. */
export function portNumber(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535 ? v : null;
}

/** The note for a declared port number: informational, the app gets $PORT. */
export const portNote = (name: string, port: number) => `${name}: port ${port} in the manifest; Rewind gives it $PORT`;

export function deref(ctx: Ctx, node: Node | null | undefined): Node | null {
  if (node && isAlias(node)) return (node.resolve(ctx.doc) as Node | undefined) ?? null;
  return node ?? null;
}

export function scalarValue(node: Node | null): unknown {
  return node && isScalar(node) ? node.value : undefined;
}

export function isNothing(node: Node | null): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

export function keyOf(ctx: Ctx, pair: Pair<unknown, unknown>): string {
  const key = deref(ctx, pair.key as Node | null);
  if (key && isScalar(key)) return String(key.value);
  return key ? String(key.toJSON()) : '';
}

export function toJS(ctx: Ctx, node: unknown): unknown {
  const n = deref(ctx, node as Node | null);
  return n ? n.toJS(ctx.doc) : null;
}

export function describe(ctx: Ctx, node: Node | null): string {
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

export function describeText(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

export function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?\s*$/, '');
}

/** An HTTP path like /health, else an issue at `at` and undefined. */
export function checkHealthPath(ctx: Ctx, v: unknown, at: Node | null, fallbackAt: unknown, path: string): string | undefined {
  if (typeof v !== 'string' || v.trim() === '') {
    ctx.issues.add(at ?? fallbackAt, path, `must be an HTTP path like /health, got ${describe(ctx, at)}`);
    return undefined;
  }
  const s = v.trim();
  if (!s.startsWith('/') || /\s/.test(s)) {
    ctx.issues.add(at, path, `must be an HTTP path starting with "/" (like /health), got ${describeText(s)}`);
    return undefined;
  }
  return s;
}

/** `public/` → `public`, `./a//b` → `a/b`; null for absolute paths or any `..` segment. */
export function normalizeRelative(p: string): string | null {
  if (p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:/.test(p) || p.includes('\0')) return null;
  const parts = p.split(/[\\/]+/).filter((s) => s !== '' && s !== '.');
  if (parts.some((s) => s === '..')) return null;
  return parts.length === 0 ? '.' : parts.join('/');
}

/**
 * The name and settings of one entry of a manifest's component map (`components:` in rewind.yml,
 * `services:` in convox.yml), or undefined with the problem recorded: a bad name, or settings
 * that are not a map (an empty entry is a map with nothing in it).
 */
export function componentEntry(
  ctx: Ctx,
  pair: Pair<unknown, unknown>,
  o: { section: string; noun: string; example: string },
): { name: string; path: string; node: Node | null } | undefined {
  const name = keyOf(ctx, pair);
  const path = `${o.section}.${name}`;
  if (!COMPONENT_NAME.test(name)) {
    ctx.issues.add(pair.key, path, `is not a valid ${o.noun} name: ${NAME_RULE}`);
    return undefined;
  }
  const node = deref(ctx, pair.value as Node | null);
  if (!isNothing(node) && !isMap(node)) {
    ctx.issues.add(node, path, `must be a map of settings (like "${o.example}"), got ${describe(ctx, node)}`);
    return undefined;
  }
  return { name, path, node };
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as object)) deepFreeze(v);
  }
  return value;
}

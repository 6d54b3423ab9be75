import { diffConfig, maskValue, type Config } from './config.js';
import type { ComponentSpec, Manifest } from './manifest.js';
import { mapOf, recordOf, valueOf } from './records.js';

/** What an environment runs: the builds per component, the config and the manifest. Empty = nothing runs. */
export interface EnvState {
  readonly builds: Readonly<Record<string, string>>;
  readonly config: Config;
  readonly manifest: Manifest | null;
}

export const EMPTY_STATE: EnvState = Object.freeze({ builds: Object.freeze({}), config: Object.freeze({}), manifest: null });

export type ComponentAction = 'keep' | 'change' | 'add' | 'remove';

export interface ComponentStep {
  readonly component: string;
  readonly action: ComponentAction;
  readonly from: string | null;
  readonly to: string | null;
}

export interface ConfigStep {
  readonly key: string;
  readonly action: 'add' | 'change' | 'remove';
  /** Masked when the key looks secret. */
  readonly from: string | null;
  readonly to: string | null;
}

/** Per component keep / change / add / remove, and the config keys added, changed, removed. Values only. */
export interface Plan {
  readonly components: readonly ComponentStep[];
  readonly config: readonly ConfigStep[];
}

/** The plan that takes an environment from `from` to `to`. */
export function planBetween(from: EnvState, to: EnvState): Plan {
  const names = [...new Set([...Object.keys(from.builds), ...Object.keys(to.builds)])].sort();
  const components = names.map((component): ComponentStep => {
    const a = valueOf(from.builds, component) ?? null;
    const b = valueOf(to.builds, component) ?? null;
    const action: ComponentAction = a === null ? 'add' : b === null ? 'remove' : a === b ? 'keep' : 'change';
    return { component, action, from: a, to: b };
  });
  const d = diffConfig(from.config, to.config);
  const was = (key: string) => maskValue(key, valueOf(from.config, key) ?? '');
  const is = (key: string) => maskValue(key, valueOf(to.config, key) ?? '');
  const config: ConfigStep[] = [
    ...d.added.map((key) => ({ key, action: 'add' as const, from: null, to: is(key) })),
    ...d.changed.map((key) => ({ key, action: 'change' as const, from: was(key), to: is(key) })),
    ...d.removed.map((key) => ({ key, action: 'remove' as const, from: was(key), to: null })),
  ].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  return { components, config };
}

export const planChangesNothing = (p: Plan) => p.config.length === 0 && p.components.every((c) => c.action === 'keep');

/** Plan lines as the CLI prints them: `web  change  BAAA → BBBB`, `GREETING  change  hello → hi`. */
export function formatPlan(p: Plan): string[] {
  const lines: string[] = [];
  const w = Math.max(9, ...p.components.map((c) => c.component.length));
  for (const c of p.components) {
    const what = c.action === 'keep' ? c.to : c.action === 'change' ? `${c.from} → ${c.to}` : c.action === 'add' ? c.to : c.from;
    lines.push(`  ${c.component.padEnd(w)}  ${c.action.padEnd(6)}  ${what}`);
  }
  if (p.components.length === 0) lines.push('  (no components)');
  if (p.config.length) {
    lines.push('  config:');
    const kw = Math.max(...p.config.map((c) => c.key.length));
    for (const c of p.config) {
      const what = c.action === 'add' ? c.to : c.action === 'remove' ? c.from : `${c.from} → ${c.to}`;
      lines.push(`    ${c.key.padEnd(kw)}  ${c.action.padEnd(6)}  ${what}`);
    }
  }
  return lines;
}

/**
 * Merge of manifests for a mixed state: each component's spec comes from the manifest of the
 * release its build came from (`specs`), so a component rolled back alone keeps its old command.
 */
export function composeManifest(specs: Readonly<Record<string, ComponentSpec>>): Manifest | null {
  const names = Object.keys(specs).sort();
  if (names.length === 0) return null;
  return Object.freeze({ components: Object.freeze(recordOf(names.map((n) => [n, specs[n]]))) });
}

/**
 * Revert (beyond the anchors): undo only what `target` changed relative to `before` (the release
 * before it), applied on top of `current`; later changes to other components and keys stay.
 */
export function revertOnto(current: EnvState, before: EnvState, target: EnvState): EnvState {
  const builds = mapOf(current.builds);
  const specs = mapOf(current.manifest?.components ?? {});
  const names = new Set([...Object.keys(before.builds), ...Object.keys(target.builds)]);
  for (const n of names) {
    const was = valueOf(before.builds, n);
    if (was === valueOf(target.builds, n)) continue;
    if (was === undefined) {
      builds.delete(n);
      specs.delete(n);
    } else {
      builds.set(n, was);
      const spec = before.manifest ? valueOf(before.manifest.components, n) : undefined;
      if (spec) specs.set(n, spec);
    }
  }
  const config = mapOf(current.config);
  const d = diffConfig(before.config, target.config);
  for (const k of d.added) config.delete(k);
  for (const k of [...d.changed, ...d.removed]) config.set(k, valueOf(before.config, k) ?? '');
  return { builds: recordOf(builds), config: Object.freeze(recordOf(config)), manifest: composeManifest(recordOf(specs)) };
}

/** Moves some components to other builds, each with the spec from the manifest of its build. */
export function withComponents(current: EnvState, moves: ReadonlyArray<{ component: string; build: string; spec: ComponentSpec }>): EnvState {
  const builds = mapOf(current.builds);
  const specs = mapOf(current.manifest?.components ?? {});
  for (const m of moves) {
    builds.set(m.component, m.build);
    specs.set(m.component, m.spec);
  }
  return { builds: recordOf(builds), config: current.config, manifest: composeManifest(recordOf(specs)) };
}

/**
 * What a plan was computed from, in one environment: its active release, and the release whose
 * config was the environment's config in effect. Applying a plan on another
 * basis is refused (STALE_PLAN): what the user confirmed would not be what happens.
 */
export interface EnvBasis {
  readonly env: string;
  /** The active release when planned (null: the environment ran nothing). */
  readonly release: string | null;
  /** The release whose config was the environment's config (its active release; while it runs nothing, its newest); null: none yet. Absent when config does not matter (a promotion's source). */
  readonly config?: string | null;
}

/** Every environment a plan read. */
export type PlanBasis = readonly EnvBasis[];

/** What changed in one environment since a plan, as a phrase; null when nothing that matters did. */
export function describeBasisChange(
  planned: EnvBasis,
  now: { readonly release: string | null; readonly by?: string | null; readonly description?: string | null },
  configs?: { readonly was: Config; readonly is: Config },
): string | null {
  const parts: string[] = [];
  if (planned.release !== now.release) {
    const who = now.release && now.by ? ` (${now.description ? `"${now.description}" ` : ''}by ${now.by})` : '';
    parts.push(`${planned.env}'s active release is now ${now.release ?? 'none'}${who} (was ${planned.release ?? 'none'})`);
  }
  if (configs) {
    const d = diffConfig(configs.was, configs.is);
    const keys = [...d.added.map((k) => `${k} added`), ...d.changed.map((k) => `${k} changed`), ...d.removed.map((k) => `${k} removed`)];
    if (keys.length) parts.push(`${parts.length ? '' : `${planned.env}'s `}config changed: ${keys.join(', ')}`);
  }
  return parts.length ? parts.join('; ') : null;
}

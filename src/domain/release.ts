import type { Config } from './config.js';
import type { Manifest } from './manifest.js';
import { newId } from './ids.js';
import { valueOf } from './records.js';

import type { ReleaseKind } from './states.js';

export type { ReleaseKind };

/** An immutable snapshot of one app in one environment: builds per component, config and manifest. */
export interface Release {
  readonly id: string;
  readonly app: string;
  readonly env: string;
  readonly kind: ReleaseKind;
  /** component name → build id */
  readonly builds: Readonly<Record<string, string>>;
  readonly config: Config;
  /** Null for a config-only release made before any build. */
  readonly manifest: Manifest | null;
  readonly description: string;
  /** For a rollback: the release it copies. */
  readonly source: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
}

export type NewRelease = Omit<Release, 'id' | 'createdAt'>;

/** The only way a Release value comes to be: frozen, with a fresh id. */
export function makeRelease(input: NewRelease, now = new Date()): Release {
  return Object.freeze({
    ...input,
    id: newId('R'),
    builds: Object.freeze({ ...input.builds }),
    createdAt: now.toISOString(),
  });
}

/** Convox's rollback: a new release copying `target`'s builds, config and manifest. `target` itself is untouched. */
export function rollbackCopy(target: Release, actor: string): Release {
  return makeRelease({
    app: target.app,
    env: target.env,
    kind: 'rollback',
    builds: target.builds,
    config: target.config,
    manifest: target.manifest,
    description: `rollback to ${target.id}`,
    source: target.id,
    createdBy: actor,
  });
}

/** The build shown in the BUILD column: `web`'s, else the first component's. */
export function primaryBuild(release: Pick<Release, 'builds'>): string | null {
  return release.builds.web ?? Object.values(release.builds)[0] ?? null;
}

export const isRunnable = (release: Release): boolean => release.manifest !== null && Object.keys(release.builds).length > 0;

// ── marks (docs/rollbacks.md, "Marks") ──────────────────────────────────

/** What a new release undoes, as far as marks go. */
export type Undo =
  /** A deploy, a config change, a promotion, an upgrade: it adds a change and undoes none. */
  | { readonly kind: 'nothing' }
  /** The whole environment goes back to the state of release `target` (null: to running nothing). */
  | { readonly kind: 'state'; readonly target: string | null }
  /** Some components go back to earlier builds; the config and the other components stay. */
  | { readonly kind: 'components' }
  /** Exactly the changes of one release are undone (`releases revert`). */
  | { readonly kind: 'revert'; readonly release: string };

type Snapshot = Pick<Release, 'id' | 'builds' | 'config'>;

/** One step of an environment's live history: `release` went live and replaced `replaced`. Newest first. */
export interface LiveStep {
  readonly release: Snapshot;
  readonly replaced: Snapshot | null;
}

/**
 * What a rollback-kind release undoes, read from the release itself: a revert its source; a copy of
 * a release (or of a pipeline backup, whose source is the release that was live) that state; a
 * release that runs nothing the empty state; otherwise (`--component`) components.
 */
export function undoOf(release: Pick<Release, 'kind' | 'source' | 'builds'>, source?: Pick<Release, 'kind' | 'source'>): Undo {
  if (release.kind === 'revert' && release.source) return { kind: 'revert', release: release.source };
  if (release.kind !== 'rollback') return { kind: 'nothing' };
  if (release.source) return { kind: 'state', target: source?.kind === 'backup' ? source.source : release.source };
  if (Object.keys(release.builds).length === 0) return { kind: 'state', target: null };
  return { kind: 'components' };
}

const changedKeys = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => valueOf(a, k) !== valueOf(b, k));

/**
 * The releases a new release `next` marks `rolled back` when it goes live, given the live history
 * from the release it replaces backwards (`path[0].release` is the active one):
 * - back to a state: every release that went live since that state was last live (all their
 *   changes are undone); if that state is not in the history, the active release;
 * - components: each release on the way back whose every change was a change of those components,
 *   now undone (a release that also changed config or other components keeps those: not marked);
 * - a revert: the reverted release;
 * - anything else: none.
 */
export function rolledBackBy(undo: Undo, next: Pick<Release, 'builds'>, path: readonly LiveStep[]): string[] {
  const active = path[0]?.release;
  switch (undo.kind) {
    case 'nothing':
      return [];
    case 'revert':
      return [undo.release];
    case 'state': {
      if (!active || active.id === undo.target) return [];
      const out: string[] = [];
      for (const step of path) {
        out.push(step.release.id);
        if ((step.replaced?.id ?? null) === undo.target) return out;
      }
      return [active.id];
    }
    case 'components': {
      if (!active) return [];
      const moved = changedKeys(active.builds, next.builds);
      const out: string[] = [];
      for (const step of path) {
        const before = step.replaced ?? { builds: {}, config: {} };
        const changed = changedKeys(before.builds, step.release.builds);
        const undone = changed.every((c) => moved.includes(c) && valueOf(next.builds, c) !== valueOf(step.release.builds, c));
        if (changed.length > 0 && undone && changedKeys(before.config, step.release.config).length === 0) out.push(step.release.id);
        // Before this step every moved component ran the build it goes back to: older releases are not undone.
        if (moved.every((c) => valueOf(before.builds, c) === valueOf(next.builds, c))) break;
      }
      return out;
    }
  }
}

/**
 * What a rollback or a revert changes, decided from loaded values only (the engine loads them,
 * asks here, and carries out the answer): which release is "previous", the Boomi bundle rule
 * (rolling back the first release empties the environment but keeps its config), a copy of an
 * older release (Convox), component moves to earlier builds (Rainbond), and a revert.
 */
import type { Build } from './build.js';
import { RewindError, rewindError } from './errors.js';
import { isId } from './ids.js';
import type { ComponentSpec } from './manifest-types.js';
import { EMPTY_STATE, type EnvState, revertOnto, withComponents } from './plan.js';
import type { Release } from './release.js';

/** The state a change leads to, how the release it makes describes it, and the release it comes from (null: none). */
export interface ProposedChange {
  readonly next: EnvState;
  readonly description: string;
  readonly source: string | null;
}

/** One component moved to one build. */
export interface ComponentMove {
  readonly component: string;
  readonly build: string;
  readonly spec: ComponentSpec;
}

/** A release's state (the empty state for none). */
export const stateOf = (r: Release | null | undefined): EnvState => (r ? { builds: r.builds, config: r.config, manifest: r.manifest } : EMPTY_STATE);

/**
 * The release before `active`: the one the environment ran before the deployment that made
 * `active` live (`lastSucceeded`, the environment's last succeeded deployment). Null when `active`
 * was the first, or went live otherwise (then there is no "before" that Rewind saw).
 */
export function previousRelease(
  active: Pick<Release, 'id'>,
  lastSucceeded: { readonly release: string; readonly fromRelease: string | null } | undefined,
): string | null {
  return lastSucceeded?.release === active.id ? lastSucceeded.fromRelease : null;
}

/** Rollback with neither a release nor components: to the previous release, or (the Boomi bundle rule) to empty, keeping the config. */
export function rollbackToPrevious(active: Release, previous: Release | null): ProposedChange {
  if (previous) return { next: stateOf(previous), description: `rollback to ${previous.id}`, source: previous.id };
  // Config is not a component: an emptied environment keeps its variables for the next deploy.
  return { next: { ...EMPTY_STATE, config: active.config }, description: `rollback to empty (before ${active.id})`, source: null };
}

/** Rollback to a release of the same environment: a copy of it (Convox). */
export function rollbackToRelease(target: Release, env: string): ProposedChange {
  if (target.env !== env) throw rewindError('RELEASE_IN_OTHER_ENV', target.id, target.env, env);
  return { next: stateOf(target), description: `rollback to ${target.id}`, source: target.id };
}

/** A component move asked for, refused unless `build` (as loaded; undefined: none) is a succeeded build of that component. */
export function componentMove(app: string, component: string, buildId: string, build: Build | undefined): ComponentMove {
  if (!isId('B', buildId))
    throw new RewindError(
      'INVALID_BUILD_ID',
      `"${buildId}" is not a build id (B followed by 10 letters); see "rewind builds -a ${app} --component ${component}"`,
    );
  if (!build) throw rewindError('BUILD_NOT_FOUND', app, buildId);
  if (build.status !== 'succeeded') {
    throw new RewindError(
      'BUILD_NOT_SUCCEEDED',
      `build ${buildId} ${build.status === 'failed' ? 'failed' : 'is still running'}; only a succeeded build of ${component} can be rolled back to`,
    );
  }
  if (!build.components.includes(component) || !build.artifacts[component]) {
    const built = build.components.length ? `it built ${build.components.join(', ')}` : 'it built no component';
    throw new RewindError(
      'BUILD_LACKS_COMPONENT',
      `build ${buildId} is not a build of ${component} (${built}); see "rewind builds -a ${app} --component ${component}"`,
    );
  }
  return { component, build: buildId, spec: build.manifest.components[component] };
}

/** Rollback of some components to earlier builds (Rainbond); the others, and the config, stay. */
export function rollbackComponents(active: Release | null, moves: readonly ComponentMove[]): ProposedChange {
  const description = `rollback ${moves.map((m) => `${m.component} to ${m.build}`).join(', ')}`;
  return { next: withComponents(stateOf(active), moves), description, source: null };
}

/** Undoes only what `target` changed against `before` (its components and config keys), keeping later changes to the others. */
export function revertRelease(active: Release | null, before: Release | undefined, target: Release, env: string): ProposedChange {
  if (target.env !== env) throw rewindError('RELEASE_IN_OTHER_ENV', target.id, target.env, env);
  return { next: revertOnto(stateOf(active), stateOf(before), stateOf(target)), description: `revert ${target.id}`, source: target.id };
}

import type { LiveStep, Release, Undo } from '../domain/release.js';
import { rolledBackBy, undoOf } from '../domain/release.js';
import type { Store } from '../store/store.js';

/**
 * Marks `rolled back` what a release undoes once it went live in place of `replaced`: the one place
 * the rules of docs/rollbacks.md ("Marks") are applied (rollbacks, reverts, run rollbacks, upgrade
 * rollbacks, and the agent's automatic rollbacks).
 */
export async function markUndone(
  store: Store,
  o: {
    release: Pick<Release, 'app' | 'env' | 'kind' | 'source' | 'builds'>;
    undo?: Undo;
    replaced: string | null;
    actor: string;
    deployment: string | null;
    at: string;
  },
): Promise<string[]> {
  const { app, env } = o.release;
  const source = o.release.source ? await store.releases.get(app, o.release.source) : undefined;
  const undo = o.undo ?? undoOf(o.release, source);
  if (undo.kind === 'nothing') return [];
  const marked = rolledBackBy(undo, o.release, await livePath(store, app, env, o.replaced));
  for (const id of marked) await store.releases.mark(id, 'rolled back', o.actor, o.deployment, o.at);
  return marked;
}

/** App/env's live history from release `from` backwards: which release each deployment made live replaced (at most 100 steps). */
async function livePath(store: Store, app: string, env: string, from: string | null): Promise<LiveStep[]> {
  const deployments = (await store.deployments.list(app, env, 1000)).filter((d) => d.state === 'succeeded' || d.state === 'rolled-back');
  const snapshot = async (id: string | null) => (id ? ((await store.releases.get(app, id)) ?? null) : null);
  const path: LiveStep[] = [];
  let current = from;
  let i = 0;
  while (current !== null && path.length < 100) {
    while (i < deployments.length && (deployments[i].release !== current || deployments[i].fromRelease === current)) i++;
    const d = deployments[i++];
    const release = await snapshot(current);
    if (!d || !release) break;
    path.push({ release, replaced: await snapshot(d.fromRelease) });
    current = d.fromRelease;
  }
  // A release made active without a deployment of its own (recorded before deployments were): it alone.
  const alone = path.length === 0 ? await snapshot(from) : null;
  return alone ? [{ release: alone, replaced: null }] : path;
}

import { effectiveSettings } from '../domain/env-settings.js';
import { messageOf } from '../domain/errors.js';
import type { Release } from '../domain/release.js';
import type { Deployment } from '../store/deployments-repo.js';
import type { Store } from '../store/store.js';
import type { DeployerOptions } from './deployer.js';
import { type ComponentArtifact, componentArtifact, desiredStateFor, slugKey } from './desired-state.js';
import { markUndone } from './mark-undone.js';
import { freePort } from './free-port.js';

const now = () => new Date().toISOString();

/** Where a deployment's progress is written: its event lines, and its end (state, audit entry, end of the live stream). */
export interface DeploymentJournal {
  event(id: string, message: string, at?: string): Promise<void>;
  finishDeployment(d: Deployment, ok: boolean, error: string | null): Promise<void>;
}

/**
 * Rolls deployment `d` out: sends the desired state of `release` to the environment's target,
 * streams the target's log lines into the deployment's events, then makes the release active
 * (marking what a rollback undoes) or records why it failed.
 */
export async function rollOut(o: DeployerOptions, journal: DeploymentJournal, d: Deployment, release: Release, first: string): Promise<void> {
  const { store } = o;
  await store.deployments.setRunning(d.id);
  await journal.event(d.id, first);
  const env = await store.apps.environment(d.app, d.env);
  if (!env) return journal.finishDeployment(d, false, 'the environment was deleted');
  const artifacts = new Map<string, ComponentArtifact>();
  for (const [component, id] of Object.entries(release.builds)) {
    const sha = (await store.builds.byId(id))?.artifacts[component];
    if (!sha) return journal.finishDeployment(d, false, `build ${id} has no stored slug for ${component}`);
    artifacts.set(
      slugKey(id, component),
      componentArtifact(sha, (slug) => o.artifacts.path(slug)),
    );
  }
  const s = effectiveSettings(env.settings, o.defaults);
  const desired = desiredStateFor({
    release,
    deployment: d.id,
    proxyPort: env.proxyPort,
    artifacts,
    routes: await routesFor(store, release),
    drainTimeoutMs: s.drainSeconds * 1000,
    standby: { keepMs: s.standbyMinutes * 60_000, count: s.standbyCount },
    autoRollbackMs: s.autoRollbackSeconds * 1000,
  });
  const target = o.targets.forEnv(d.app, d.env);
  // A release with images promoted (or rolled) into an environment whose target runs none.
  const image = desired.components.find((c) => c.image !== undefined);
  if (image && !target.resolveImage) return journal.finishDeployment(d, false, messageOf('IMAGE_NEEDS_SWARM', image.name, image.image!));
  let chain = Promise.resolve();
  const result = await target
    .apply(desired, (e) => {
      if (e.type === 'log') chain = chain.then(() => journal.event(d.id, e.message, e.at));
    })
    .catch((e: Error) => ({ ok: false as const, release: null, error: `the agent could not be reached: ${e.message}` }));
  await chain;
  if (result.ok) {
    await store.apps.setActiveRelease(d.app, d.env, release.id);
    if (d.kind === 'rollback') await markUndone(store, { release, replaced: d.fromRelease, actor: d.createdBy, deployment: d.id, at: now() });
    if (desired.components.length === 0) await journal.event(d.id, `${release.id} is live: ${d.app}/${d.env} runs nothing now`);
    await journal.finishDeployment(d, true, null);
  } else {
    const serving = result.release ?? env.activeRelease;
    await journal.event(d.id, `failed: ${result.error}; ${serving ? `${serving} keeps serving` : 'nothing was serving before'}`);
    await journal.finishDeployment(d, false, result.error ?? 'unknown error');
  }
}

/** Stable ports of the HTTP components other than the one on the environment's port, allocated once. */
async function routesFor(store: Store, release: Release): Promise<Record<string, number>> {
  const http = Object.values(release.manifest?.components ?? {}).filter((c) => c.port);
  const main = http.find((c) => c.name === 'web') ?? http[0];
  const ports = await store.apps.componentPorts(release.app, release.env);
  for (const c of http) {
    if (c === main || ports[c.name]) continue;
    ports[c.name] = await freePort('127.0.0.1', await store.apps.usedPorts());
    await store.apps.addComponentPort(release.app, release.env, c.name, ports[c.name]);
  }
  return Object.fromEntries(http.filter((c) => c !== main).map((c) => [c.name, ports[c.name]]));
}

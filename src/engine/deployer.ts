import type { Logger } from 'pino';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { RewindError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { isRunnable, rolledBackBy, undoOf, type LiveStep, type Release, type Undo } from '../domain/release.js';
import { effectiveSettings, type DataPlaneDefaults } from '../domain/env-settings.js';
import type { ObservedApp } from '../protocol/agent-protocol.js';
import type { Deployment, DeploymentEvent, DeploymentKind } from '../store/deployments-repo.js';
import { isUniqueViolation } from '../store/deployments-repo.js';
import type { Db } from '../store/db.js';
import type { Store } from '../store/store.js';
import type { TargetResolver } from '../targets/target.js';
import { desiredStateFor, slugKey } from './desired-state.js';
import type { EventHub } from './event-hub.js';
import { freePort } from './ports.js';

export interface DeployerOptions {
  readonly store: Store;
  readonly targets: TargetResolver;
  readonly artifacts: ArtifactStore;
  readonly hub: EventHub<DeploymentEvent>;
  readonly log: Logger;
  /** Server-wide data-plane defaults; each environment's settings override them. */
  readonly defaults: DataPlaneDefaults;
}

const now = () => new Date().toISOString();

/**
 * Makes a release active in its environment through the target, as a durable deployment:
 * one at a time per app/env (a unique index is the lock), every step recorded, resumable after a crash.
 */
export class Deployer {
  private readonly running = new Map<string, Promise<Deployment>>();

  constructor(private readonly o: DeployerOptions) {}

  /**
   * Records a pending deployment of `release` and starts it. With `insertRelease`, the release is
   * stored in the same transaction, so a refused deployment leaves no stray release behind.
   */
  async start(
    release: Release,
    opts: {
      kind: DeploymentKind;
      actor: string;
      insertRelease?: boolean;
      allowEmpty?: boolean;
      /** Runs first in the transaction that records the deployment (a plan's basis check): throwing records nothing. */
      check?: (tx: Db) => Promise<void>;
    },
  ): Promise<Deployment> {
    const { store } = this.o;
    const empty = Object.keys(release.builds).length === 0;
    if (!isRunnable(release) && !(opts.allowEmpty && empty)) {
      throw new RewindError('BUILD_NOT_READY', `release ${release.id} has no build to run; deploy a build first with "rewind deploy -a ${release.app}"`);
    }
    const env = await store.apps.environment(release.app, release.env);
    if (!env) throw new RewindError('ENV_NOT_FOUND', `environment "${release.env}" does not exist in app "${release.app}"`);
    await this.refuseIfBusy(release.app, release.env);
    const d: Deployment = {
      id: newId('D'),
      app: release.app,
      env: release.env,
      release: release.id,
      fromRelease: env.activeRelease,
      kind: opts.kind,
      state: 'pending',
      error: null,
      createdBy: opts.actor,
      createdAt: now(),
      finishedAt: null,
    };
    const audit = {
      actor: opts.actor,
      action: `deployment.${opts.kind}`,
      app: d.app,
      env: d.env,
      subject: d.id,
      detail: { from: d.fromRelease, to: release.id, description: release.description },
    };
    try {
      // The release, its deployment and their audit entry exist together or not at all.
      await store.recordChange({ release: opts.insertRelease ? release : undefined, deployment: d, audit, check: opts.check });
    } catch (e) {
      if (isUniqueViolation(e)) await this.refuseIfBusy(release.app, release.env);
      throw e;
    }
    this.launch(d, release, `${verb(opts.kind)} ${release.id} (${release.description}) in ${d.app}/${d.env}`);
    return d;
  }

  /** Resolves when the deployment has ended (immediately if it is not running in this process). */
  async waitFor(id: string): Promise<Deployment | undefined> {
    await this.running.get(id);
    return this.o.store.deployments.get(id);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  /**
   * After a restart: resume or settle every deployment left pending/running, then make the store's
   * active release match what the target really serves.
   */
  async recover(): Promise<void> {
    const { store, targets } = this.o;
    for (const d of await store.deployments.allLive()) {
      if (this.running.has(d.id)) continue;
      const release = await store.releases.get(d.app, d.release);
      const target = targets.forEnv(d.app, d.env);
      let observed = await target.observe(d.app, d.env);
      while (observed?.rollout) {
        await new Promise((r) => setTimeout(r, 200));
        observed = await target.observe(d.app, d.env);
      }
      if (observed?.release === d.release) {
        await this.event(d.id, `the server restarted; ${d.release} is live on the target`);
        await this.settle(d, true, null);
      } else if (release) {
        this.launch(d, release, `the server restarted during this deployment; resuming it`);
      } else {
        await this.settle(d, false, 'interrupted by a server restart');
      }
    }
    for (const env of await store.apps.allEnvironments()) {
      if (await store.deployments.live(env.app, env.name)) continue;
      const observed = await targets.forEnv(env.app, env.name).observe(env.app, env.name);
      await this.reconcile(env.app, env.name, env.activeRelease, observed);
    }
  }

  private async reconcile(app: string, env: string, active: string | null, observed: ObservedApp | null) {
    const { store } = this.o;
    if (observed?.release && observed.release !== active && (await store.releases.get(app, observed.release))) {
      await store.apps.setActiveRelease(app, env, observed.release);
      await store.recordAudit({
        actor: 'rewind',
        action: 'environment.reconcile',
        app,
        env,
        subject: observed.release,
        detail: { store: active, target: observed.release },
      });
      this.o.log.warn({ app, env, store: active, target: observed.release }, 'active release reconciled with what the target serves');
    } else if (!observed?.release && active) {
      const release = await store.releases.get(app, active);
      if (release) await this.start(release, { kind: 'recover', actor: 'rewind' });
    }
  }

  /** Throws DEPLOYMENT_IN_PROGRESS naming the running deployment, if app/env has one. */
  async refuseIfBusy(app: string, env: string): Promise<void> {
    const live = await this.o.store.deployments.live(app, env);
    if (live) {
      throw new RewindError(
        'DEPLOYMENT_IN_PROGRESS',
        `deployment ${live.id} (${live.kind} of ${live.release}) is in progress in ${app}/${env}; wait for it to finish and try again`,
        { deployment: live.id },
      );
    }
  }

  private launch(d: Deployment, release: Release, first: string) {
    const p = this.run(d, release, first)
      .catch(async (e) => {
        this.o.log.error({ err: e, deployment: d.id }, 'deployment crashed');
        await this.settle(d, false, `internal error: ${(e as Error).message}`).catch(() => {});
      })
      .then(() => this.o.store.deployments.get(d.id) as Promise<Deployment>)
      .finally(() => this.running.delete(d.id));
    this.running.set(d.id, p);
  }

  private async run(d: Deployment, release: Release, first: string): Promise<void> {
    const { store } = this.o;
    const target = this.o.targets.forEnv(d.app, d.env);
    await store.deployments.setRunning(d.id);
    await this.event(d.id, first);
    const env = await store.apps.environment(d.app, d.env);
    if (!env) return this.settle(d, false, 'the environment was deleted');
    const artifacts = new Map<string, { sha256: string; path: string }>();
    for (const [component, id] of Object.entries(release.builds)) {
      const sha = (await store.builds.byId(id))?.artifacts[component];
      if (!sha) return this.settle(d, false, `build ${id} has no stored slug for ${component}`);
      artifacts.set(slugKey(id, component), { sha256: sha, path: this.o.artifacts.path(sha) });
    }
    const routes = await this.routesFor(release);
    const s = effectiveSettings(env.settings, this.o.defaults);
    const desired = desiredStateFor({
      release,
      deployment: d.id,
      proxyPort: env.proxyPort,
      artifacts,
      routes,
      drainTimeoutMs: s.drainSeconds * 1000,
      standby: { keepMs: s.standbyMinutes * 60_000, count: s.standbyCount },
      autoRollbackMs: s.autoRollbackSeconds * 1000,
    });
    let chain = Promise.resolve();
    const result = await target
      .apply(desired, (e) => {
        if (e.type === 'log') chain = chain.then(() => this.event(d.id, e.message, e.at));
      })
      .catch((e: Error) => ({ ok: false as const, release: null, error: `the agent could not be reached: ${e.message}` }));
    await chain;
    if (result.ok) {
      await store.apps.setActiveRelease(d.app, d.env, release.id);
      if (d.kind === 'rollback') await markUndone(store, { release, replaced: d.fromRelease, actor: d.createdBy, deployment: d.id, at: now() });
      if (desired.components.length === 0) await this.event(d.id, `${release.id} is live: ${d.app}/${d.env} runs nothing now`);
      await this.settle(d, true, null);
    } else {
      const serving = result.release ?? env.activeRelease;
      await this.event(d.id, `failed: ${result.error}; ${serving ? `${serving} keeps serving` : 'nothing was serving before'}`);
      await this.settle(d, false, result.error ?? 'unknown error');
    }
  }

  /** Stable ports of the HTTP components other than the one on the environment's port, allocated once. */
  private async routesFor(release: Release): Promise<Record<string, number>> {
    const { store } = this.o;
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

  private async event(id: string, message: string, at = now()): Promise<void> {
    const e = await this.o.store.deployments.appendEvent(id, at, message);
    this.o.hub.publish(id, e);
  }

  private async settle(d: Deployment, ok: boolean, error: string | null): Promise<void> {
    await this.o.store.deployments.finish(d.id, ok ? 'succeeded' : 'failed', error, now());
    await this.o.store.recordAudit({
      actor: d.createdBy,
      action: ok ? 'deployment.succeeded' : 'deployment.failed',
      app: d.app,
      env: d.env,
      subject: d.id,
      detail: { release: d.release, error },
    });
    this.o.hub.end(d.id);
  }
}

function verb(kind: DeploymentKind): string {
  return kind === 'recover' ? 'Restarting' : 'Promoting';
}

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

import type { Release } from '../domain/release.js';
import type { ObservedApp } from '../protocol/agent-protocol.js';
import type { Deployment, DeploymentKind } from '../store/deployments-repo.js';
import type { DeployerOptions } from './deployer.js';
import type { DeploymentJournal } from './deployment-rollout.js';

/** What recovery needs of the deployer: which deployments run in this process, and how to resume or start one. */
export interface RecoveringDeployer extends DeploymentJournal {
  isRunning(id: string): boolean;
  resume(d: Deployment, release: Release, first: string): void;
  start(release: Release, opts: { kind: DeploymentKind; actor: string }): Promise<Deployment>;
}

/**
 * After a restart: resume or finish every deployment left pending/running, then make the store's
 * active release match what the target really serves.
 */
export async function recoverDeployments(o: DeployerOptions, deployer: RecoveringDeployer): Promise<void> {
  const { store, targets } = o;
  for (const d of await store.deployments.allLive()) {
    if (deployer.isRunning(d.id)) continue;
    const release = await store.releases.get(d.app, d.release);
    const target = targets.forEnv(d.app, d.env);
    let observed = await target.observe(d.app, d.env);
    while (observed?.rollout) {
      await new Promise((r) => setTimeout(r, 200));
      observed = await target.observe(d.app, d.env);
    }
    if (observed?.release === d.release) {
      await deployer.event(d.id, `the server restarted; ${d.release} is live on the target`);
      await deployer.finishDeployment(d, true, null);
    } else if (release) {
      deployer.resume(d, release, `the server restarted during this deployment; resuming it`);
    } else {
      await deployer.finishDeployment(d, false, 'interrupted by a server restart');
    }
  }
  for (const env of await store.apps.allEnvironments()) {
    if (await store.deployments.live(env.app, env.name)) continue;
    const observed = await targets.forEnv(env.app, env.name).observe(env.app, env.name);
    await reconcile(o, deployer, { app: env.app, env: env.name, active: env.activeRelease, observed });
  }
}

/** The store says `active`, the target serves `observed`: trust the target's release if the store knows it, restart the store's if nothing runs. */
async function reconcile(
  o: DeployerOptions,
  deployer: RecoveringDeployer,
  { app, env, active, observed }: { app: string; env: string; active: string | null; observed: ObservedApp | null },
): Promise<void> {
  const { store } = o;
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
    o.log.warn({ app, env, store: active, target: observed.release }, 'active release reconciled with what the target serves');
  } else if (!observed?.release && active) {
    const release = await store.releases.get(app, active);
    if (release) await deployer.start(release, { kind: 'recover', actor: 'rewind' });
  }
}

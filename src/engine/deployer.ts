import type { Logger } from 'pino';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { RewindError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { DataPlaneDefaults } from '../domain/env-settings.js';
import { isRunnable, type Release } from '../domain/release.js';
import type { Deployment, DeploymentEvent, DeploymentKind } from '../store/deployments-repo.js';
import { isUniqueViolation } from '../store/deployments-repo.js';
import type { Db } from '../store/db.js';
import type { Store } from '../store/store.js';
import type { TargetResolver } from '../targets/target.js';
import { recoverDeployments } from './deployment-recovery.js';
import { type DeploymentJournal, rollOut } from './deployment-rollout.js';
import type { EventHub } from './event-hub.js';

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

  /** How a rollout or a recovery writes a deployment's progress. */
  private readonly journal: DeploymentJournal = {
    event: (id, message, at) => this.event(id, message, at),
    finishDeployment: (d, ok, error) => this.finishDeployment(d, ok, error),
  };

  constructor(private readonly options: DeployerOptions) {}

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
    const { store } = this.options;
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
    return this.options.store.deployments.get(id);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.running.values()]);
  }

  /**
   * After a restart: resume or finish every deployment left pending/running, then make the store's
   * active release match what the target really serves.
   */
  recover(): Promise<void> {
    return recoverDeployments(this.options, {
      isRunning: (id) => this.running.has(id),
      resume: (d, release, first) => this.launch(d, release, first),
      start: (release, opts) => this.start(release, opts),
      ...this.journal,
    });
  }

  /** Throws DEPLOYMENT_IN_PROGRESS naming the running deployment, if app/env has one. */
  async refuseIfBusy(app: string, env: string): Promise<void> {
    const live = await this.options.store.deployments.live(app, env);
    if (live) {
      throw new RewindError(
        'DEPLOYMENT_IN_PROGRESS',
        `deployment ${live.id} (${live.kind} of ${live.release}) is in progress in ${app}/${env}; wait for it to finish and try again`,
        { deployment: live.id },
      );
    }
  }

  private launch(d: Deployment, release: Release, first: string) {
    const p = rollOut(this.options, this.journal, d, release, first)
      .catch(async (e) => {
        this.options.log.error({ err: e, deployment: d.id }, 'deployment crashed');
        await this.finishDeployment(d, false, `internal error: ${(e as Error).message}`).catch(() => {});
      })
      .then(() => this.options.store.deployments.get(d.id) as Promise<Deployment>)
      .finally(() => this.running.delete(d.id));
    this.running.set(d.id, p);
  }

  private async event(id: string, message: string, at = now()): Promise<void> {
    const e = await this.options.store.deployments.appendEvent(id, at, message);
    this.options.hub.publish(id, e);
  }

  /** Records the end of deployment `d`: its state, its audit entry, the end of its live event stream. */
  private async finishDeployment(d: Deployment, ok: boolean, error: string | null): Promise<void> {
    await this.options.store.deployments.finish(d.id, ok ? 'succeeded' : 'failed', error, now());
    await this.options.store.recordAudit({
      actor: d.createdBy,
      action: ok ? 'deployment.succeeded' : 'deployment.failed',
      app: d.app,
      env: d.env,
      subject: d.id,
      detail: { release: d.release, error },
    });
    this.options.hub.end(d.id);
  }
}

function verb(kind: DeploymentKind): string {
  return kind === 'recover' ? 'Restarting' : 'Promoting';
}

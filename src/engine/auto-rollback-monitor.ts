import type { Logger } from 'pino';
import type { AutoRollback } from '../protocol/agent-protocol.js';
import { markUndone } from './mark-undone.js';
import type { EventHub } from './event-hub.js';
import type { DeploymentEvent } from '../store/deployments-repo.js';
import type { Store } from '../store/store.js';
import type { TargetResolver } from '../targets/target.js';

/**
 * Records the automatic rollbacks the data plane made on its own (a release that turned unhealthy
 * within its watch window): the deployment becomes `rolled-back` with the reason, the environment's
 * active release follows what serves, and the audit log says who (rewind), what and why.
 */
export class AutoRollbackMonitor {
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(private readonly options: { store: Store; targets: TargetResolver; hub: EventHub<DeploymentEvent>; log: Logger }) {}

  start(intervalMs = 1000): void {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass over what the target reports; safe to call at any time. */
  async tick(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (const target of this.options.targets.all()) {
        for (const app of await target.observeAll()) {
          for (const ar of app.autoRollbacks ?? []) await this.record(app.app, app.env, ar);
        }
      }
    } catch (err) {
      this.options.log.debug({ err }, 'auto-rollback monitor: target not reachable');
    } finally {
      this.busy = false;
    }
  }

  private async record(app: string, env: string, ar: AutoRollback): Promise<void> {
    const { store } = this.options;
    if (await store.audit.has('deployment.auto-rollback', ar.id)) return;
    if (!(await store.apps.environment(app, env))) return;
    const error = `automatically rolled back to ${ar.to ?? 'nothing'}: ${ar.reason}`;
    if (ar.deployment) {
      await store.deployments.markRolledBack(ar.deployment, error);
      const e = await store.deployments.appendEvent(ar.deployment, ar.at, `${ar.from} ${error}`);
      this.options.hub.publish(ar.deployment, e);
    }
    if (ar.to) {
      const env_ = await store.apps.environment(app, env);
      if (env_?.activeRelease === ar.from) await store.apps.setActiveRelease(app, env, ar.to);
      // The data plane went back to the state of `to`: marked by the same rules as any rollback.
      await markUndone(store, {
        release: { app, env, kind: 'rollback', source: ar.to, builds: {} },
        undo: { kind: 'state', target: ar.to },
        replaced: ar.from,
        actor: 'rewind',
        deployment: ar.deployment ?? null,
        at: ar.at,
      });
    }
    await store.recordAudit({
      actor: 'rewind',
      action: 'deployment.auto-rollback',
      app,
      env,
      subject: ar.id,
      detail: { deployment: ar.deployment ?? null, from: ar.from, to: ar.to, reason: ar.reason },
    });
    this.options.log.warn({ app, env, ...ar }, 'automatic rollback recorded');
  }
}

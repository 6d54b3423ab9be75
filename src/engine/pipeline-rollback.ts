import { makeRelease } from '../domain/release.js';
import type { Deployment } from '../store/deployments-repo.js';
import type { Store } from '../store/store.js';
import type { Deployer } from './deployer.js';

export interface RollbackRunDeps {
  readonly store: Store;
  readonly deployer: Deployer;
}

/**
 * Restores, in reverse order, every deploy task of a run that has a backup, each as a normal
 * zero-downtime deployment (design-mode tasks: the backup is staged again). Deploy and promote
 * tasks without a backup are reported as not rolled back.
 */
export async function rollbackRun(
  deps: RollbackRunDeps,
  o: { runId: string; actor: string; log: (task: number | null, message: string) => Promise<void>; waitForDeployment: (id: string) => Promise<Deployment> },
): Promise<void> {
  const { store, deployer } = deps;
  const run = (await store.pipelines.run(o.runId))!;
  const tasks = await store.pipelines.tasks(o.runId);
  let failed = 0;
  let restored = 0;
  for (const t of [...tasks].reverse()) {
    const def = run.definition.tasks[t.index];
    if (def.kind !== 'deploy' && def.kind !== 'promote') continue;
    if (t.status === 'pending' || t.status === 'skipped' || (t.status === 'cancelled' && !t.backupRelease)) continue;
    if (!t.backupRelease) {
      await store.pipelines.updateTask(o.runId, t.index, { rollback_status: 'not rolled back' });
      const why = def.kind === 'promote' ? 'promotions take no backup' : 'enableRollback is off';
      await o.log(t.index, `task ${t.index + 1} ${def.name}: not rolled back (${why})`);
      continue;
    }
    if (t.rollbackStatus === 'rolled back') continue;
    await store.pipelines.updateTask(o.runId, t.index, { rollback_status: 'running' });
    try {
      const backup = (await store.releases.get(run.app, t.backupRelease))!;
      const release = makeRelease({
        app: backup.app,
        env: backup.env,
        kind: 'rollback',
        builds: backup.builds,
        config: backup.config,
        manifest: backup.manifest,
        description: `restore backup ${backup.id} (pipeline run ${run.id}, task ${t.index + 1})`,
        source: backup.id,
        createdBy: o.actor,
      });
      const design = def.kind === 'deploy' && def.mode === 'design';
      if (design) {
        await store.releases.insert(release);
        await o.log(t.index, `task ${t.index + 1} ${def.name}: backup ${backup.id} staged again in ${backup.env} as ${release.id}`);
      } else {
        // A deployment of this run may still be finishing in that environment: wait for the lock.
        let d: Deployment | undefined;
        for (let i = 0; !d; i++) {
          try {
            d = await deployer.start(release, { kind: 'rollback', actor: o.actor, insertRelease: true, allowEmpty: true });
          } catch (e) {
            const live = await store.deployments.live(backup.app, backup.env);
            if (!live || i > 600) throw e;
            await o.log(t.index, `waiting for deployment ${live.id} to finish before restoring`);
            await o.waitForDeployment(live.id);
          }
        }
        await store.pipelines.updateTask(o.runId, t.index, { rollback_deployment: d.id });
        await o.log(t.index, `task ${t.index + 1} ${def.name}: restoring backup ${backup.id} in ${backup.env} (deployment ${d.id})`);
        for (const e of await store.deployments.events(d.id)) await o.log(t.index, `  ${e.message}`);
        const done = await o.waitForDeployment(d.id);
        for (const e of (await store.deployments.events(d.id)).slice(1)) await o.log(t.index, `  ${e.message}`);
        if (done.state !== 'succeeded') throw new Error(`deployment ${d.id} ${done.state}: ${done.error}`);
      }
      await store.pipelines.updateTask(o.runId, t.index, { rollback_status: 'rolled back' });
      await o.log(t.index, `task ${t.index + 1} ${def.name}: rolled back`);
      restored++;
    } catch (e) {
      failed++;
      await store.pipelines.updateTask(o.runId, t.index, { rollback_status: 'failed' });
      await o.log(t.index, `task ${t.index + 1} ${def.name}: rollback failed: ${(e as Error).message}`);
    }
  }
  const status = failed > 0 ? 'failed' : 'rolled back';
  await store.pipelines.updateRun(o.runId, { rollback_status: status });
  await o.log(null, `${status === 'failed' ? 'failed' : 'finished'}: ${restored} deploy task(s) restored${failed ? `, ${failed} failed` : ''}`);
  await store.audit.record({ actor: o.actor, action: `pipeline.rollback.${failed ? 'failed' : 'done'}`, app: run.app, subject: run.id, detail: { restored, failed } });
}

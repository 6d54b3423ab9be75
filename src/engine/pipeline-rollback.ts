import type { EnvPlan } from '../domain/env-plan.js';
import type { PipelineTask, RunRollbackPlan, RunRollbackTask } from '../domain/pipeline-run.js';
import type { TaskDef } from '../domain/pipeline.js';
import { planBetween, type EnvBasis, type EnvState } from '../domain/plan.js';
import { makeRelease, type Release } from '../domain/release.js';
import { stateOf } from '../domain/rollback-plan.js';
import type { Db } from '../store/db.js';
import type { Deployment } from '../store/deployments-repo.js';
import type { PipelineRun } from '../store/pipelines-repo.js';
import type { Store } from '../store/store.js';
import type { Deployer } from './deployer.js';
import { StaleBasis, type Expected, type ReleaseOps } from './release-ops.js';

export interface RollbackRunDeps {
  readonly store: Store;
  readonly deployer: Deployer;
  readonly releases: ReleaseOps;
}

/** Which of a run's tasks its rollback looks at, newest first: deploy and promote tasks that started. */
function rollbackTasks(run: PipelineRun, tasks: readonly PipelineTask[]): { t: PipelineTask; def: TaskDef }[] {
  return [...tasks]
    .reverse()
    .map((t) => ({ t, def: run.definition.tasks[t.index] }))
    .filter(
      ({ t, def }) =>
        (def.kind === 'deploy' || def.kind === 'promote') &&
        !(t.status === 'pending' || t.status === 'skipped' || (t.status === 'cancelled' && !t.backupRelease)),
    );
}

const isDesign = (def: TaskDef) => def.kind === 'deploy' && def.mode === 'design';
const envOf = (def: TaskDef) => (def.kind === 'deploy' ? def.env : def.kind === 'promote' ? def.to : '');

/**
 * What rolling run `runId` back would do, per task: the plan from what is live now (what is staged,
 * for a design-mode task) to its backup, in the order they are restored; warnings when an
 * environment was changed after the run; and the basis (each environment restored).
 */
export async function planRunRollback(deps: RollbackRunDeps, runId: string): Promise<RunRollbackPlan> {
  const { store } = deps;
  const run = (await store.pipelines.run(runId))!;
  const tasks = await store.pipelines.tasks(runId);
  const now = new Map<string, { id: string | null; state: EnvState }>();
  const basis = new Map<string, EnvBasis>();
  const current = async (env: string, design: boolean) => {
    const e = await store.apps.environment(run.app, env);
    const r = design ? await store.releases.newest(run.app, env) : e?.activeRelease ? await store.releases.get(run.app, e.activeRelease) : undefined;
    return { id: r?.id ?? null, state: stateOf(r) };
  };
  const out: RunRollbackTask[] = [];
  for (const { t, def } of rollbackTasks(run, tasks)) {
    const env = envOf(def);
    const base = { index: t.index, name: t.name, env, backup: t.backupRelease };
    if (!t.backupRelease) {
      out.push({ ...base, action: 'not rolled back', why: def.kind === 'promote' ? 'promotions take no backup' : 'enableRollback is off', plan: null });
      continue;
    }
    if (t.rollbackStatus === 'rolled back') {
      out.push({ ...base, action: 'already rolled back', why: null, plan: null });
      continue;
    }
    const backup = await store.releases.get(run.app, t.backupRelease);
    if (!backup) {
      out.push({ ...base, action: 'not rolled back', why: `backup ${t.backupRelease} is gone`, plan: null });
      continue;
    }
    if (!basis.has(env)) {
      const e = await store.apps.environment(run.app, env);
      basis.set(env, await deps.releases.basisOf(run.app, env, e?.activeRelease ?? null));
    }
    const from = now.get(env) ?? (await current(env, isDesign(def)));
    const plan: EnvPlan = {
      app: run.app,
      env,
      from: from.id,
      source: backup.id,
      description: `restore backup ${backup.id} (pipeline run ${run.id}, task ${t.index + 1})`,
      empty: Object.keys(backup.builds).length === 0,
      ...planBetween(from.state, stateOf(backup)),
    };
    now.set(env, { id: backup.id, state: stateOf(backup) });
    out.push({ ...base, action: isDesign(def) ? 'stage' : 'restore', why: null, plan });
  }
  return { run: run.id, app: run.app, status: run.status, tasks: out, warnings: await changedAfter(store, run, tasks), basis: [...basis.values()] };
}

/** `production was changed after this run: release R… ("env add:FLAG") by admin`, per environment the run deployed to. */
async function changedAfter(store: Store, run: PipelineRun, tasks: readonly PipelineTask[]): Promise<string[]> {
  const left = new Map<string, string>();
  for (const t of tasks) {
    const def = run.definition.tasks[t.index];
    if ((def.kind === 'deploy' || def.kind === 'promote') && !isDesign(def) && t.status === 'succeeded' && t.release) left.set(envOf(def), t.release);
  }
  const out: string[] = [];
  if (run.status === 'running' || run.status === 'waiting') out.push(`run ${run.id} is still ${run.status}: its pending and running tasks are cancelled first`);
  for (const [env, release] of left) {
    const active = (await store.apps.environment(run.app, env))?.activeRelease ?? null;
    if (active === release) continue;
    const r = active ? await store.releases.get(run.app, active) : undefined;
    out.push(
      `${env} was changed after this run: ${r ? `release ${r.id} ("${r.description}") by ${r.createdBy}` : 'it runs nothing now'}; rolling the run back undoes that too`,
    );
  }
  return out;
}

/** How a run's rollback is done: by whom, where it logs, and the basis the user confirmed. */
export interface RunRollbackRequest {
  readonly runId: string;
  readonly actor: string;
  readonly log: (task: number | null, message: string) => Promise<void>;
  readonly waitForDeployment: (id: string) => Promise<Deployment>;
  /** The basis the user confirmed, per environment; each restore checks it atomically (absent: no check, e.g. an automatic rollback). */
  readonly expected?: readonly Expected[];
  /** The run was still going when the rollback was confirmed: what its own tasks deployed meanwhile does not make the plan stale. */
  readonly moving?: boolean;
}

/** One rollback of one run under way: what each restore needs. */
interface Restoring {
  readonly deps: RollbackRunDeps;
  readonly o: RunRollbackRequest;
  readonly run: PipelineRun;
  /** Per environment, what it must be on for the next restore there; moves on after each restore. */
  readonly expected: Map<string, Expected>;
  /** The releases the run's own tasks made. */
  readonly own: ReadonlySet<string>;
}

/**
 * Restores, in reverse order, every deploy task of a run that has a backup, each as a normal
 * zero-downtime deployment (design-mode tasks: the backup is staged again). Deploy and promote
 * tasks without a backup are reported as not rolled back.
 */
export async function rollbackRun(deps: RollbackRunDeps, o: RunRollbackRequest): Promise<void> {
  const { store } = deps;
  const run = (await store.pipelines.run(o.runId))!;
  const tasks = await store.pipelines.tasks(o.runId);
  const own = new Set(tasks.map((t) => t.release).filter((r): r is string => r !== null));
  const restoring: Restoring = { deps, o, run, expected: new Map((o.expected ?? []).map((x) => [x.env, x])), own };
  let failed = 0;
  let restored = 0;
  for (const { t, def } of rollbackTasks(run, tasks)) {
    if (!t.backupRelease) {
      await store.pipelines.updateTask(o.runId, t.index, { rollback_status: 'not rolled back' });
      const why = def.kind === 'promote' ? 'promotions take no backup' : 'enableRollback is off';
      await o.log(t.index, `task ${t.index + 1} ${def.name}: not rolled back (${why})`);
      continue;
    }
    if (t.rollbackStatus === 'rolled back') continue;
    await store.pipelines.updateTask(o.runId, t.index, { rollback_status: 'running' });
    try {
      await restoreBackup(restoring, t, def, t.backupRelease);
      await store.pipelines.updateTask(o.runId, t.index, { rollback_status: 'rolled back' });
      await o.log(t.index, `task ${t.index + 1} ${def.name}: rolled back`);
      restored++;
    } catch (e) {
      failed++;
      await store.pipelines.updateTask(o.runId, t.index, { rollback_status: 'failed' });
      const why =
        e instanceof StaleBasis
          ? `${envOf(def)} changed after the plan was confirmed; nothing was restored there (see the new plan: rewind pipelines rollback ${run.id} --dry-run)`
          : (e as Error).message;
      await o.log(t.index, `task ${t.index + 1} ${def.name}: rollback failed: ${why}`);
    }
  }
  const status = failed > 0 ? 'failed' : 'rolled back';
  await store.pipelines.updateRun(o.runId, { rollback_status: status });
  await o.log(null, `${status === 'failed' ? 'failed' : 'finished'}: ${restored} deploy task(s) restored${failed ? `, ${failed} failed` : ''}`);
  await store.audit.record({
    actor: o.actor,
    action: `pipeline.rollback.${failed ? 'failed' : 'done'}`,
    app: run.app,
    subject: run.id,
    detail: { restored, failed },
  });
}

/** The basis check of a restore in `env`, inside the transaction that records it (none when the user confirmed no basis there). */
function checkOf(r: Restoring, env: string): ((db: Db) => Promise<void>) | undefined {
  const x = r.expected.get(env);
  if (!x) return undefined;
  return async (db: Db) => {
    try {
      await r.deps.releases.check(r.run.app, [x], db);
    } catch (e) {
      const active = (await r.deps.store.apps.environment(r.run.app, env, db))?.activeRelease;
      if (!(e instanceof StaleBasis) || !r.o.moving || !active || !r.own.has(active)) throw e;
    }
  };
}

/** Restores task `t`'s backup: staged again (design mode) or deployed; the next restore in that environment starts from this one. */
async function restoreBackup(r: Restoring, t: PipelineTask, def: TaskDef, backupId: string): Promise<void> {
  const { store } = r.deps;
  const { run, o } = r;
  const backup = (await store.releases.get(run.app, backupId))!;
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
  const check = checkOf(r, backup.env);
  if (isDesign(def)) {
    await store.db.transaction().execute(async (tx) => {
      await check?.(tx);
      await store.releases.insert(release, tx);
    });
    await o.log(t.index, `task ${t.index + 1} ${def.name}: backup ${backup.id} staged again in ${backup.env} as ${release.id}`);
  } else {
    await deployRestore(r, t, def, backup, release, check);
  }
  if (r.expected.has(backup.env)) {
    const active = (await store.apps.environment(run.app, backup.env))?.activeRelease ?? null;
    r.expected.set(backup.env, { env: backup.env, release: active, config: (await store.releases.current(run.app, backup.env))?.config ?? {} });
  }
}

/** Deploys the restore, after any deployment of this run still finishing in that environment, with its steps in the run's log. */
async function deployRestore(r: Restoring, t: PipelineTask, def: TaskDef, backup: Release, release: Release, check: ((db: Db) => Promise<void>) | undefined) {
  const { store, deployer } = r.deps;
  const { o } = r;
  let d: Deployment | undefined;
  for (let i = 0; !d; i++) {
    try {
      d = await deployer.start(release, { kind: 'rollback', actor: o.actor, insertRelease: true, allowEmpty: true, check });
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

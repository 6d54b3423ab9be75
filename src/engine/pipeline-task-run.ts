/** Running one task of a pipeline run, by kind: build, deploy (with its backup), promote, run a command, wait for approval. */
import type { TaskDef } from '../domain/pipeline.js';
import type { Deployment } from '../store/deployments-repo.js';
import type { PipelineRun } from '../store/pipelines-repo.js';
import type { Store } from '../store/store.js';
import { takeBackup } from './backup.js';
import type { PipelineRunnerOptions } from './pipeline-runner.js';
import { TaskFailed, releaseForDeploy, runCommandTask, runTaskSlug, type TaskContext } from './pipeline-tasks.js';

/** What a task needs beyond its context: the runner's parts, and how an approval task waits for its decision. */
export interface TaskRunDeps extends PipelineRunnerOptions {
  awaitDecision(runId: string): Promise<{ approved: boolean; actor: string }>;
}

type Kind<K extends TaskDef['kind']> = Extract<TaskDef, { kind: K }>;
type TaskPatch = Parameters<Store['pipelines']['updateTask']>[2];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs task `def` of `run`; throws TaskFailed (or a RewindError) when it fails. */
export async function runTask(deps: TaskRunDeps, ctx: TaskContext, run: PipelineRun, def: TaskDef, resumedDeployment: string | null): Promise<void> {
  const step = new TaskStep(deps, ctx, run);
  // A deploy or promotion whose deployment was started before a restart: wait for it, don't start another.
  if (resumedDeployment) {
    const d = await deps.store.deployments.get(resumedDeployment);
    if (d) return step.deployAndWait(d);
  }
  switch (def.kind) {
    case 'build':
      return step.update({ build: (await step.build()).id });
    case 'deploy':
      return step.deploy(def);
    case 'promote': {
      const r = await deps.releases.promote(run.app, { from: def.from, to: def.to, components: def.components, actor: run.createdBy });
      return step.deployAndWait(r.deployment!);
    }
    case 'run':
      return step.runCommand(def);
    case 'approval':
      return step.approval(def);
  }
}

/** Waits until deployment `id` has ended (it may be resumed after a restart). */
export async function waitForDeployment(deps: Pick<PipelineRunnerOptions, 'deployer' | 'store'>, id: string): Promise<Deployment> {
  for (;;) {
    const d = (await deps.deployer.waitFor(id)) ?? (await deps.store.deployments.get(id));
    if (!d) throw new TaskFailed(`deployment ${id} is missing`);
    if (d.state !== 'pending' && d.state !== 'running') return d;
    await sleep(200);
  }
}

/** One task of one run being run: what every kind shares. */
class TaskStep {
  constructor(
    private readonly deps: TaskRunDeps,
    private readonly ctx: TaskContext,
    private readonly run: PipelineRun,
  ) {}

  update(patch: TaskPatch): Promise<void> {
    return this.deps.store.pipelines.updateTask(this.run.id, this.ctx.index, patch);
  }

  async deployAndWait(d: Deployment): Promise<void> {
    await this.update({ deployment: d.id, release: d.release });
    await this.ctx.log(`deployment ${d.id} of ${d.release} to ${d.env} started`);
    const done = await this.ctx.waitForDeployment(d.id);
    if (done.state !== 'succeeded') throw new TaskFailed(`deployment ${done.id} ${done.state}: ${done.error ?? 'no reason given'}`);
    await this.ctx.log(`deployment ${done.id}: ${done.release} is live in ${done.env}`);
  }

  /** The run's build, once it has finished; it must have succeeded. */
  async build() {
    const { run, ctx, deps } = this;
    if (!run.build) throw new TaskFailed('this run has no source to build; pass a source folder');
    await deps.builder.waitFor(run.build);
    let b = await deps.store.builds.byId(run.build);
    while (b?.status === 'running') {
      if (ctx.signal.aborted) throw new TaskFailed('cancelled');
      await sleep(200);
      b = await deps.store.builds.byId(run.build);
    }
    if (b?.status !== 'succeeded') throw new TaskFailed(`build ${run.build} ${b?.status ?? 'is missing'}${b?.error ? `: ${b.error}` : ''}`);
    return b;
  }

  async deploy(def: Kind<'deploy'>): Promise<void> {
    const build = await this.build();
    if (def.enableRollback) await this.backUp(def);
    const release = await releaseForDeploy(this.ctx, build, def);
    if (def.mode === 'design') {
      await this.deps.store.recordChange({ release });
      await this.update({ release: release.id });
      await this.ctx.log(`${release.id} staged in ${def.env} (design mode: not made live)`);
      return;
    }
    return this.deployAndWait(await this.deps.deployer.start(release, { kind: 'deploy', actor: this.run.createdBy, insertRelease: true }));
  }

  /** The backup a deploy task with enableRollback takes first: what its rollback restores. */
  private async backUp(def: Kind<'deploy'>): Promise<void> {
    const { run, ctx } = this;
    const label = `pipeline run ${run.id} (task ${ctx.index + 1})`;
    const backup = await takeBackup(this.deps, { app: run.app, env: def.env, mode: def.mode, label, actor: run.createdBy });
    await this.update({ backup_release: backup.id });
    const parts = Object.entries(backup.builds).map(([c, b]) => `${c} ${b}`);
    await ctx.log(
      `backup ${backup.id} taken of what is ${def.mode === 'design' ? 'staged' : 'live'} in ${def.env}: ${parts.join(', ') || 'nothing runs'}; ${Object.keys(backup.config).length} config keys`,
    );
  }

  async runCommand(def: Kind<'run'>): Promise<void> {
    const env = await this.deps.store.apps.environment(this.run.app, def.env);
    if (!env) throw new TaskFailed(`environment ${def.env} does not exist`);
    const url = `http://${this.deps.proxyHost}:${env.proxyPort}`;
    await this.ctx.log(`$ ${def.command}   (URL=${url})`);
    return runCommandTask(this.ctx, def, url, await this.runFiles());
  }

  /** The files a `run` task runs in: the run's build (its web or first component's slug, reused or not), when there is one. */
  private async runFiles(): Promise<string | undefined> {
    const { store, artifacts } = this.deps;
    const b = this.run.build ? await store.builds.byId(this.run.build) : undefined;
    const sha = b ? await runTaskSlug(store, b) : undefined;
    return sha ? artifacts.path(sha) : undefined;
  }

  async approval(def: Kind<'approval'>): Promise<void> {
    const { run, ctx, deps } = this;
    await this.update({ status: 'waiting' });
    await deps.store.pipelines.updateRun(run.id, { status: 'waiting' });
    await ctx.log(`waiting for approval: ${def.message} (rewind pipelines approve ${run.id}, or reject)`);
    const decision = await deps.awaitDecision(run.id);
    await deps.store.pipelines.updateRun(run.id, { status: 'running' });
    if (ctx.signal.aborted) throw new TaskFailed('cancelled');
    if (!decision.approved) throw new TaskFailed(`rejected by ${decision.actor}`);
    await ctx.log(`approved by ${decision.actor}`);
  }
}

/** A deploy task that rolls the run back when a later task fails. */
export const isAutoRollback = (t: TaskDef | undefined) => t?.kind === 'deploy' && t.autoRollback;

/** How the run's log names a task when it starts. */
export function describeTask(t: TaskDef): string {
  switch (t.kind) {
    case 'deploy':
      return `${t.name} (deploy to ${t.env}${t.enableRollback ? ', backup first' : ''}${t.mode === 'design' ? ', design' : ''})`;
    case 'promote':
      return `${t.name} (promote ${t.from} → ${t.to}${t.components ? ` [${t.components.join(', ')}]` : ''})`;
    case 'run':
      return `${t.name} (run in ${t.env})`;
    default:
      return t.name === t.kind ? t.kind : `${t.name} (${t.kind})`;
  }
}

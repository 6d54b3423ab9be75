import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { PipelineLog, PipelineRunDetail, RunRollbackPlan } from '../domain/pipeline-run.js';
import type { RunStatus } from '../domain/states.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { Builder } from '../builder/builder.js';
import { RewindError, notFound } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import type { PipelineDef, TaskDef } from '../domain/pipeline.js';
import type { Deployment } from '../store/deployments-repo.js';
import type { PipelineRun } from '../store/pipelines-repo.js';
import type { Store } from '../store/store.js';
import type { TargetResolver } from '../targets/target.js';
import { takeBackup } from './backup.js';
import { checkPipelines, definePipelines } from './pipeline-definitions.js';
import type { Deployer } from './deployer.js';
import type { EventHub } from './event-hub.js';
import { TaskFailed, releaseForDeploy, runCommandTask, runTaskSlug, type TaskContext } from './pipeline-tasks.js';
import { planRunRollback, rollbackRun } from './pipeline-rollback.js';
import { StaleBasis, type Expected, type ReleaseOps } from './release-ops.js';
import type { PlanBasis } from '../domain/plan.js';

export interface PipelineRunnerOptions {
  readonly store: Store;
  readonly builder: Builder;
  readonly deployer: Deployer;
  readonly releases: ReleaseOps;
  readonly targets: TargetResolver;
  readonly artifacts: ArtifactStore;
  readonly log: Logger;
  readonly hub: EventHub<PipelineLog>;
  readonly proxyHost: string;
}

const now = () => new Date().toISOString();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Release pipelines: runs execute their tasks in order, durably (a restarted server continues
 * them), and can be rolled back during or after execution, restoring each deploy task's backup.
 */
export class PipelineRunner {
  private readonly loops = new Map<string, Promise<void>>();
  private readonly cancels = new Map<string, AbortController>();
  private readonly approvals = new Map<string, (decision: { approved: boolean; actor: string }) => void>();
  private readonly rollbacks = new Map<string, Promise<void>>();
  private readonly logChains = new Map<string, Promise<void>>();

  constructor(private readonly o: PipelineRunnerOptions) {}

  // ── definitions ────────────────────────────────────────────────────────

  /** Saves definitions (from a manifest's `pipelines:` or the API), after checking their environments exist. */
  define(app: string, value: unknown, source: 'manifest' | 'api', actor: string): Promise<PipelineDef[]> {
    return definePipelines(this.o.store, app, value, source, actor);
  }

  /** Parses definitions and checks that the environments they use exist; changes nothing. */
  check(app: string, value: unknown): Promise<PipelineDef[]> {
    return checkPipelines(this.o.store, app, value);
  }

  // ── runs ───────────────────────────────────────────────────────────────

  /**
   * Starts a run of pipeline `name`. With a source upload, it is validated and built first, and
   * the `pipelines:` of its rewind.yml (re)define the app's pipelines.
   */
  async start(
    app: string,
    name: string,
    o: { source?: Readable; declaredBytes?: number; build?: string; stories: readonly string[]; description?: string; actor: string },
  ): Promise<PipelineRun> {
    const { store } = this.o;
    if (!(await store.apps.get(app))) throw notFound.app(app);
    for (const s of o.stories)
      if (!/^[A-Za-z0-9][A-Za-z0-9._#-]{0,63}$/.test(s)) throw new RewindError('INVALID_STORY_ID', `"${s}" is not a story id (letters, digits, . _ # -)`);
    let def = await store.pipelines.definition(app, name);
    let buildId = o.build ?? null;
    if (o.source) {
      const envs = await store.apps.environments(app);
      // No release yet: releases appear only in the environments the run's deploy tasks deploy to.
      const build = await this.o.builder.create(app, envs[0].name, o.source, {
        description: o.description,
        actor: o.actor,
        declaredBytes: o.declaredBytes,
        release: false,
      });
      buildId = build.id;
      if (build.manifest.pipelines !== undefined) {
        const defs = await this.define(app, build.manifest.pipelines, 'manifest', o.actor);
        def = defs.find((d) => d.name === name) ?? def;
      }
    } else if (buildId) {
      const b = await store.builds.get(app, buildId);
      if (!b) throw notFound.build(app, buildId);
    }
    if (!def)
      throw new RewindError(
        'PIPELINE_NOT_FOUND',
        `${app} has no pipeline "${name}"; define it under pipelines: in rewind.yml or with the API (see "rewind pipelines -a ${app}")`,
      );
    if (def.tasks.some((t) => t.kind === 'build') && !buildId) {
      // The newest build of uploaded source (not a backup's or a template's copy of slugs).
      const latest = (await store.builds.list(app, 50)).find((b) => b.status === 'succeeded' && Object.keys(b.sourceHashes).length > 0);
      if (!latest) throw new RewindError('NO_SOURCE', `pipeline ${name} builds, but no source was given and ${app} has no build yet; pass a source folder`);
      buildId = latest.id;
    }
    const run: PipelineRun = {
      id: newId('P'),
      app,
      pipeline: name,
      definition: def,
      status: 'running',
      build: buildId,
      stories: [...new Set(o.stories)],
      error: null,
      rollbackStatus: 'none',
      rollbackReason: null,
      createdBy: o.actor,
      createdAt: now(),
      finishedAt: null,
    };
    await store.pipelines.createRun(run);
    await store.recordAudit({
      actor: o.actor,
      action: 'pipeline.run',
      app,
      subject: run.id,
      detail: { pipeline: name, stories: run.stories, build: buildId },
    });
    this.launch(run.id);
    return run;
  }

  async view(id: string): Promise<PipelineRunDetail> {
    const run = await this.requireRun(id);
    const tasks = await this.o.store.pipelines.tasks(id);
    const { definition: _d, ...rest } = run;
    const view: PipelineRunDetail = { ...rest, tasks };
    if (run.rollbackStatus === 'none') return view;
    return { ...view, rollback: { status: run.rollbackStatus, reason: run.rollbackReason, logs: await this.o.store.pipelines.logs(id, 'rollback') } };
  }

  async requireRun(id: string): Promise<PipelineRun> {
    const run = await this.o.store.pipelines.run(id);
    if (!run) throw new RewindError('RUN_NOT_FOUND', `pipeline run ${id} does not exist; see "rewind pipelines activity -a APP"`);
    return run;
  }

  async decide(id: string, approved: boolean, actor: string): Promise<void> {
    const run = await this.requireRun(id);
    const waiting = (await this.o.store.pipelines.tasks(id)).find((t) => t.status === 'waiting');
    const resolve = this.approvals.get(id);
    if (!waiting || !resolve) throw new RewindError('NOT_AWAITING_APPROVAL', `run ${id} is ${run.status} and waits for no approval`);
    await this.o.store.recordAudit({
      actor,
      action: approved ? 'pipeline.approve' : 'pipeline.reject',
      app: run.app,
      subject: id,
      detail: { task: waiting.name },
    });
    resolve({ approved, actor });
  }

  /** Waits for a run's loop (and its rollback, if any) to finish: for tests and shutdown. */
  async settle(id: string): Promise<void> {
    await this.loops.get(id);
    await this.rollbacks.get(id);
  }

  async close(): Promise<void> {
    for (const c of this.cancels.values()) c.abort();
    await Promise.allSettled([...this.loops.values(), ...this.rollbacks.values()]);
  }

  /** After a restart: continue unfinished runs and rollbacks. */
  async recover(): Promise<void> {
    for (const run of await this.o.store.pipelines.rollingBack())
      this.startRollback(run.id, run.rollbackReason ?? 'resumed after a server restart', 'rewind', true);
    for (const run of await this.o.store.pipelines.unfinished()) {
      if (!this.loops.has(run.id) && !this.rollbacks.has(run.id)) {
        await this.log(run.id, 'run', null, 'the server restarted; continuing the run');
        this.launch(run.id);
      }
    }
  }

  // ── rollback ───────────────────────────────────────────────────────────

  /** What rolling run `id` back would do, per task, from what is live now; changes nothing. */
  async planRollback(id: string): Promise<RunRollbackPlan> {
    const run = await this.requireRun(id);
    this.refuseRolledBack(run);
    return planRunRollback(this.o, id);
  }

  /**
   * Rolls a run back, during or after its execution: cancel what is pending or running, then restore
   * backups in reverse order. With `basis` (its plan's), only if every environment is still as planned.
   */
  async rollback(id: string, actor: string, reason = `requested by ${actor}`, basis?: PlanBasis): Promise<PipelineRunDetail> {
    const run = await this.requireRun(id);
    this.refuseRolledBack(run);
    let expected: Expected[] | undefined;
    if (basis) {
      expected = await this.o.releases.expected(run.app, basis, (await planRunRollback(this.o, id)).basis);
      try {
        await this.o.releases.check(run.app, expected, this.o.store.db);
      } catch (e) {
        if (!(e instanceof StaleBasis)) throw e;
        throw await this.o.releases.staleError(run.app, basis, await planRunRollback(this.o, id));
      }
    }
    await this.o.store.pipelines.updateRun(id, { rollback_status: 'running', rollback_reason: reason });
    await this.o.store.recordAudit({ actor, action: 'pipeline.rollback', app: run.app, subject: id, detail: { reason } });
    this.startRollback(id, reason, actor, false, expected && { expected, moving: run.status === 'running' || run.status === 'waiting' });
    return this.view(id);
  }

  private refuseRolledBack(run: PipelineRun) {
    if (run.rollbackStatus !== 'none' && run.rollbackStatus !== 'failed') {
      throw new RewindError('ALREADY_ROLLED_BACK', `run ${run.id} is already ${run.rollbackStatus === 'running' ? 'being rolled back' : 'rolled back'}`);
    }
  }

  private startRollback(id: string, reason: string, actor: string, resumed: boolean, confirmed?: { expected: readonly Expected[]; moving: boolean }) {
    const p = (async () => {
      await this.log(id, 'rollback', null, resumed ? `the server restarted; continuing the rollback (${reason})` : `started: ${reason}`);
      this.cancels.get(id)?.abort();
      this.approvals.get(id)?.({ approved: false, actor });
      await this.loops.get(id);
      await rollbackRun(this.o, {
        runId: id,
        actor,
        log: (task, m) => this.log(id, 'rollback', task, m),
        waitForDeployment: (d) => this.waitForDeployment(d),
        ...confirmed,
      });
    })()
      .catch(async (e) => {
        this.o.log.error({ err: e, run: id }, 'pipeline rollback crashed');
        await this.o.store.pipelines.updateRun(id, { rollback_status: 'failed' });
        await this.log(id, 'rollback', null, `failed: ${(e as Error).message}`);
      })
      .finally(() => {
        this.rollbacks.delete(id);
        this.o.hub.end(id);
      });
    this.rollbacks.set(id, p);
  }

  // ── execution ──────────────────────────────────────────────────────────

  private launch(id: string) {
    const cancel = new AbortController();
    this.cancels.set(id, cancel);
    const p = this.execute(id, cancel.signal)
      .catch(async (e) => {
        this.o.log.error({ err: e, run: id }, 'pipeline run crashed');
        await this.finishRun(id, 'failed', `internal error: ${(e as Error).message}`);
      })
      .finally(() => {
        this.loops.delete(id);
        this.cancels.delete(id);
        if (!this.rollbacks.has(id)) this.o.hub.end(id);
      });
    this.loops.set(id, p);
  }

  private async execute(id: string, signal: AbortSignal): Promise<void> {
    const { store } = this.o;
    const run = await this.requireRun(id);
    const tasks = await store.pipelines.tasks(id);
    for (const t of tasks) {
      if (t.status === 'succeeded' || t.status === 'skipped') continue;
      if (signal.aborted) return this.cancelRest(id);
      const def = run.definition.tasks[t.index];
      await store.pipelines.updateTask(id, t.index, { status: 'running', started_at: t.startedAt ?? now(), error: null });
      await store.pipelines.updateRun(id, { status: 'running' });
      await this.log(id, 'run', t.index, `task ${t.index + 1} ${describeTask(def)}: started`);
      const ctx: TaskContext = {
        store,
        runId: id,
        app: run.app,
        index: t.index,
        actor: run.createdBy,
        log: (m) => this.log(id, 'run', t.index, m),
        waitForDeployment: (d) => this.waitForDeployment(d),
        signal,
      };
      try {
        await this.runTask(ctx, run, def, t.deployment);
        await store.pipelines.updateTask(id, t.index, { status: 'succeeded', finished_at: now() });
        await this.log(id, 'run', t.index, `task ${t.index + 1} ${def.name}: succeeded`);
      } catch (e) {
        if (signal.aborted) {
          await store.pipelines.updateTask(id, t.index, { status: 'cancelled', finished_at: now(), error: 'cancelled by a rollback' });
          return this.cancelRest(id);
        }
        const message = e instanceof TaskFailed || e instanceof RewindError ? e.message : `internal error: ${(e as Error).message}`;
        await store.pipelines.updateTask(id, t.index, { status: 'failed', finished_at: now(), error: message });
        await this.log(id, 'run', t.index, `task ${t.index + 1} ${def.name}: failed: ${message}`);
        for (const rest of tasks.filter((x) => x.index > t.index)) await store.pipelines.updateTask(id, rest.index, { status: 'skipped' });
        await this.finishRun(id, 'failed', `task ${t.index + 1} (${def.name}) failed: ${message}`);
        const auto = (await store.pipelines.tasks(id)).some(
          (x) => x.index < t.index && x.status === 'succeeded' && isAutoRollback(run.definition.tasks[x.index]),
        );
        if (auto) {
          await store.pipelines.updateRun(id, {
            rollback_status: 'running',
            rollback_reason: `automatic: task ${t.index + 1} (${def.name}) failed: ${message}`,
          });
          await store.recordAudit({
            actor: 'rewind',
            action: 'pipeline.auto-rollback',
            app: run.app,
            subject: id,
            detail: { task: def.name, error: message },
          });
          this.startRollback(id, `automatic: task ${t.index + 1} (${def.name}) failed: ${message}`, 'rewind', false);
        }
        return;
      }
    }
    await this.finishRun(id, 'succeeded', null);
  }

  private async runTask(ctx: TaskContext, run: PipelineRun, def: TaskDef, resumedDeployment: string | null): Promise<void> {
    const { store } = this.o;
    const update = (patch: Parameters<Store['pipelines']['updateTask']>[2]) => store.pipelines.updateTask(run.id, ctx.index, patch);
    const deployAndWait = async (d: Deployment) => {
      await update({ deployment: d.id, release: d.release });
      await ctx.log(`deployment ${d.id} of ${d.release} to ${d.env} started`);
      const done = await this.waitForDeployment(d.id);
      if (done.state !== 'succeeded') throw new TaskFailed(`deployment ${done.id} ${done.state}: ${done.error ?? 'no reason given'}`);
      await ctx.log(`deployment ${done.id}: ${done.release} is live in ${done.env}`);
    };
    // A deploy or promotion whose deployment was started before a restart: wait for it, don't start another.
    if (resumedDeployment) {
      const d = await store.deployments.get(resumedDeployment);
      if (d) return deployAndWait(d);
    }
    switch (def.kind) {
      case 'build': {
        const build = await this.buildOf(run, ctx);
        await update({ build: build.id });
        return;
      }
      case 'deploy': {
        const build = await this.buildOf(run, ctx);
        if (def.enableRollback) {
          const backup = await takeBackup(this.o, {
            app: run.app,
            env: def.env,
            mode: def.mode,
            label: `pipeline run ${run.id} (task ${ctx.index + 1})`,
            actor: run.createdBy,
          });
          await update({ backup_release: backup.id });
          const parts = Object.entries(backup.builds).map(([c, b]) => `${c} ${b}`);
          await ctx.log(
            `backup ${backup.id} taken of what is ${def.mode === 'design' ? 'staged' : 'live'} in ${def.env}: ${parts.join(', ') || 'nothing runs'}; ${Object.keys(backup.config).length} config keys`,
          );
        }
        const release = await releaseForDeploy(ctx, build, def);
        if (def.mode === 'design') {
          await store.recordChange({ release });
          await update({ release: release.id });
          await ctx.log(`${release.id} staged in ${def.env} (design mode: not made live)`);
          return;
        }
        return deployAndWait(await this.o.deployer.start(release, { kind: 'deploy', actor: run.createdBy, insertRelease: true }));
      }
      case 'promote': {
        const r = await this.o.releases.promote(run.app, { from: def.from, to: def.to, components: def.components, actor: run.createdBy });
        return deployAndWait(r.deployment!);
      }
      case 'run': {
        const env = await store.apps.environment(run.app, def.env);
        if (!env) throw new TaskFailed(`environment ${def.env} does not exist`);
        const url = `http://${this.o.proxyHost}:${env.proxyPort}`;
        await ctx.log(`$ ${def.command}   (URL=${url})`);
        return runCommandTask(ctx, def, url, await this.runFiles(run));
      }
      case 'approval': {
        await update({ status: 'waiting' });
        await store.pipelines.updateRun(run.id, { status: 'waiting' });
        await ctx.log(`waiting for approval: ${def.message} (rewind pipelines approve ${run.id}, or reject)`);
        const decision = await new Promise<{ approved: boolean; actor: string }>((resolve) => this.approvals.set(run.id, resolve));
        this.approvals.delete(run.id);
        await store.pipelines.updateRun(run.id, { status: 'running' });
        if (ctx.signal.aborted) throw new TaskFailed('cancelled');
        if (!decision.approved) throw new TaskFailed(`rejected by ${decision.actor}`);
        await ctx.log(`approved by ${decision.actor}`);
        return;
      }
    }
  }

  /** The run's build, once it has finished; it must have succeeded. */
  private async buildOf(run: PipelineRun, ctx: TaskContext) {
    if (!run.build) throw new TaskFailed('this run has no source to build; pass a source folder');
    await this.o.builder.waitFor(run.build);
    let b = await this.o.store.builds.byId(run.build);
    while (b?.status === 'running') {
      if (ctx.signal.aborted) throw new TaskFailed('cancelled');
      await sleep(200);
      b = await this.o.store.builds.byId(run.build);
    }
    if (b?.status !== 'succeeded') throw new TaskFailed(`build ${run.build} ${b?.status ?? 'is missing'}${b?.error ? `: ${b.error}` : ''}`);
    return b;
  }

  /** The files a `run` task runs in: the run's build (its web or first component's slug, reused or not), when there is one. */
  private async runFiles(run: PipelineRun): Promise<string | undefined> {
    const b = run.build ? await this.o.store.builds.byId(run.build) : undefined;
    const sha = b ? await runTaskSlug(this.o.store, b) : undefined;
    return sha ? this.o.artifacts.path(sha) : undefined;
  }

  async waitForDeployment(id: string): Promise<Deployment> {
    for (;;) {
      const d = (await this.o.deployer.waitFor(id)) ?? (await this.o.store.deployments.get(id));
      if (!d) throw new TaskFailed(`deployment ${id} is missing`);
      if (d.state !== 'pending' && d.state !== 'running') return d;
      await sleep(200);
    }
  }

  private async cancelRest(id: string): Promise<void> {
    for (const t of await this.o.store.pipelines.tasks(id)) {
      if (t.status === 'pending' || t.status === 'running' || t.status === 'waiting') {
        await this.o.store.pipelines.updateTask(id, t.index, { status: 'cancelled', finished_at: now() });
      }
    }
    await this.finishRun(id, 'cancelled', 'cancelled by a rollback');
  }

  private async finishRun(id: string, status: RunStatus, error: string | null): Promise<void> {
    await this.o.store.pipelines.updateRun(id, { status, error, finished_at: now() });
    await this.log(id, 'run', null, `run ${status}${error ? `: ${error}` : ''}`);
    const run = await this.o.store.pipelines.run(id);
    await this.o.store.recordAudit({ actor: 'rewind', action: `pipeline.${status}`, app: run?.app ?? null, subject: id, detail: { error } });
  }

  /** Appends to a run's log; serialized per run, since lines may come from several sources at once. */
  private log(id: string, section: 'run' | 'rollback', task: number | null, message: string): Promise<void> {
    const at = now();
    const next = (this.logChains.get(id) ?? Promise.resolve()).then(async () => {
      const entry = await this.o.store.pipelines.appendLog(id, section, task, message, at);
      this.o.hub.publish(id, entry);
    });
    const settled = next.catch((err) => this.o.log.error({ err, run: id }, 'cannot append to a pipeline log'));
    this.logChains.set(id, settled);
    void settled.finally(() => {
      if (this.logChains.get(id) === settled) this.logChains.delete(id);
    });
    return settled;
  }
}

const isAutoRollback = (t: TaskDef | undefined) => t?.kind === 'deploy' && t.autoRollback;

function describeTask(t: TaskDef): string {
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

import type { Logger } from 'pino';
import type { PipelineLog, PipelineRunDetail, RunRollbackPlan } from '../domain/pipeline-run.js';
import type { RunStatus } from '../domain/states.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import type { Builder } from '../builder/builder.js';
import { RewindError } from '../domain/errors.js';
import type { PipelineDef } from '../domain/pipeline.js';
import type { Deployment } from '../store/deployments-repo.js';
import type { PipelineRun } from '../store/pipelines-repo.js';
import type { Store } from '../store/store.js';
import type { TargetResolver } from '../targets/target.js';
import { describeTask, isAutoRollback, runTask, waitForDeployment, type TaskRunDeps } from './pipeline-task-run.js';
import { newRun, type RunRequest } from './pipeline-run-request.js';
import { RunLog } from './pipeline-run-log.js';
import { checkPipelines, definePipelines } from './pipeline-definitions.js';
import type { Deployer } from './deployer.js';
import type { EventHub } from './event-hub.js';
import { TaskFailed, type TaskContext } from './pipeline-tasks.js';
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

/**
 * Release pipelines: runs execute their tasks in order, durably (a restarted server continues
 * them), and can be rolled back during or after execution, restoring each deploy task's backup.
 */
export class PipelineRunner {
  private readonly loops = new Map<string, Promise<void>>();
  private readonly cancels = new Map<string, AbortController>();
  private readonly approvals = new Map<string, (decision: { approved: boolean; actor: string }) => void>();
  private readonly rollbacks = new Map<string, Promise<void>>();
  private readonly runLog: RunLog;

  private readonly taskDeps: TaskRunDeps;

  constructor(private readonly options: PipelineRunnerOptions) {
    this.runLog = new RunLog(options.store, options.hub, options.log);
    this.taskDeps = {
      ...options,
      awaitDecision: async (runId) => {
        const decision = await new Promise<{ approved: boolean; actor: string }>((resolve) => this.approvals.set(runId, resolve));
        this.approvals.delete(runId);
        return decision;
      },
    };
  }

  // ── definitions ────────────────────────────────────────────────────────

  /** Saves definitions (from a manifest's `pipelines:` or the API), after checking their environments exist. */
  define(app: string, value: unknown, source: 'manifest' | 'api', actor: string): Promise<PipelineDef[]> {
    return definePipelines(this.options.store, app, value, source, actor);
  }

  /** Parses definitions and checks that the environments they use exist; changes nothing. */
  check(app: string, value: unknown): Promise<PipelineDef[]> {
    return checkPipelines(this.options.store, app, value);
  }

  // ── runs ───────────────────────────────────────────────────────────────

  /**
   * Starts a run of pipeline `name`. With a source upload, it is validated and built first, and
   * the `pipelines:` of its rewind.yml (re)define the app's pipelines.
   */
  async start(app: string, name: string, o: RunRequest): Promise<PipelineRun> {
    const { store } = this.options;
    const run = await newRun(this.options, app, name, o);
    await store.pipelines.createRun(run);
    await store.recordAudit({
      actor: o.actor,
      action: 'pipeline.run',
      app,
      subject: run.id,
      detail: { pipeline: name, stories: run.stories, build: run.build },
    });
    this.launch(run.id);
    return run;
  }

  async view(id: string): Promise<PipelineRunDetail> {
    const run = await this.requireRun(id);
    const tasks = await this.options.store.pipelines.tasks(id);
    const { definition: _d, ...rest } = run;
    const view: PipelineRunDetail = { ...rest, tasks };
    if (run.rollbackStatus === 'none') return view;
    return { ...view, rollback: { status: run.rollbackStatus, reason: run.rollbackReason, logs: await this.options.store.pipelines.logs(id, 'rollback') } };
  }

  async requireRun(id: string): Promise<PipelineRun> {
    const run = await this.options.store.pipelines.run(id);
    if (!run) throw new RewindError('RUN_NOT_FOUND', `pipeline run ${id} does not exist; see "rewind pipelines activity -a APP"`);
    return run;
  }

  async decide(id: string, approved: boolean, actor: string): Promise<void> {
    const run = await this.requireRun(id);
    const waiting = (await this.options.store.pipelines.tasks(id)).find((t) => t.status === 'waiting');
    const resolve = this.approvals.get(id);
    if (!waiting || !resolve) throw new RewindError('NOT_AWAITING_APPROVAL', `run ${id} is ${run.status} and waits for no approval`);
    await this.options.store.recordAudit({
      actor,
      action: approved ? 'pipeline.approve' : 'pipeline.reject',
      app: run.app,
      subject: id,
      detail: { task: waiting.name },
    });
    resolve({ approved, actor });
  }

  async close(): Promise<void> {
    for (const c of this.cancels.values()) c.abort();
    await Promise.allSettled([...this.loops.values(), ...this.rollbacks.values()]);
  }

  /** After a restart: continue unfinished runs and rollbacks. */
  async recover(): Promise<void> {
    for (const run of await this.options.store.pipelines.rollingBack())
      this.startRollback(run.id, run.rollbackReason ?? 'resumed after a server restart', 'rewind', true);
    for (const run of await this.options.store.pipelines.unfinished()) {
      if (!this.loops.has(run.id) && !this.rollbacks.has(run.id)) {
        await this.runLog.append(run.id, 'run', null, 'the server restarted; continuing the run');
        this.launch(run.id);
      }
    }
  }

  // ── rollback ───────────────────────────────────────────────────────────

  /** What rolling run `id` back would do, per task, from what is live now; changes nothing. */
  async planRollback(id: string): Promise<RunRollbackPlan> {
    const run = await this.requireRun(id);
    this.refuseRolledBack(run);
    return planRunRollback(this.options, id);
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
      expected = await this.options.releases.expected(run.app, basis, (await planRunRollback(this.options, id)).basis);
      try {
        await this.options.releases.check(run.app, expected, this.options.store.db);
      } catch (e) {
        if (!(e instanceof StaleBasis)) throw e;
        throw await this.options.releases.staleError(run.app, basis, await planRunRollback(this.options, id));
      }
    }
    await this.options.store.pipelines.updateRun(id, { rollback_status: 'running', rollback_reason: reason });
    await this.options.store.recordAudit({ actor, action: 'pipeline.rollback', app: run.app, subject: id, detail: { reason } });
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
      await this.runLog.append(id, 'rollback', null, resumed ? `the server restarted; continuing the rollback (${reason})` : `started: ${reason}`);
      this.cancels.get(id)?.abort();
      this.approvals.get(id)?.({ approved: false, actor });
      await this.loops.get(id);
      await rollbackRun(this.options, {
        runId: id,
        actor,
        log: (task, m) => this.runLog.append(id, 'rollback', task, m),
        waitForDeployment: (d) => this.waitForDeployment(d),
        ...confirmed,
      });
    })()
      .catch(async (e) => {
        this.options.log.error({ err: e, run: id }, 'pipeline rollback crashed');
        await this.options.store.pipelines.updateRun(id, { rollback_status: 'failed' });
        await this.runLog.append(id, 'rollback', null, `failed: ${(e as Error).message}`);
      })
      .finally(() => {
        this.rollbacks.delete(id);
        this.options.hub.end(id);
      });
    this.rollbacks.set(id, p);
  }

  // ── execution ──────────────────────────────────────────────────────────

  private launch(id: string) {
    const cancel = new AbortController();
    this.cancels.set(id, cancel);
    const p = this.execute(id, cancel.signal)
      .catch(async (e) => {
        this.options.log.error({ err: e, run: id }, 'pipeline run crashed');
        await this.finishRun(id, 'failed', `internal error: ${(e as Error).message}`);
      })
      .finally(() => {
        this.loops.delete(id);
        this.cancels.delete(id);
        if (!this.rollbacks.has(id)) this.options.hub.end(id);
      });
    this.loops.set(id, p);
  }

  private async execute(id: string, signal: AbortSignal): Promise<void> {
    const { store } = this.options;
    const run = await this.requireRun(id);
    const tasks = await store.pipelines.tasks(id);
    for (const t of tasks) {
      if (t.status === 'succeeded' || t.status === 'skipped') continue;
      if (signal.aborted) return this.cancelRest(id);
      const def = run.definition.tasks[t.index];
      await store.pipelines.updateTask(id, t.index, { status: 'running', started_at: t.startedAt ?? now(), error: null });
      await store.pipelines.updateRun(id, { status: 'running' });
      await this.runLog.append(id, 'run', t.index, `task ${t.index + 1} ${describeTask(def)}: started`);
      const ctx: TaskContext = {
        store,
        runId: id,
        app: run.app,
        index: t.index,
        actor: run.createdBy,
        log: (m) => this.runLog.append(id, 'run', t.index, m),
        waitForDeployment: (d) => this.waitForDeployment(d),
        signal,
      };
      try {
        await runTask(this.taskDeps, ctx, run, def, t.deployment);
        await store.pipelines.updateTask(id, t.index, { status: 'succeeded', finished_at: now() });
        await this.runLog.append(id, 'run', t.index, `task ${t.index + 1} ${def.name}: succeeded`);
      } catch (e) {
        if (signal.aborted) {
          await store.pipelines.updateTask(id, t.index, { status: 'cancelled', finished_at: now(), error: 'cancelled by a rollback' });
          return this.cancelRest(id);
        }
        const message = e instanceof TaskFailed || e instanceof RewindError ? e.message : `internal error: ${(e as Error).message}`;
        await store.pipelines.updateTask(id, t.index, { status: 'failed', finished_at: now(), error: message });
        await this.runLog.append(id, 'run', t.index, `task ${t.index + 1} ${def.name}: failed: ${message}`);
        for (const rest of tasks.filter((x) => x.index > t.index)) await store.pipelines.updateTask(id, rest.index, { status: 'skipped' });
        await this.finishRun(id, 'failed', `task ${t.index + 1} (${def.name}) failed: ${message}`);
        const auto = (await store.pipelines.tasks(id)).some(
          (x) => x.index < t.index && x.status === 'succeeded' && isAutoRollback(run.definition.tasks[x.index]),
        );
        if (auto) {
          const reason = `automatic: task ${t.index + 1} (${def.name}) failed: ${message}`;
          await store.pipelines.updateRun(id, { rollback_status: 'running', rollback_reason: reason });
          await store.recordAudit({
            actor: 'rewind',
            action: 'pipeline.auto-rollback',
            app: run.app,
            subject: id,
            detail: { task: def.name, error: message },
          });
          this.startRollback(id, reason, 'rewind', false);
        }
        return;
      }
    }
    await this.finishRun(id, 'succeeded', null);
  }

  waitForDeployment(id: string): Promise<Deployment> {
    return waitForDeployment(this.options, id);
  }

  private async cancelRest(id: string): Promise<void> {
    for (const t of await this.options.store.pipelines.tasks(id)) {
      if (t.status === 'pending' || t.status === 'running' || t.status === 'waiting') {
        await this.options.store.pipelines.updateTask(id, t.index, { status: 'cancelled', finished_at: now() });
      }
    }
    await this.finishRun(id, 'cancelled', 'cancelled by a rollback');
  }

  private async finishRun(id: string, status: RunStatus, error: string | null): Promise<void> {
    await this.options.store.pipelines.updateRun(id, { status, error, finished_at: now() });
    await this.runLog.append(id, 'run', null, `run ${status}${error ? `: ${error}` : ''}`);
    const run = await this.options.store.pipelines.run(id);
    await this.options.store.recordAudit({ actor: 'rewind', action: `pipeline.${status}`, app: run?.app ?? null, subject: id, detail: { error } });
  }
}

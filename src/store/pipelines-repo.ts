import { sql } from 'kysely';
import type { PipelineDef } from '../domain/pipeline.js';
import { type Db, serialized } from './db.js';
import type { PipelineRunsTable, PipelineTasksTable } from './schema.js';
import type { PipelineLog, PipelineRun, PipelineStory, PipelineTask } from '../domain/pipeline-run.js';
import type { RollbackStatus, RunStatus, TaskStatus } from '../domain/states.js';

export type { PipelineRun };

export type TaskPatch = Partial<
  Pick<
    PipelineTasksTable,
    'status' | 'started_at' | 'finished_at' | 'build' | 'release' | 'deployment' | 'backup_release' | 'rollback_status' | 'rollback_deployment' | 'error'
  >
>;
export type RunPatch = Partial<Pick<PipelineRunsTable, 'status' | 'build' | 'error' | 'rollback_status' | 'rollback_reason' | 'finished_at'>>;

const toRun = (r: PipelineRunsTable): PipelineRun => ({
  id: r.id,
  app: r.app,
  pipeline: r.pipeline,
  definition: JSON.parse(r.definition) as PipelineDef,
  status: r.status as RunStatus,
  build: r.build,
  stories: JSON.parse(r.stories) as string[],
  error: r.error,
  rollbackStatus: r.rollback_status as RollbackStatus,
  rollbackReason: r.rollback_reason,
  createdBy: r.created_by,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
});

/** Pipeline definitions, runs, their tasks, logs and the stories seen on them. */
export class PipelinesRepo {
  constructor(private readonly db: Db) {}

  async saveDefinition(app: string, def: PipelineDef, source: 'manifest' | 'api', now: string): Promise<void> {
    await this.db
      .insertInto('pipelines')
      .values({ app, name: def.name, definition: JSON.stringify(def), source, updated_at: now })
      .onConflict((oc) => oc.columns(['app', 'name']).doUpdateSet({ definition: JSON.stringify(def), source, updated_at: now }))
      .execute();
  }

  async deleteDefinition(app: string, name: string): Promise<void> {
    await this.db.deleteFrom('pipelines').where('app', '=', app).where('name', '=', name).execute();
  }

  async definitions(app: string): Promise<Array<{ def: PipelineDef; source: string; updatedAt: string }>> {
    const rows = await this.db.selectFrom('pipelines').selectAll().where('app', '=', app).orderBy('name').execute();
    return rows.map((r) => ({ def: JSON.parse(r.definition) as PipelineDef, source: r.source, updatedAt: r.updated_at }));
  }

  async definition(app: string, name: string): Promise<PipelineDef | undefined> {
    const r = await this.db.selectFrom('pipelines').select('definition').where('app', '=', app).where('name', '=', name).executeTakeFirst();
    return r && (JSON.parse(r.definition) as PipelineDef);
  }

  async createRun(run: PipelineRun): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('pipeline_runs')
        .values({
          id: run.id,
          app: run.app,
          pipeline: run.pipeline,
          definition: JSON.stringify(run.definition),
          status: run.status,
          build: run.build,
          stories: JSON.stringify(run.stories),
          error: null,
          rollback_status: 'none',
          rollback_reason: null,
          created_by: run.createdBy,
          created_at: run.createdAt,
          finished_at: null,
        })
        .execute();
      for (const [i, t] of run.definition.tasks.entries()) {
        await tx.insertInto('pipeline_tasks').values({ run: run.id, idx: i, kind: t.kind, name: t.name, status: 'pending', rollback_status: 'none' }).execute();
      }
      for (const story of new Set(run.stories)) await tx.insertInto('run_stories').values({ app: run.app, story, run: run.id }).execute();
    });
  }

  async run(id: string): Promise<PipelineRun | undefined> {
    const r = await this.db.selectFrom('pipeline_runs').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toRun(r);
  }

  async runs(app: string, o: { story?: string; limit?: number } = {}): Promise<PipelineRun[]> {
    let q = this.db.selectFrom('pipeline_runs').selectAll().where('app', '=', app);
    if (o.story) q = q.where('id', 'in', this.db.selectFrom('run_stories').select('run').where('app', '=', app).where('story', '=', o.story));
    const rows = await q
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(o.limit ?? 50)
      .execute();
    return rows.map(toRun);
  }

  async unfinished(): Promise<PipelineRun[]> {
    const rows = await this.db.selectFrom('pipeline_runs').selectAll().where('status', 'in', ['running', 'waiting']).execute();
    return rows.map(toRun);
  }

  async rollingBack(): Promise<PipelineRun[]> {
    const rows = await this.db.selectFrom('pipeline_runs').selectAll().where('rollback_status', '=', 'running').execute();
    return rows.map(toRun);
  }

  async updateRun(id: string, patch: RunPatch): Promise<void> {
    await this.db.updateTable('pipeline_runs').set(patch).where('id', '=', id).execute();
  }

  async tasks(run: string): Promise<PipelineTask[]> {
    const def = (await this.run(run))?.definition;
    const rows = await this.db.selectFrom('pipeline_tasks').selectAll().where('run', '=', run).orderBy('idx').execute();
    return rows.map((t) => {
      const { kind: _k, name: _n, ...options } = (def?.tasks[t.idx] ?? {}) as Record<string, unknown>;
      return {
        index: t.idx,
        kind: t.kind,
        name: t.name,
        status: t.status as TaskStatus,
        startedAt: t.started_at,
        finishedAt: t.finished_at,
        options,
        build: t.build,
        release: t.release,
        deployment: t.deployment,
        backupRelease: t.backup_release,
        rollbackStatus: t.rollback_status as RollbackStatus,
        rollbackDeployment: t.rollback_deployment,
        error: t.error,
      };
    });
  }

  async updateTask(run: string, idx: number, patch: TaskPatch): Promise<void> {
    await this.db.updateTable('pipeline_tasks').set(patch).where('run', '=', run).where('idx', '=', idx).execute();
  }

  async appendLog(run: string, section: 'run' | 'rollback', task: number | null, message: string, at: string): Promise<PipelineLog> {
    const row = await serialized(this.db, `pipeline-logs:${run}`, (w) =>
      w
        .insertInto('pipeline_logs')
        .values({ run, seq: sql<number>`(select coalesce(max(seq), 0) + 1 from pipeline_logs where run = ${run})`, section, task, at, message })
        .returning('seq')
        .executeTakeFirstOrThrow(),
    );
    return { seq: Number(row.seq), at, section, task, message };
  }

  async logs(run: string, section?: 'run' | 'rollback'): Promise<PipelineLog[]> {
    let q = this.db.selectFrom('pipeline_logs').select(['seq', 'at', 'section', 'task', 'message']).where('run', '=', run);
    if (section) q = q.where('section', '=', section);
    return q.orderBy('seq').execute();
  }

  async stories(app: string): Promise<PipelineStory[]> {
    const rows = await this.db
      .selectFrom('run_stories')
      .innerJoin('pipeline_runs', 'pipeline_runs.id', 'run_stories.run')
      .select(['run_stories.story', 'pipeline_runs.created_at', 'pipeline_runs.status'])
      .where('run_stories.app', '=', app)
      .orderBy('pipeline_runs.created_at', 'desc')
      .execute();
    const out = new Map<string, PipelineStory>();
    for (const r of rows) {
      const s = out.get(r.story);
      if (s) out.set(r.story, { ...s, runs: s.runs + 1 });
      else out.set(r.story, { id: r.story, runs: 1, lastRun: r.created_at, lastStatus: r.status });
    }
    return [...out.values()];
  }
}

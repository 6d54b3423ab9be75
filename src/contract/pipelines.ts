import { Type, type Static } from '@sinclair/typebox';
import { RUN_STATUSES, TASK_STATUSES, ROLLBACK_STATUSES, RUN_ROLLBACK_ACTIONS } from '../domain/states.js';
import { List, Nullable, StringEnum, type View } from './common.js';
import { Basis, EnvBasisView, PlanView } from './plans.js';

/** Pipelines, their runs, tasks, logs, rollback plans and stories. */

export const PipelineView = Type.Object({
  app: Type.String(),
  name: Type.String(),
  source: Type.String({ description: "manifest (from the newest build's rewind.yml) | api" }),
  tasks: List(Type.Unknown(), { description: 'the task definitions, as under pipelines: in rewind.yml' }),
  updatedAt: Type.String(),
});
export type PipelineView = View<typeof PipelineView>;

export const RunStatus = StringEnum(RUN_STATUSES);
export type RunStatus = Static<typeof RunStatus>;
export const TaskStatus = StringEnum(TASK_STATUSES);
export type TaskStatus = Static<typeof TaskStatus>;
/** none: never rolled back; not rolled back: the run was rolled back but this task had no backup. */
export const RollbackStatus = StringEnum(ROLLBACK_STATUSES, 'none: never rolled back; not rolled back: the run was rolled back but this task had no backup');
export type RollbackStatus = Static<typeof RollbackStatus>;

export const PipelineTaskView = Type.Object({
  index: Type.Integer(),
  kind: Type.String(),
  name: Type.String(),
  status: TaskStatus,
  startedAt: Nullable(Type.String()),
  finishedAt: Nullable(Type.String()),
  options: Type.Unknown({ description: "The definition's options (env, enableRollback, …)." }),
  build: Nullable(Type.String()),
  release: Nullable(Type.String()),
  deployment: Nullable(Type.String()),
  backupRelease: Nullable(Type.String(), 'The backup release taken before a deploy task with enableRollback.'),
  rollbackStatus: RollbackStatus,
  rollbackDeployment: Nullable(Type.String()),
  error: Nullable(Type.String()),
});
export type PipelineTaskView = View<typeof PipelineTaskView>;

export const PipelineLogView = Type.Object({
  seq: Type.Integer(),
  at: Type.String(),
  section: Type.String({ description: 'run | rollback' }),
  task: Nullable(Type.Integer()),
  message: Type.String(),
});
export type PipelineLogView = View<typeof PipelineLogView>;

export const PipelineRunView = Type.Object({
  id: Type.String(),
  app: Type.String(),
  pipeline: Type.String(),
  status: RunStatus,
  stories: List(Type.String()),
  build: Nullable(Type.String()),
  error: Nullable(Type.String()),
  rollbackStatus: RollbackStatus,
  rollbackReason: Nullable(Type.String()),
  createdBy: Type.String(),
  createdAt: Type.String(),
  finishedAt: Nullable(Type.String()),
  tasks: List(PipelineTaskView),
  rollback: Type.Optional(
    Type.Object(
      { status: RollbackStatus, reason: Nullable(Type.String()), logs: List(PipelineLogView) },
      { description: 'Present only when a rollback was triggered: its log lines.' },
    ),
  ),
});
export type PipelineRunView = View<typeof PipelineRunView>;

/** One task of a run's rollback plan, in the order the rollback takes them (newest first). */
export const RunRollbackTaskView = Type.Object({
  index: Type.Integer(),
  name: Type.String(),
  env: Type.String(),
  action: StringEnum(RUN_ROLLBACK_ACTIONS, 'restore: a deployment of the backup; stage: a design-mode backup staged again'),
  backup: Nullable(Type.String()),
  why: Nullable(Type.String(), 'Why a task is not rolled back.'),
  plan: Nullable(PlanView, 'From what is live (staged, in design mode) now to the backup; after an earlier restore in the same environment, from that backup.'),
});
export type RunRollbackTaskView = View<typeof RunRollbackTaskView>;

/** What rolling a run back would do: per task the plan, warnings, and the basis to send back. */
export const RunRollbackPlanView = Type.Object(
  {
    run: Type.String(),
    app: Type.String(),
    status: RunStatus,
    tasks: List(RunRollbackTaskView),
    warnings: List(Type.String(), { description: 'e.g. "production was changed after this run: release R… by admin"' }),
    basis: List(EnvBasisView, {
      description: 'Send it back as `basis`: the rollback starts only if every environment is still as planned, else 409 STALE_PLAN.',
    }),
  },
  { description: "What a run's rollback would do, changing nothing." },
);
export type RunRollbackPlanView = View<typeof RunRollbackPlanView>;

export const StoryView = Type.Object({
  id: Type.String(),
  runs: Type.Integer(),
  lastRun: Type.String(),
  lastStatus: Type.String(),
});
export type StoryView = View<typeof StoryView>;

/** A story's pipeline activity: the runs that name it, newest first. */
export const StoryRunsView = Type.Object({ id: Type.String(), runs: List(PipelineRunView) });
export type StoryRunsView = View<typeof StoryRunsView>;

// ── requests ──────────────────────────────────────────────────────────────

export const RunParams = Type.Object({ app: Type.String(), name: Type.String() });
export const RunQuery = Type.Object({
  story: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'work-item ids (repeatable)' })),
  description: Type.Optional(Type.String({ maxLength: 500 })),
});
export const ActivityQuery = Type.Object({ story: Type.Optional(Type.String()), limit: Type.Integer({ minimum: 1, maximum: 500, default: 50 }) });
export const DefineBody = Type.Object(
  { pipelines: Type.Unknown({ description: 'name → list of tasks, as under pipelines: in rewind.yml' }) },
  { additionalProperties: false },
);
/** A run's rollback (or, with dryRun, its plan). */
export const RunRollbackBody = Type.Optional(
  Type.Object(
    {
      reason: Type.Optional(Type.String({ maxLength: 500 })),
      dryRun: Type.Optional(Type.Boolean({ description: 'only the plan (per task, from what is live now to its backup); change nothing' })),
      basis: Basis,
    },
    { additionalProperties: false },
  ),
);
export const StoryParams = Type.Object({ app: Type.String(), id: Type.String() });
/** A run's rollback request (without dryRun: `rollbackRunPlan` asks for the plan). */
export type RunRollbackRequest = Readonly<Omit<NonNullable<Static<typeof RunRollbackBody>>, 'dryRun'>>;

import type { EnvPlan } from './env-plan.js';
import type { PipelineDef } from './pipeline.js';
import type { PlanBasis } from './plan.js';
import type { RollbackStatus, RunRollbackAction, RunStatus, TaskStatus } from './states.js';

/** One run of a pipeline, as stored (with the definition it ran). */
export interface PipelineRun {
  readonly id: string;
  readonly app: string;
  readonly pipeline: string;
  readonly definition: PipelineDef;
  readonly status: RunStatus;
  readonly build: string | null;
  readonly stories: readonly string[];
  readonly error: string | null;
  readonly rollbackStatus: RollbackStatus;
  readonly rollbackReason: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

/** One task of a run. */
export interface PipelineTask {
  readonly index: number;
  readonly kind: string;
  readonly name: string;
  readonly status: TaskStatus;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** The definition's options (env, enableRollback, …). */
  readonly options: unknown;
  readonly build: string | null;
  readonly release: string | null;
  readonly deployment: string | null;
  /** The backup release taken before a deploy task with enableRollback. */
  readonly backupRelease: string | null;
  readonly rollbackStatus: RollbackStatus;
  readonly rollbackDeployment: string | null;
  readonly error: string | null;
}

/** One log line of a run. */
export interface PipelineLog {
  readonly seq: number;
  readonly at: string;
  /** run | rollback */
  readonly section: string;
  readonly task: number | null;
  readonly message: string;
}

/** A run with its tasks (no definition) and, once rolled back, its rollback's log. */
export interface PipelineRunDetail extends Omit<PipelineRun, 'definition'> {
  readonly tasks: readonly PipelineTask[];
  readonly rollback?: { readonly status: RollbackStatus; readonly reason: string | null; readonly logs: readonly PipelineLog[] };
}

/** A story id seen on an app's runs. */
export interface PipelineStory {
  readonly id: string;
  readonly runs: number;
  readonly lastRun: string;
  readonly lastStatus: string;
}

/** One task of a run's rollback plan, in the order the rollback takes them (newest first). */
export interface RunRollbackTask {
  readonly index: number;
  readonly name: string;
  readonly env: string;
  readonly action: RunRollbackAction;
  readonly backup: string | null;
  /** Why a task is not rolled back. */
  readonly why: string | null;
  readonly plan: EnvPlan | null;
}

/** What rolling a run back would do: per task the plan, warnings, and the basis to send back. */
export interface RunRollbackPlan {
  readonly run: string;
  readonly app: string;
  readonly status: RunStatus;
  readonly tasks: readonly RunRollbackTask[];
  readonly warnings: readonly string[];
  readonly basis: PlanBasis;
}

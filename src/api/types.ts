/**
 * Shapes of the HTTP API's JSON bodies, shared by the server, the CLI's client and the console.
 * Times are ISO-8601 strings.
 */

export interface ApiError {
  readonly error: { readonly code: string; readonly message: string; readonly details?: unknown };
}

export interface EnvironmentView {
  readonly app: string;
  readonly name: string;
  readonly position: number;
  readonly activeRelease: string | null;
  readonly proxyPort: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** healthy | unhealthy | empty (runs nothing) | unknown (agent unreachable) | deploying */
  readonly health: string;
  /** component → URL, for HTTP components other than the one at `url` */
  readonly components: Readonly<Record<string, string>>;
  readonly createdAt: string;
}

export interface AppView {
  readonly name: string;
  readonly createdAt: string;
  readonly environments: readonly EnvironmentView[];
}

export interface BuildView {
  readonly id: string;
  readonly app: string;
  readonly status: 'running' | 'succeeded' | 'failed';
  readonly description: string;
  /** The components this build built; a release's other components reuse earlier builds. */
  readonly components: readonly string[];
  readonly sourceSha256: string;
  /** The first component's slug (see `artifacts`). */
  readonly artifactSha256: string | null;
  /** component → slug sha256 */
  readonly artifacts: Readonly<Record<string, string>>;
  /** The release a succeeded build created (in the env it was uploaded for). */
  readonly release: string | null;
  readonly env: string;
  readonly error: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

export interface ReleaseView {
  readonly id: string;
  readonly app: string;
  readonly env: string;
  /** The build of the `web` component (else the first component): the BUILD column. */
  readonly build: string | null;
  /** component name → build id */
  readonly builds: Readonly<Record<string, string>>;
  readonly kind: 'build' | 'env' | 'rollback' | 'promote' | 'revert' | 'backup' | 'upgrade';
  readonly description: string;
  /** `active` for the live one, `rolled back` for one rolled back in its environment, '' otherwise. */
  readonly status: string;
  readonly config: Readonly<Record<string, string>>;
  readonly manifest: unknown;
  /** For rollbacks: the release that was copied. */
  readonly source: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
}

export type DeploymentState = 'pending' | 'running' | 'succeeded' | 'failed' | 'rolled-back';

export interface DeploymentView {
  readonly id: string;
  readonly app: string;
  readonly env: string;
  readonly release: string;
  /** The release that was active when it started. */
  readonly fromRelease: string | null;
  readonly kind: 'deploy' | 'promote' | 'rollback' | 'config';
  readonly state: DeploymentState;
  readonly error: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

export interface DeploymentEventView {
  readonly seq: number;
  readonly at: string;
  readonly message: string;
}

export interface ComponentStepView {
  readonly component: string;
  readonly action: 'keep' | 'change' | 'add' | 'remove';
  /** build ids */
  readonly from: string | null;
  readonly to: string | null;
}

export interface ConfigStepView {
  readonly key: string;
  readonly action: 'add' | 'change' | 'remove';
  /** Values of secret-looking keys are masked (********). */
  readonly from: string | null;
  readonly to: string | null;
}

/** What a rollback, revert or promotion will do (or did) to an environment, computed from values only. */
export interface PlanView {
  readonly app: string;
  readonly env: string;
  /** The active release now (null: the environment runs nothing). */
  readonly from: string | null;
  /** The release being copied or reverted, when there is one. */
  readonly source: string | null;
  /** Description of the release the action makes. */
  readonly description: string;
  /** True when the environment ends up running nothing. */
  readonly empty: boolean;
  readonly components: readonly ComponentStepView[];
  readonly config: readonly ConfigStepView[];
}

/** Returned by promote, rollback, revert and env changes: the release made (if any), its deployment (if promoted), and the plan. */
export interface ReleaseChange {
  readonly release: ReleaseView;
  readonly deployment: DeploymentView | null;
  readonly plan?: PlanView;
}

export interface ProcessView {
  readonly id: string;
  readonly component: string;
  readonly release: string;
  readonly build: string;
  readonly pid: number | null;
  readonly port: number | null;
  readonly state: string;
  readonly startedAt: string;
  readonly restarts: number;
  readonly rss: number | null;
  /** For warm-standby instances: when they will be stopped. */
  readonly standbyUntil: string | null;
}

export interface AuditEntryView {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly app: string | null;
  readonly env: string | null;
  readonly subject: string | null;
  readonly detail: unknown;
}

/** One `change` event of GET /api/events: the audit entry just recorded. */
export interface ChangeEvent {
  /** e.g. app.create, build.create, release.create, deployment.rollback, deployment.succeeded, deployment.failed */
  readonly action: string;
  readonly app: string | null;
  readonly env: string | null;
  readonly subject: string | null;
  readonly actor: string;
  readonly at: string;
}

// ── pipelines ─────────────────────────────────────────────────────────────

export interface PipelineView {
  readonly app: string;
  readonly name: string;
  /** manifest (from the newest build's rewind.yml) | api */
  readonly source: string;
  readonly tasks: readonly unknown[];
  readonly updatedAt: string;
}

export type RunStatus = 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';
export type TaskStatus = 'pending' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled' | 'skipped';
/** none: never rolled back; not rolled back: the run was rolled back but this task had no backup. */
export type RollbackStatus = 'none' | 'running' | 'rolled back' | 'failed' | 'not rolled back';

export interface PipelineTaskView {
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

export interface PipelineLogView {
  readonly seq: number;
  readonly at: string;
  /** run | rollback */
  readonly section: string;
  readonly task: number | null;
  readonly message: string;
}

export interface PipelineRunView {
  readonly id: string;
  readonly app: string;
  readonly pipeline: string;
  readonly status: RunStatus;
  readonly stories: readonly string[];
  readonly build: string | null;
  readonly error: string | null;
  readonly rollbackStatus: RollbackStatus;
  readonly rollbackReason: string | null;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly finishedAt: string | null;
  readonly tasks: readonly PipelineTaskView[];
  /** Present only when a rollback was triggered: its log lines. */
  readonly rollback?: { readonly status: RollbackStatus; readonly reason: string | null; readonly logs: readonly PipelineLogView[] };
}

export interface StoryView {
  readonly id: string;
  readonly runs: number;
  readonly lastRun: string;
  readonly lastStatus: string;
}

import { Kind, Type, type ArrayOptions, type Static, type TSchema } from '@sinclair/typebox';

/**
 * Shapes of the HTTP API's JSON bodies, shared by the server, the CLI's client and the console.
 * Each is a TypeBox schema (the routes' `response`, hence the OpenAPI document, and what
 * fast-json-stringify writes: a field missing here is dropped from the reply) and a TS type of
 * the same name. Times are ISO-8601 strings.
 */

/** Bodies are values: readonly all the way down, as the hand-written interfaces were. */
type DeepReadonly<T> = T extends readonly (infer E)[] ? readonly DeepReadonly<E>[] : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;
type View<S extends TSchema> = DeepReadonly<Static<S>>;

/**
 * `S` or null, as `type: [S's type, "null"]` rather than `anyOf`: fast-json-stringify writes a
 * type list with plain checks, but an `anyOf` through ajv, compiled on a route's first reply
 * (which made the first rollback after a start 100+ ms slower).
 */
const Nullable = <S extends TSchema>(s: S, description?: string) => {
  const { [Kind]: _kind, ...schema } = s as TSchema & Record<string, unknown>;
  return Type.Unsafe<Static<S> | null>({ ...schema, type: [s.type as string, 'null'], ...(description ? { description } : {}) });
};
/** A string from a fixed set: `enum` in the document, a literal union in TS; serialized as a plain string. */
const StringEnum = <const V extends readonly string[]>(values: V, description?: string) =>
  Type.Unsafe<V[number]>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });
const StringMap = (description?: string) => Type.Record(Type.String(), Type.String(), description ? { description } : {});
/** An array whose TS type is readonly, so that the views (and the routes' replies) can be readonly lists. */
export const List = <S extends TSchema>(item: S, options: ArrayOptions = {}) => Type.Unsafe<readonly Static<S>[]>(Type.Array(item, options));

export const ApiError = Type.Object(
  { error: Type.Object({ code: Type.String({ description: 'stable code, e.g. RELEASE_NOT_FOUND' }), message: Type.String(), details: Type.Optional(Type.Unknown()) }) },
  { description: 'An error: its code, what to do next, and details for some codes' },
);
export type ApiError = View<typeof ApiError>;

export const EnvironmentView = Type.Object({
  app: Type.String(),
  name: Type.String(),
  position: Type.Integer(),
  activeRelease: Nullable(Type.String()),
  proxyPort: Type.Integer(),
  url: Type.String({ description: 'http://127.0.0.1:PORT' }),
  health: Type.String({ description: 'healthy | unhealthy | empty (runs nothing) | unknown (agent unreachable) | deploying' }),
  components: StringMap('component → URL, for HTTP components other than the one at `url`'),
  createdAt: Type.String(),
});
export type EnvironmentView = View<typeof EnvironmentView>;

export const AppView = Type.Object({
  name: Type.String(),
  createdAt: Type.String(),
  environments: List(EnvironmentView),
});
export type AppView = View<typeof AppView>;

export const BuildView = Type.Object({
  id: Type.String(),
  app: Type.String(),
  status: StringEnum(['running', 'succeeded', 'failed']),
  description: Type.String(),
  components: List(Type.String(), { description: 'The components this build built; a release\'s other components reuse earlier builds.' }),
  sourceSha256: Type.String(),
  artifactSha256: Nullable(Type.String(), "The first component's slug (see `artifacts`)."),
  artifacts: StringMap('component → slug sha256'),
  release: Nullable(Type.String(), 'The release a succeeded build created (in the env it was uploaded for).'),
  env: Type.String(),
  error: Nullable(Type.String()),
  createdBy: Type.String(),
  createdAt: Type.String(),
  finishedAt: Nullable(Type.String()),
});
export type BuildView = View<typeof BuildView>;

export const ReleaseView = Type.Object({
  id: Type.String(),
  app: Type.String(),
  env: Type.String(),
  build: Nullable(Type.String(), 'The build of the `web` component (else the first component): the BUILD column.'),
  builds: StringMap('component name → build id'),
  kind: StringEnum(['build', 'env', 'rollback', 'promote', 'revert', 'backup', 'upgrade']),
  description: Type.String(),
  status: Type.String({ description: "`active` for the live one, `rolled back` for one rolled back in its environment, '' otherwise." }),
  config: StringMap(),
  manifest: Type.Unknown({ description: 'the rewind.yml components (null for a config-only release made before any build)' }),
  source: Nullable(Type.String(), 'For rollbacks: the release that was copied.'),
  createdBy: Type.String(),
  createdAt: Type.String(),
});
export type ReleaseView = View<typeof ReleaseView>;

export const DeploymentState = StringEnum(['pending', 'running', 'succeeded', 'failed', 'rolled-back']);
export type DeploymentState = Static<typeof DeploymentState>;

export const DeploymentView = Type.Object({
  id: Type.String(),
  app: Type.String(),
  env: Type.String(),
  release: Type.String(),
  fromRelease: Nullable(Type.String(), 'The release that was active when it started.'),
  kind: StringEnum(['deploy', 'promote', 'rollback', 'config', 'recover', 'upgrade']),
  state: DeploymentState,
  error: Nullable(Type.String()),
  createdBy: Type.String(),
  createdAt: Type.String(),
  finishedAt: Nullable(Type.String()),
});
export type DeploymentView = View<typeof DeploymentView>;

export const DeploymentEventView = Type.Object({
  seq: Type.Integer(),
  at: Type.String(),
  message: Type.String(),
});
export type DeploymentEventView = View<typeof DeploymentEventView>;

export const ComponentStepView = Type.Object({
  component: Type.String(),
  action: StringEnum(['keep', 'change', 'add', 'remove']),
  from: Nullable(Type.String(), 'build id'),
  to: Nullable(Type.String(), 'build id'),
});
export type ComponentStepView = View<typeof ComponentStepView>;

export const ConfigStepView = Type.Object({
  key: Type.String(),
  action: StringEnum(['add', 'change', 'remove']),
  from: Nullable(Type.String(), 'Values of secret-looking keys are masked (********).'),
  to: Nullable(Type.String(), 'Values of secret-looking keys are masked (********).'),
});
export type ConfigStepView = View<typeof ConfigStepView>;

/** One environment a plan read: its active release and the release whose config was in effect. */
export const EnvBasisView = Type.Object(
  {
    env: Type.String(),
    release: Nullable(Type.String(), 'Its active release when planned (null: it ran nothing).'),
    config: Type.Optional(Nullable(Type.String(), 'The release whose config was in effect: the active one (while nothing runs, the newest); null: none. Absent when config does not matter (a promotion\'s source).')),
  },
  { description: 'What a plan was computed from in one environment. Send it back as `basis` to apply exactly this plan.' },
);
export type EnvBasisView = View<typeof EnvBasisView>;

/** What a rollback, revert or promotion will do (or did) to an environment, computed from values only. */
export const PlanView = Type.Object(
  {
    app: Type.String(),
    env: Type.String(),
    from: Nullable(Type.String(), 'The active release now (null: the environment runs nothing).'),
    source: Nullable(Type.String(), 'The release being copied or reverted, when there is one.'),
    description: Type.String({ description: 'Description of the release the action makes.' }),
    empty: Type.Boolean({ description: 'True when the environment ends up running nothing.' }),
    components: List(ComponentStepView),
    config: List(ConfigStepView),
    basis: Type.Optional(
      List(EnvBasisView, {
        description: 'What the plan was computed from. Sent back as `basis`, the change is applied only if it still holds, else 409 STALE_PLAN with the new plan in `details.plan`.',
      }),
    ),
  },
  { description: 'What a rollback, revert or promotion will do (or did) to an environment, computed from values only.' },
);
export type PlanView = View<typeof PlanView>;

/** Returned by promote, rollback, revert and env changes: the release made (if any), its deployment (if promoted), and the plan. */
export const ReleaseChange = Type.Object(
  {
    release: ReleaseView,
    deployment: Nullable(DeploymentView),
    plan: Type.Optional(PlanView),
  },
  { description: 'The release made, its deployment (null when not promoted) and, for rollbacks, reverts and promotions, the plan.' },
);
export type ReleaseChange = View<typeof ReleaseChange>;

/** What a rollback, revert or promotion answers on a dry run (and nothing is changed). */
export const DryRunView = Type.Object({ plan: PlanView }, { description: 'A dry run: only the plan; nothing was changed.' });
export type DryRunView = View<typeof DryRunView>;

export const ProcessView = Type.Object({
  id: Type.String(),
  component: Type.String(),
  release: Type.String(),
  build: Type.String(),
  pid: Nullable(Type.Integer()),
  port: Nullable(Type.Integer()),
  state: Type.String(),
  startedAt: Type.String(),
  restarts: Type.Integer(),
  rss: Nullable(Type.Number(), 'resident memory in bytes'),
  standbyUntil: Nullable(Type.String(), 'For warm-standby instances: when they will be stopped.'),
});
export type ProcessView = View<typeof ProcessView>;

export const AuditEntryView = Type.Object({
  id: Type.Integer(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  app: Nullable(Type.String()),
  env: Nullable(Type.String()),
  subject: Nullable(Type.String()),
  detail: Type.Unknown({ description: 'free-form, per action' }),
});
export type AuditEntryView = View<typeof AuditEntryView>;

/** One `change` event of GET /api/events: the audit entry just recorded. */
export const ChangeEvent = Type.Object({
  action: Type.String({ description: 'e.g. app.create, build.create, release.create, deployment.rollback, deployment.succeeded, deployment.failed' }),
  app: Nullable(Type.String()),
  env: Nullable(Type.String()),
  subject: Nullable(Type.String()),
  actor: Type.String(),
  at: Type.String(),
});
export type ChangeEvent = View<typeof ChangeEvent>;

// ── environment settings and config ──────────────────────────────────────

const SETTINGS = {
  standbyMinutes: Type.Number({ description: 'How long the previous release stays warm after a switch (0: stop it once drained).' }),
  standbyCount: Type.Number({ description: 'How many previous releases stay warm.' }),
  autoRollbackSeconds: Type.Number({ description: 'How long after a switch an unhealthy new release is rolled back automatically (0: never).' }),
  drainSeconds: Type.Number({ description: 'How long old instances may finish in-flight requests.' }),
};

/** An environment's own data-plane settings and those in effect (with the server's defaults). */
export const EnvSettingsView = Type.Object({
  settings: Type.Partial(Type.Object(SETTINGS), { description: "The environment's own; an absent key takes the server's default." }),
  effective: Type.Object(SETTINGS, { description: 'In effect from the next deployment.' }),
});
export type EnvSettingsView = View<typeof EnvSettingsView>;

/** The environment variables in effect: the newest release's. */
export const EnvConfigView = Type.Object({
  config: StringMap(),
  release: Nullable(Type.String(), 'the release whose config this is: the active one; while nothing runs, the newest (null: none yet)'),
});
export type EnvConfigView = View<typeof EnvConfigView>;

// ── pipelines ─────────────────────────────────────────────────────────────

export const PipelineView = Type.Object({
  app: Type.String(),
  name: Type.String(),
  source: Type.String({ description: "manifest (from the newest build's rewind.yml) | api" }),
  tasks: List(Type.Unknown(), { description: 'the task definitions, as under pipelines: in rewind.yml' }),
  updatedAt: Type.String(),
});
export type PipelineView = View<typeof PipelineView>;

export const RunStatus = StringEnum(['running', 'waiting', 'succeeded', 'failed', 'cancelled']);
export type RunStatus = Static<typeof RunStatus>;
export const TaskStatus = StringEnum(['pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled', 'skipped']);
export type TaskStatus = Static<typeof TaskStatus>;
/** none: never rolled back; not rolled back: the run was rolled back but this task had no backup. */
export const RollbackStatus = StringEnum(
  ['none', 'running', 'rolled back', 'failed', 'not rolled back'],
  'none: never rolled back; not rolled back: the run was rolled back but this task had no backup',
);
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
  action: StringEnum(['restore', 'stage', 'not rolled back', 'already rolled back'], 'restore: a deployment of the backup; stage: a design-mode backup staged again'),
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
    basis: List(EnvBasisView, { description: 'Send it back as `basis`: the rollback starts only if every environment is still as planned, else 409 STALE_PLAN.' }),
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

export const TemplateVersionView = Type.Object({
  template: Type.String(),
  version: Type.String(),
  sourceApp: Type.String({ description: 'the app/env and release it was published from' }),
  sourceEnv: Type.String(),
  sourceRelease: Type.String(),
  components: List(Type.String()),
  note: Type.String(),
  createdBy: Type.String(),
  createdAt: Type.String(),
});
export type TemplateVersionView = View<typeof TemplateVersionView>;

export const TemplateView = Type.Object(
  { name: Type.String(), latest: Type.String(), versions: List(TemplateVersionView, { description: 'newest first' }) },
  { description: 'An app template (a shared library entry) and its versions' },
);
export type TemplateView = View<typeof TemplateView>;

export const UpgradeView = Type.Object(
  {
    id: Type.String(),
    app: Type.String(),
    env: Type.String(),
    template: Type.String(),
    fromVersion: Nullable(Type.String(), 'null: an install'),
    toVersion: Type.String(),
    fromRelease: Nullable(Type.String(), 'the release before it: where its rollback goes'),
    release: Type.String(),
    deployment: Type.String(),
    state: Type.String({ description: "its deployment's state" }),
    rolledBackRelease: Nullable(Type.String()),
    rolledBackBy: Nullable(Type.String()),
    rolledBackAt: Nullable(Type.String()),
    createdBy: Type.String(),
    createdAt: Type.String(),
  },
  { description: 'An install or upgrade record' },
);
export type UpgradeView = View<typeof UpgradeView>;

export const UpgradeStatusView = Type.Object({
  app: Type.String(),
  env: Type.String(),
  template: Nullable(Type.String()),
  installed: Nullable(Type.String(), 'the version running; null when none is'),
  latest: Nullable(Type.String(), 'the newest version published'),
  upgradable: Type.Boolean(),
  upgrades: List(UpgradeView, { description: 'newest first' }),
});
export type UpgradeStatusView = View<typeof UpgradeStatusView>;

export const UpgradeResult = Type.Object({ upgrade: UpgradeView, release: ReleaseView, deployment: DeploymentView, plan: PlanView });
export type UpgradeResult = View<typeof UpgradeResult>;

/** `GET /api/auth/whoami`: the identity a request is made as (the audit log's actor). */
export const IdentityView = Type.Object({
  name: Type.String({ description: 'the credential\'s name, recorded as the actor of every change' }),
  via: StringEnum(['token', 'cookie', 'none'] as const, 'how the request authenticated; none: the server runs with --insecure-no-auth'),
});
export type IdentityView = View<typeof IdentityView>;

/** `POST /api/auth/login-links`: a one-time console login link. */
export const LoginLinkView = Type.Object({
  url: Type.String({ description: 'opens the console logged in, once; the code in it is then spent' }),
  expiresAt: Type.String(),
});
export type LoginLinkView = View<typeof LoginLinkView>;

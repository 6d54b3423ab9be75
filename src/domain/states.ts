/**
 * The fixed sets of states and kinds that records carry: each a const array (what the wire
 * contract's `enum`s are built from) and the union type of its values.
 */

export const BUILD_STATUSES = ['running', 'succeeded', 'failed'] as const;
export type BuildStatus = (typeof BUILD_STATUSES)[number];

export const RELEASE_KINDS = ['build', 'env', 'rollback', 'promote', 'revert', 'backup', 'upgrade'] as const;
export type ReleaseKind = (typeof RELEASE_KINDS)[number];

export const DEPLOYMENT_STATES = ['pending', 'running', 'succeeded', 'failed', 'rolled-back'] as const;
export type DeploymentState = (typeof DEPLOYMENT_STATES)[number];

/** Every kind a deployment record has; `recover` is internal (shown as `deploy`, see DEPLOYMENT_VIEW_KINDS). */
export const DEPLOYMENT_KINDS = ['deploy', 'promote', 'rollback', 'config', 'recover', 'upgrade'] as const;
export type DeploymentKind = (typeof DEPLOYMENT_KINDS)[number];

export const RUN_STATUSES = ['running', 'waiting', 'succeeded', 'failed', 'cancelled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const TASK_STATUSES = ['pending', 'running', 'waiting', 'succeeded', 'failed', 'cancelled', 'skipped'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** none: never rolled back; not rolled back: the run was rolled back but this task had no backup. */
export const ROLLBACK_STATUSES = ['none', 'running', 'rolled back', 'failed', 'not rolled back'] as const;
export type RollbackStatus = (typeof ROLLBACK_STATUSES)[number];

/** What a run's rollback does with one task. restore: a deployment of the backup; stage: a design-mode backup staged again. */
export const RUN_ROLLBACK_ACTIONS = ['restore', 'stage', 'not rolled back', 'already rolled back'] as const;
export type RunRollbackAction = (typeof RUN_ROLLBACK_ACTIONS)[number];

/** A plan's step per component (the type is `ComponentAction` in plan.ts). */
export const COMPONENT_ACTIONS = ['keep', 'change', 'add', 'remove'] as const;

export const CONFIG_ACTIONS = ['add', 'change', 'remove'] as const;
export type ConfigAction = (typeof CONFIG_ACTIONS)[number];

/** How a request authenticated; none: the server runs with --insecure-no-auth. */
export const IDENTITY_VIAS = ['token', 'cookie', 'none'] as const;
export type IdentityVia = (typeof IDENTITY_VIAS)[number];

import { Type } from '@sinclair/typebox';
import { List, Nullable, type RequestOf, type View } from './common.js';
import { DeploymentView } from './deployments.js';
import { Basis, PlanView } from './plans.js';
import { ReleaseView } from './releases.js';

/** App templates, their versions, installs and upgrades. */

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
  rollbackable: Nullable(
    Type.String(),
    'the upgrade a rollback with no id undoes (the newest that went live, when something ran before it); null when none can be',
  ),
  upgrades: List(UpgradeView, { description: 'newest first' }),
});
export type UpgradeStatusView = View<typeof UpgradeStatusView>;

export const UpgradeResult = Type.Object({ upgrade: UpgradeView, release: ReleaseView, deployment: DeploymentView, plan: PlanView });
export type UpgradeResult = View<typeof UpgradeResult>;

export const PublishBody = Type.Object(
  {
    name: Type.String({ description: 'template name: [a-z][a-z0-9-]{0,62}' }),
    version: Type.String({ description: 'e.g. 1.0; never replaced' }),
    app: Type.String({ description: "publish this app/env's active release" }),
    env: Type.String({ default: 'production' }),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export const TemplateParams = Type.Object({ name: Type.String() });
export const UpgradeBody = Type.Object(
  {
    env: Type.String({ default: 'production' }),
    template: Type.Optional(Type.String({ description: 'install this template (the app/env runs none yet)' })),
    version: Type.Optional(Type.String({ description: 'default: the newest' })),
    dryRun: Type.Boolean({ default: false, description: 'only the plan; change nothing' }),
    basis: Basis,
  },
  { additionalProperties: false },
);
export const UpgradeRollbackBody = Type.Object(
  {
    env: Type.String({ default: 'production' }),
    upgrade: Type.Optional(Type.String({ description: 'default: the newest not rolled back' })),
    dryRun: Type.Boolean({ default: false, description: 'only the plan; change nothing' }),
    basis: Basis,
  },
  { additionalProperties: false },
);

export type PublishRequest = RequestOf<typeof PublishBody, 'env'>;
export type UpgradeRequest = RequestOf<typeof UpgradeBody, 'env' | 'dryRun'>;
export type UpgradeRollbackRequest = RequestOf<typeof UpgradeRollbackBody, 'env' | 'dryRun'>;

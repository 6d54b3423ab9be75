import { Type, type Static } from '@sinclair/typebox';
import { RELEASE_KINDS } from '../domain/states.js';
import { Nullable, StringEnum, StringMap, type RequestOf, type View } from './common.js';
import { DeploymentView } from './deployments.js';
import { Basis, DryRun, PlanView } from './plans.js';

/** Releases and the changes that make one: rollback, revert, promote, config. */

export const ReleaseView = Type.Object({
  id: Type.String(),
  app: Type.String(),
  env: Type.String(),
  build: Nullable(Type.String(), 'The build of the `web` component (else the first component): the BUILD column.'),
  builds: StringMap('component name → build id'),
  kind: StringEnum(RELEASE_KINDS),
  description: Type.String(),
  status: Type.String({ description: "`active` for the live one, `rolled back` for one rolled back in its environment, '' otherwise." }),
  config: StringMap(),
  manifest: Type.Unknown({ description: 'the rewind.yml components (null for a config-only release made before any build)' }),
  source: Nullable(Type.String(), 'For rollbacks: the release that was copied.'),
  createdBy: Type.String(),
  createdAt: Type.String(),
});
export type ReleaseView = View<typeof ReleaseView>;

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

export const PromoteBody = Type.Object({ env: Type.String({ default: 'production' }) }, { additionalProperties: false });
export const RollbackBody = Type.Object(
  {
    env: Type.String({ default: 'production' }),
    release: Type.Optional(
      Type.String({ description: 'release to roll back to (a copy of it is made and promoted); default: the state before the current release' }),
    ),
    components: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'component rollback: component → an earlier succeeded build of that component' }),
    ),
    dryRun: DryRun,
    basis: Basis,
  },
  { additionalProperties: false },
);
export const RevertBody = Type.Object({ env: Type.String({ default: 'production' }), dryRun: DryRun, basis: Basis }, { additionalProperties: false });
export const PromoteEnvBody = Type.Object(
  {
    from: Type.String({ description: 'environment whose active release is promoted' }),
    to: Type.String({ description: 'environment that gets the new release' }),
    components: Type.Optional(Type.Array(Type.String(), { description: 'only these components (default: all of them)' })),
    dryRun: DryRun,
    basis: Basis,
  },
  { additionalProperties: false },
);
export const DiffQuery = Type.Object({ from: Type.String(), to: Type.String() });
export const ConfigBody = Type.Object(
  {
    env: Type.String({ default: 'production' }),
    set: Type.Record(Type.String(), Type.String(), { default: {} }),
    unset: Type.Array(Type.String(), { default: [] }),
    promote: Type.Boolean({ default: true }),
  },
  { additionalProperties: false },
);
export type ConfigBodyT = Static<typeof ConfigBody>;

/** `releases rollback`: to a release, some components to earlier builds, or (neither) the state before the current release. */
export type RollbackRequest = RequestOf<typeof RollbackBody, 'env' | 'dryRun'>;
export type RevertRequest = RequestOf<typeof RevertBody, 'env' | 'dryRun'>;
/** The active release of one environment (or some of its components) into another. */
export type PromoteRequest = RequestOf<typeof PromoteEnvBody, 'dryRun'>;
/** `env set` / `env unset`: keys to set and remove, and whether to promote the new release. */
export type ConfigRequest = RequestOf<typeof ConfigBody, 'env' | 'set' | 'unset' | 'promote'>;

import { Type } from '@sinclair/typebox';
import { COMPONENT_ACTIONS, CONFIG_ACTIONS } from '../domain/states.js';
import { List, Nullable, StringEnum, type View } from './common.js';

/** What a rollback, revert, promotion or upgrade will do: the plan, its steps, its basis. */

export const ComponentStepView = Type.Object({
  component: Type.String(),
  action: StringEnum(COMPONENT_ACTIONS),
  from: Nullable(Type.String(), 'build id'),
  to: Nullable(Type.String(), 'build id'),
});
export type ComponentStepView = View<typeof ComponentStepView>;

export const ConfigStepView = Type.Object({
  key: Type.String(),
  action: StringEnum(CONFIG_ACTIONS),
  from: Nullable(Type.String(), 'Values of secret-looking keys are masked (********).'),
  to: Nullable(Type.String(), 'Values of secret-looking keys are masked (********).'),
});
export type ConfigStepView = View<typeof ConfigStepView>;

/** One environment a plan read: its active release and the release whose config was in effect. */
export const EnvBasisView = Type.Object(
  {
    env: Type.String(),
    release: Nullable(Type.String(), 'Its active release when planned (null: it ran nothing).'),
    config: Type.Optional(
      Nullable(
        Type.String(),
        "The release whose config was in effect: the active one (while nothing runs, the newest); null: none. Absent when config does not matter (a promotion's source).",
      ),
    ),
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
        description:
          'What the plan was computed from. Sent back as `basis`, the change is applied only if it still holds, else 409 STALE_PLAN with the new plan in `details.plan`.',
      }),
    ),
  },
  { description: 'What a rollback, revert or promotion will do (or did) to an environment, computed from values only.' },
);
export type PlanView = View<typeof PlanView>;

export const DryRun = Type.Boolean({ default: false, description: 'only compute and return the plan; change nothing' });
/** A type list, not anyOf: Ajv's coercion would turn a null into "" for a string branch of anyOf. */
const releaseOrNull = { type: ['string', 'null'], maxLength: 100 };
/** The basis of the plan the client confirmed (its dry run's `plan.basis`): applied only if it still holds, else 409 STALE_PLAN. */
export const Basis = Type.Optional(
  Type.Unsafe<PlanBasis>({
    type: 'array',
    maxItems: 100,
    items: {
      type: 'object',
      required: ['env', 'release'],
      additionalProperties: false,
      properties: { env: { type: 'string', maxLength: 100 }, release: releaseOrNull, config: releaseOrNull },
    },
    description: "the dry run's plan.basis: the change is made only if the environments are still as planned, else 409 STALE_PLAN with the new plan",
  }),
);

/** A request's `basis`: every environment a plan read (the domain's PlanBasis, checked in domain-checks.ts). */
export type PlanBasis = readonly EnvBasisView[];

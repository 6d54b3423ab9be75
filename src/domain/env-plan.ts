import type { ComponentStep, ConfigStep, PlanBasis } from './plan.js';

/** What a rollback, revert, promotion or upgrade will do (or did) to an environment, computed from values only. */
export interface EnvPlan {
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
  readonly components: readonly ComponentStep[];
  readonly config: readonly ConfigStep[];
  /** What the plan was computed from; sent back, the change is applied only if it still holds. */
  readonly basis?: PlanBasis;
}

/**
 * What a promotion changes, decided from loaded values only: the source environment's active
 * builds of the components asked for (all by default), the target's other components, and the
 * target's own config (the one in effect there: a change staged with `env set --no-promote` is not
 * carried, and the source's config never is; docs/rollbacks.md, "Which config a change uses").
 */
import type { Config } from './config.js';
import { RewindError } from './errors.js';
import { type PlanBasis, withComponents } from './plan.js';
import { hasKey } from './records.js';
import type { Release } from './release.js';
import { type ProposedChange, stateOf } from './rollback-plan.js';

export interface PromotionInput {
  readonly from: string;
  readonly to: string;
  /** The release the source environment runs. */
  readonly source: Release;
  /** The release the target environment runs (null: none). */
  readonly active: Release | null;
  /** The release whose config is in effect in the target (null: none, so no config). */
  readonly current: { readonly id: string; readonly config: Config } | null;
  /** Components to promote; none or empty: every component of the source. */
  readonly components?: readonly string[];
}

/** The promotion's change and its basis: the target's release and config, and which release is promoted (the source's config does not matter). */
export function planPromotion(p: PromotionInput): ProposedChange & { readonly basis: PlanBasis } {
  const all = Object.keys(p.source.builds);
  const names = p.components && p.components.length > 0 ? [...new Set(p.components)] : all;
  const unknown = names.filter((n) => !hasKey(p.source.builds, n));
  if (unknown.length) {
    throw new RewindError(
      'UNKNOWN_COMPONENT',
      `${p.source.id} in ${p.from} has no component ${unknown.join(', ')}; its components are ${all.join(', ') || 'none'}`,
    );
  }
  const moves = names.map((component) => ({ component, build: p.source.builds[component], spec: p.source.manifest!.components[component] }));
  const next = { ...withComponents(stateOf(p.active), moves), config: p.current?.config ?? {} };
  const basis: PlanBasis = [
    { env: p.to, release: p.active?.id ?? null, config: p.current?.id ?? null },
    { env: p.from, release: p.source.id },
  ];
  return { next, description: `promote ${p.source.id} from ${p.from} (${names.join(', ')})`, source: p.source.id, basis };
}

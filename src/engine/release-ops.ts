import type { EnvPlan } from '../domain/env-plan.js';
import { diffConfig, isEmptyDiff, type Config } from '../domain/config.js';
import { RewindError, notFound } from '../domain/errors.js';
import { isId } from '../domain/ids.js';
import { describeBasisChange, planBetween, type EnvBasis, type PlanBasis } from '../domain/plan.js';
import { planPromotion } from '../domain/promote-plan.js';
import {
  componentMove,
  previousRelease,
  rollbackComponents,
  rollbackToPrevious,
  rollbackToRelease,
  revertRelease,
  stateOf,
  type ProposedChange,
} from '../domain/rollback-plan.js';
import { makeRelease, type Release, type ReleaseKind } from '../domain/release.js';
import type { Deployment, DeploymentKind } from '../store/deployments-repo.js';
import type { EnvironmentRow } from '../store/apps-repo.js';
import type { Db } from '../store/db.js';
import type { Store } from '../store/store.js';
import type { Deployer } from './deployer.js';

/** Options of a planned change: a dry run only plans; `basis` (the dry run's) must still hold when it is applied. */
export interface PlannedOptions {
  readonly dryRun?: boolean;
  readonly basis?: PlanBasis;
  readonly actor: string;
}

/** What a basis must match: per environment its active release and, where config matters, the config in effect. */
export interface Expected {
  readonly env: string;
  readonly release: string | null;
  readonly config?: Config;
}

/** Thrown inside the deployment's transaction when the basis no longer holds; turned into STALE_PLAN with the new plan. */
export class StaleBasis extends Error {
  constructor() {
    super('the plan is out of date');
  }
}

const sameConfig = (a: Config, b: Config) => isEmptyDiff(diffConfig(a, b));

export interface Outcome {
  readonly plan: EnvPlan;
  /** Absent on a dry run. */
  readonly release?: Release;
  readonly deployment?: Deployment | null;
}

/** A change decided (domain/rollback-plan.ts, promote-plan.ts) and what carrying it out needs. */
interface Proposal extends ProposedChange {
  readonly app: string;
  readonly env: string;
  readonly active: Release | null;
  readonly kind: ReleaseKind;
  readonly deploymentKind: DeploymentKind;
  /** What the plan was computed from. */
  readonly basis: PlanBasis;
}

/**
 * Rollbacks, reverts and promotions: each first computes a plan from values only (what --dry-run
 * shows), then makes one release and one deployment that carry it out. No release is ever edited.
 */
export class ReleaseOps {
  constructor(
    private readonly store: Store,
    private readonly deployer: Deployer,
    private readonly requireEnv: (app: string, env: string) => Promise<EnvironmentRow>,
  ) {}

  async release(app: string, id: string): Promise<Release> {
    const r = await this.store.releases.get(app, id);
    if (!r) throw notFound.release(app, id);
    return r;
  }

  /**
   * `releases rollback`: with a release, Convox's copy of it; with components, those components
   * moved to those builds (Rainbond); with neither, the environment's state before its current
   * release (Boomi), which is empty when the current release was the first.
   */
  async rollback(app: string, env: string, o: { release?: string; components?: Readonly<Record<string, string>> } & PlannedOptions): Promise<Outcome> {
    return this.guarded(app, o, (dryRun) => this.#rollback(app, env, { ...o, dryRun }));
  }

  async #rollback(app: string, env: string, o: { release?: string; components?: Readonly<Record<string, string>> } & PlannedOptions): Promise<Outcome> {
    const e = await this.requireEnv(app, env);
    if (!o.dryRun) await this.deployer.refuseIfBusy(app, env);
    const active = e.activeRelease ? await this.release(app, e.activeRelease) : null;
    const basis = [await this.basisOf(app, env, active?.id ?? null)];
    const base = { app, env, active, kind: 'rollback' as const, deploymentKind: 'rollback' as const, basis };
    if (o.components && Object.keys(o.components).length > 0) {
      if (o.release) throw new RewindError('CONFLICTING_OPTIONS', 'give either a release to roll back to or --component NAME=BUILD, not both');
      const moves = [];
      for (const [component, build] of Object.entries(o.components))
        moves.push(componentMove(app, component, build, isId('B', build) ? await this.store.builds.get(app, build) : undefined));
      return this.carryOut({ ...base, ...rollbackComponents(active, moves) }, o);
    }
    if (o.release) return this.carryOut({ ...base, ...rollbackToRelease(await this.release(app, o.release), env) }, o);
    if (!active) throw new RewindError('NOTHING_TO_ROLL_BACK', `${app}/${env} runs no release; there is nothing to roll back`);
    const previousId = previousRelease(active, await this.store.deployments.lastSucceeded(app, env));
    const previous = previousId ? await this.release(app, previousId) : null;
    return this.carryOut({ ...base, ...rollbackToPrevious(active, previous) }, o);
  }

  /** Undoes only what `id` changed (its components and config keys), keeping later changes to the others. */
  async revert(app: string, env: string, id: string, o: PlannedOptions): Promise<Outcome> {
    return this.guarded(app, o, (dryRun) => this.#revert(app, env, id, { ...o, dryRun }));
  }

  async #revert(app: string, env: string, id: string, o: PlannedOptions): Promise<Outcome> {
    const e = await this.requireEnv(app, env);
    if (!o.dryRun) await this.deployer.refuseIfBusy(app, env);
    const target = await this.release(app, id);
    const active = e.activeRelease ? await this.release(app, e.activeRelease) : null;
    const change = revertRelease(active, await this.store.releases.before(target), target, env);
    const basis = [await this.basisOf(app, env, active?.id ?? null)];
    return this.carryOut({ app, env, active, kind: 'revert', deploymentKind: 'rollback', ...change, basis }, o);
  }

  /** `promote --from A --to B [--components …]`: A's active builds of those components, B's other components and B's config. */
  async promote(app: string, o: { from: string; to: string; components?: readonly string[] } & PlannedOptions): Promise<Outcome> {
    return this.guarded(app, o, (dryRun) => this.#promote(app, { ...o, dryRun }));
  }

  async #promote(app: string, o: { from: string; to: string; components?: readonly string[] } & PlannedOptions): Promise<Outcome> {
    if (o.from === o.to) throw new RewindError('SAME_ENVIRONMENT', `--from and --to are both "${o.from}"; promote from one environment to another`);
    const from = await this.requireEnv(app, o.from);
    const to = await this.requireEnv(app, o.to);
    if (!o.dryRun) await this.deployer.refuseIfBusy(app, o.to);
    if (!from.activeRelease) throw new RewindError('NOTHING_TO_ROLL_BACK', `${app}/${o.from} runs no release; deploy to it before promoting from it`);
    const source = await this.release(app, from.activeRelease);
    const active = to.activeRelease ? await this.release(app, to.activeRelease) : null;
    const current = (await this.store.releases.current(app, o.to)) ?? null;
    const change = planPromotion({ from: o.from, to: o.to, source, active, current, components: o.components });
    return this.carryOut({ app, env: o.to, active, kind: 'promote', deploymentKind: 'promote', ...change }, o);
  }

  /** The same comparison as a plan, between any two releases of an app. */
  async diff(app: string, fromId: string, toId: string): Promise<EnvPlan> {
    const a = await this.release(app, fromId);
    const b = await this.release(app, toId);
    const plan = planBetween(stateOf(a), stateOf(b));
    return { app, env: b.env, from: a.id, source: b.id, description: `diff ${a.id} ${b.id}`, empty: Object.keys(b.builds).length === 0, ...plan };
  }

  // ── plans and their basis ─────────────────────────────────────────────

  /** The basis app/env is on: its active release (as read by the caller) and the release whose config is in effect (`releases.current`). */
  async basisOf(app: string, env: string, active: string | null): Promise<EnvBasis> {
    return { env, release: active, config: (await this.store.releases.current(app, env))?.id ?? null };
  }

  /**
   * What a client's basis must match. Refused: a basis that leaves out an environment the plan
   * reads (`planned`, the plan's own basis), or names a release the app does not have.
   */
  async expected(app: string, basis: PlanBasis, planned?: PlanBasis): Promise<Expected[]> {
    const missing = (planned ?? []).filter((p) => !basis.some((b) => b.env === p.env && (p.config === undefined || b.config !== undefined)));
    if (missing.length) {
      throw new RewindError(
        'INVALID_BASIS',
        `the basis does not give ${missing.map((m) => m.env).join(', ')}${missing.some((m) => m.config !== undefined) ? ' (release and config)' : ''}; send the basis of this change's dry run (plan.basis)`,
      );
    }
    const out: Expected[] = [];
    for (const b of basis) {
      if (b.config === undefined) {
        out.push({ env: b.env, release: b.release });
        continue;
      }
      const r = b.config === null ? null : await this.store.releases.get(app, b.config);
      if (r === undefined)
        throw new RewindError('INVALID_BASIS', `the basis names release ${b.config}, which ${app} does not have; send the basis of a dry run`);
      out.push({ env: b.env, release: b.release, config: r?.config ?? {} });
    }
    return out;
  }

  /** Throws StaleBasis when app's environments moved off `expected`; run inside the transaction that records the change. */
  async check(app: string, expected: readonly Expected[], db: Db): Promise<void> {
    for (const x of expected) {
      const e = await this.store.apps.environment(app, x.env, db);
      if ((e?.activeRelease ?? null) !== x.release) throw new StaleBasis();
      if (x.config !== undefined && !sameConfig((await this.store.releases.current(app, x.env, db))?.config ?? {}, x.config)) throw new StaleBasis();
    }
  }

  /** What changed since `basis`, in words, for the STALE_PLAN message: `production's active release is now R… (was R…); config changed: FLAG added`. */
  async changesSince(app: string, basis: PlanBasis): Promise<string[]> {
    const out: string[] = [];
    for (const b of basis) {
      const active = (await this.store.apps.environment(app, b.env))?.activeRelease ?? null;
      const now = active ? await this.store.releases.get(app, active) : undefined;
      const configs =
        b.config === undefined
          ? undefined
          : {
              was: (b.config ? await this.store.releases.get(app, b.config) : undefined)?.config ?? {},
              is: (await this.store.releases.current(app, b.env))?.config ?? {},
            };
      const change = describeBasisChange(b, { release: active, by: now?.createdBy, description: now?.description }, configs);
      if (change) out.push(change);
    }
    return out;
  }

  /** The 409 for a plan applied on another basis: what changed, and the new plan in `details.plan`. */
  async staleError(app: string, basis: PlanBasis, plan: unknown): Promise<RewindError> {
    const changes = await this.changesSince(app, basis);
    return new RewindError(
      'STALE_PLAN',
      `the plan is out of date: ${changes.join('; ') || `${app} changed since it was made`}; nothing was changed. Review the new plan and confirm it again`,
      { plan },
    );
  }

  /** Runs a planned change; when its basis no longer holds, answers STALE_PLAN with the plan made again (a dry run). */
  async guarded<T extends { readonly plan: unknown }>(
    app: string,
    o: { readonly dryRun?: boolean; readonly basis?: PlanBasis },
    op: (dryRun: boolean) => Promise<T>,
  ): Promise<T> {
    try {
      return await op(o.dryRun ?? false);
    } catch (e) {
      if (!(e instanceof StaleBasis) || !o.basis) throw e;
      throw await this.staleError(app, o.basis, (await op(true)).plan);
    }
  }

  private async carryOut(p: Proposal, o: PlannedOptions): Promise<Outcome> {
    const steps = planBetween(stateOf(p.active), p.next);
    const plan: EnvPlan = {
      app: p.app,
      env: p.env,
      from: p.active?.id ?? null,
      source: p.source,
      description: p.description,
      empty: Object.keys(p.next.builds).length === 0,
      ...steps,
      basis: p.basis,
    };
    if (o.dryRun) return { plan };
    const expected = o.basis ? await this.expected(p.app, o.basis, p.basis) : undefined;
    const release = makeRelease({
      app: p.app,
      env: p.env,
      kind: p.kind,
      builds: p.next.builds,
      config: p.next.config,
      manifest: p.next.manifest,
      description: p.description,
      source: p.source,
      createdBy: o.actor,
    });
    const check = expected ? (tx: Db) => this.check(p.app, expected, tx) : undefined;
    const deployment = await this.deployer.start(release, { kind: p.deploymentKind, actor: o.actor, insertRelease: true, allowEmpty: true, check });
    return { plan, release, deployment };
  }
}

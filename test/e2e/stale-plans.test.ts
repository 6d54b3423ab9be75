import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import type { EnvBasisView, PipelineRunView, PlanView, RunRollbackPlanView } from '../../src/contract/index.js';
import { helloApp, useRewind } from './harness.js';

// Issue 10, item 1: every planned change carries the basis it was planned on (the environment's
// active release, and the release whose config is in effect); applied on another basis it is a 409
// STALE_PLAN that says what changed and carries the new plan, and nothing changes. Item 2: a
// pipeline run's rollback shows its plan per task, warns about later changes, and uses the same check.

type Stale = { error: { code: string; message: string; details: { plan: PlanView } } };
interface Release {
  id: string;
  description: string;
}

describe('plans and their basis: a stale plan is refused with the new plan', () => {
  const rw = useRewind();
  let dir: string;
  let v1Build: string;

  const post = <T = unknown>(path: string, body: unknown) => rw.api<T>(path, { method: 'POST', body: JSON.stringify(body) });
  const active = async (app: string, env = 'production') =>
    (await rw.api<{ environments: Array<{ name: string; activeRelease: string | null }> }>(`/api/apps/${app}`)).body.environments.find((e) => e.name === env)!
      .activeRelease;
  const releases = async (app: string, env = 'production') => (await rw.api<Release[]>(`/api/apps/${app}/releases?env=${env}&limit=100`)).body;
  const deployments = async (app: string, env = 'production') => (await rw.api<unknown[]>(`/api/apps/${app}/deployments?env=${env}`)).body.length;
  const ok = async (args: string[]) => (await rw.ok(args)).stdout;
  /** What must not move when a change is refused. */
  const snapshot = async (app: string, env = 'production') => ({
    active: await active(app, env),
    releases: (await releases(app, env)).length,
    deployments: await deployments(app, env),
  });
  /**
   * A dry run, then its apply on an older basis (the plan as a client made it before the last
   * change: the release before the active one): 409 naming both, nothing changed. Real changes
   * between a plan and its apply (env set, a concurrent deploy) are the first tests; this one
   * checks every route without a deploy each.
   */
  async function refusedOnOlderBasis(app: string, env: string, route: string, body: Record<string, unknown>) {
    const dry = await post<{ plan: PlanView }>(route, { ...body, dryRun: true });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    const basis = dry.body.plan.basis!;
    const now = await active(app, env);
    expect(basis[0]).toEqual({ env, release: now, config: now });
    const older = (await releases(app, env)).find((r) => r.id !== now)?.id ?? null;
    const before = await snapshot(app, env);
    const res = await post<Stale>(route, { ...body, basis: [{ env, release: older, config: older }, ...basis.slice(1)] });
    expect(res.status, JSON.stringify(res.body)).toBe(409);
    expect(res.body.error.code).toBe('STALE_PLAN');
    expect(res.body.error.message).toContain(`${env}'s active release is now ${now} (`);
    expect(res.body.error.message).toContain(`(was ${older ?? 'none'})`);
    expect(res.body.error.message).toContain('nothing was changed');
    expect(res.body.error.details.plan).toEqual(dry.body.plan);
    expect(await snapshot(app, env)).toEqual(before);
    return { basis, stale: res.body.error };
  }

  beforeAll(async () => {
    dir = await helloApp('v1');
    await ok(['apps', 'create', 'pay']);
    await ok(['envs', 'create', 'test', '-a', 'pay']);
    await ok(['deploy', dir, '-a', 'pay']);
    v1Build = (await rw.api<Array<{ id: string }>>('/api/apps/pay/builds')).body[0].id;
    await ok(['env', 'set', 'GREETING=hi', '-a', 'pay']);
  }, 120_000);
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('the issue: a rollback planned as "no config changes", then env set from the CLI: 409 with the new plan, nothing changed; the new basis applies', async () => {
    const [r2, r1] = await releases('pay');
    const dry = await post<{ plan: PlanView }>('/api/apps/pay/rollback', { env: 'production', release: r1.id, dryRun: true });
    expect(dry.status).toBe(200);
    expect(dry.body.plan.basis).toEqual([{ env: 'production', release: r2.id, config: r2.id }]);
    expect(dry.body.plan.config.map((c) => `${c.key} ${c.action}`)).toEqual(['GREETING remove']);

    await ok(['env', 'set', 'PAYMENT_WEBHOOK_SECRET=whsec_123', 'FEATURE_FLAG=on', '-a', 'pay']);
    const r3 = (await releases('pay'))[0];
    const before = await snapshot('pay');
    expect(before.active).toBe(r3.id);

    const res = await post<Stale>('/api/apps/pay/rollback', { env: 'production', release: r1.id, basis: dry.body.plan.basis });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('STALE_PLAN');
    expect(res.body.error.message).toContain(`production's active release is now ${r3.id}`);
    expect(res.body.error.message).toContain(`(was ${r2.id})`);
    expect(res.body.error.message).toContain('config changed: FEATURE_FLAG added, PAYMENT_WEBHOOK_SECRET added');
    const fresh = res.body.error.details.plan;
    expect(fresh.from).toBe(r3.id);
    expect(fresh.config).toEqual([
      { key: 'FEATURE_FLAG', action: 'remove', from: 'on', to: null },
      { key: 'GREETING', action: 'remove', from: 'hi', to: null },
      { key: 'PAYMENT_WEBHOOK_SECRET', action: 'remove', from: '********', to: null },
    ]);
    expect(fresh.basis).toEqual([{ env: 'production', release: r3.id, config: r3.id }]);
    expect(await snapshot('pay')).toEqual(before);

    // Confirming the new plan carries it out.
    const applied = await post<{ plan: PlanView; release: Release }>('/api/apps/pay/rollback', { env: 'production', release: r1.id, basis: fresh.basis });
    expect(applied.status, JSON.stringify(applied.body)).toBe(202);
    expect(applied.body.plan.config).toEqual(fresh.config);
    await rw.settled('pay');
    expect(await active('pay')).toBe(applied.body.release.id);

    // Without a basis (scripts that predate it) a change is applied as before: covered by every other e2e test.
  }, 60_000);

  it('after a concurrent deploy, the same: 409 naming the new active release, nothing changed', async () => {
    const dry = await post<{ plan: PlanView }>('/api/apps/pay/rollback', { env: 'production', dryRun: true });
    expect(dry.status).toBe(200);
    const was = dry.body.plan.from!;
    await ok(['deploy', dir, '-a', 'pay', '-d', 'concurrent deploy']);
    const now = (await releases('pay'))[0];
    const before = await snapshot('pay');
    expect(before.active).toBe(now.id);
    const res = await post<Stale>('/api/apps/pay/rollback', { env: 'production', basis: dry.body.plan.basis });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('STALE_PLAN');
    expect(res.body.error.message).toMatch(new RegExp(`production's active release is now ${now.id} \\("concurrent deploy" by [^)]+\\) \\(was ${was}\\)`));
    expect(res.body.error.message).not.toContain('config changed');
    expect(res.body.error.details.plan).toMatchObject({ from: now.id, basis: [{ env: 'production', release: now.id }] });
    expect(await snapshot('pay')).toEqual(before);
  }, 60_000);

  it('every kind of change checks its basis: rollback to a release, to previous, of a component, revert, promote', async () => {
    const list = await releases('pay');
    const first = list[list.length - 1];
    const greeting = list.find((r) => r.description === 'env add:GREETING')!;
    await refusedOnOlderBasis('pay', 'production', '/api/apps/pay/rollback', { env: 'production', release: first.id });
    await refusedOnOlderBasis('pay', 'production', '/api/apps/pay/rollback', { env: 'production' });
    await refusedOnOlderBasis('pay', 'production', '/api/apps/pay/rollback', { env: 'production', components: { web: v1Build } });
    await refusedOnOlderBasis('pay', 'production', `/api/apps/pay/releases/${greeting.id}/revert`, { env: 'production' });

    // A promotion reads its target's config (test runs nothing: its config waits in its newest
    // release) and its source's active release.
    const promote = { from: 'production', to: 'test' };
    const dry = await post<{ plan: PlanView }>('/api/apps/pay/promote', { ...promote, dryRun: true });
    expect(dry.body.plan.basis).toEqual([
      { env: 'test', release: null, config: null },
      { env: 'production', release: await active('pay') },
    ]);
    await ok(['env', 'set', 'TEST_ONLY=1', '-a', 'pay', '-e', 'test']);
    const before = await snapshot('pay', 'test');
    const res = await post<Stale>('/api/apps/pay/promote', { ...promote, basis: dry.body.plan.basis });
    expect(res.status).toBe(409);
    expect(res.body.error.message).toContain("test's config changed: TEST_ONLY added");
    expect(res.body.error.details.plan.config).toContainEqual({ key: 'TEST_ONLY', action: 'add', from: null, to: '1' });
    expect(await snapshot('pay', 'test')).toEqual(before);
    const moved = await post<Stale>('/api/apps/pay/promote', {
      ...promote,
      basis: [res.body.error.details.plan.basis![0], { env: 'production', release: first.id }],
    });
    expect(moved.status).toBe(409);
    expect(moved.body.error.message).toContain(`production's active release is now ${await active('pay')} (`);

    const bogus: EnvBasisView[] = [{ env: 'production', release: await active('pay'), config: 'RNOSUCHRELX' }];
    expect((await post<Stale>('/api/apps/pay/rollback', { env: 'production', basis: bogus })).status).toBe(400);
    // A basis must give every environment the plan reads.
    const partial = await post<Stale>('/api/apps/pay/rollback', { env: 'production', basis: [{ env: 'test', release: null, config: null }] });
    expect(partial.status).toBe(400);
    expect(partial.body.error.message).toContain('the basis does not give production (release and config)');
    expect((await post<Stale>('/api/apps/pay/promote', { ...promote, basis: [res.body.error.details.plan.basis![0]] })).status).toBe(400);
  }, 60_000);

  it('a template upgrade and its rollback check their basis', async () => {
    await ok(['templates', 'publish', 'pay-app@1.0', '-a', 'pay']);
    await ok(['templates', 'install', 'pay-app', '--as', 'pay-prod']);
    await ok(['templates', 'publish', 'pay-app@2.0', '-a', 'pay']);
    await refusedOnOlderBasis('pay-prod', 'production', '/api/apps/pay-prod/upgrade', { env: 'production' });
    await ok(['templates', 'upgrade', '-a', 'pay-prod', '--yes']);
    const { stale } = await refusedOnOlderBasis('pay-prod', 'production', '/api/apps/pay-prod/upgrades/rollback', { env: 'production' });
    expect(stale.details.plan.description).toMatch(/^rollback to R[A-Z]{10}$/);
    expect(
      (await rw.api<{ upgrades: Array<{ rolledBackRelease: string | null }> }>('/api/apps/pay-prod/upgrades')).body.upgrades.every(
        (u) => u.rolledBackRelease === null,
      ),
    ).toBe(true);
  }, 90_000);

  it('a run rollback shows per task the plan from what is live now, warns about a later hand rollback, and checks its basis', async () => {
    const defined = await rw.api('/api/apps/pay/pipelines', {
      method: 'PUT',
      body: JSON.stringify({ pipelines: { ship: [{ deploy: { env: 'production', enableRollback: true } }] } }),
    });
    expect(defined.status, JSON.stringify(defined.body)).toBe(200);
    const started = await post<PipelineRunView>('/api/apps/pay/pipelines/ship/runs', { build: v1Build });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const id = started.body.id;
    for (let _i = 0; ; _i++) {
      const r = (await rw.api<PipelineRunView>(`/api/pipelines/runs/${id}`)).body;
      if (r.status === 'succeeded') break;
      expect(r.status).toBe('running');
      await new Promise((res) => setTimeout(res, 100));
    }
    const backup = (await rw.api<PipelineRunView>(`/api/pipelines/runs/${id}`)).body.tasks[0].backupRelease!;
    // Production is then rolled back by hand.
    await ok(['releases', 'rollback', '-a', 'pay', '--yes']);
    const byHand = (await releases('pay'))[0];
    expect(await active('pay')).toBe(byHand.id);

    const dry = await post<{ plan: RunRollbackPlanView }>(`/api/pipelines/runs/${id}/rollback`, { dryRun: true });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    const plan = dry.body.plan;
    expect(plan.warnings).toEqual([
      expect.stringMatching(new RegExp(`^production was changed after this run: release ${byHand.id} \\("${byHand.description}"\\) by \\S+`)),
    ]);
    expect(plan.tasks).toHaveLength(1);
    expect(plan.tasks[0]).toMatchObject({ index: 0, env: 'production', action: 'restore', backup, plan: { from: byHand.id, source: backup } });
    expect(plan.basis).toEqual([{ env: 'production', release: byHand.id, config: byHand.id }]);
    // The CLI prints the same plan.
    const printed = await ok(['pipelines', 'rollback', id, '--dry-run']);
    expect(printed.split('\n').slice(0, 3)).toEqual([
      `Plan: roll back run ${id} (succeeded) of pay`,
      `  warning: ${plan.warnings[0]}`,
      `  task 1 deploy: restore backup ${backup} in production (active: ${byHand.id})`,
    ]);
    // The dry runs changed nothing.
    expect((await rw.api<PipelineRunView>(`/api/pipelines/runs/${id}`)).body.rollbackStatus).toBe('none');

    await ok(['env', 'set', 'AFTER_PLAN=1', '-a', 'pay']);
    const after = (await releases('pay'))[0];
    const before = await snapshot('pay');
    const res = await post<Stale & { error: { details: { plan: RunRollbackPlanView } } }>(`/api/pipelines/runs/${id}/rollback`, { basis: plan.basis });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('STALE_PLAN');
    expect(res.body.error.message).toContain(`production's active release is now ${after.id} ("env add:AFTER_PLAN" by `);
    expect(res.body.error.message).toContain(`(was ${byHand.id}); config changed: AFTER_PLAN added`);
    expect(res.body.error.details.plan.tasks[0].plan!.config).toContainEqual({ key: 'AFTER_PLAN', action: 'remove', from: '1', to: null });
    expect(res.body.error.details.plan.basis).toEqual([{ env: 'production', release: after.id, config: after.id }]);
    expect(await snapshot('pay')).toEqual(before);
    expect((await rw.api<PipelineRunView>(`/api/pipelines/runs/${id}`)).body.rollbackStatus).toBe('none');

    // The new plan's basis is accepted, and the backup is restored.
    expect((await post(`/api/pipelines/runs/${id}/rollback`, { basis: res.body.error.details.plan.basis })).status).toBe(202);
    for (;;) {
      const r = (await rw.api<PipelineRunView>(`/api/pipelines/runs/${id}`)).body;
      if (r.rollbackStatus !== 'running') {
        expect(r.rollbackStatus, JSON.stringify(r.rollback)).toBe('rolled back');
        break;
      }
      await new Promise((res) => setTimeout(res, 100));
    }
  }, 90_000);
});

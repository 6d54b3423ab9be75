import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureApp, useRewind } from '../e2e/harness.js';
import { openPage, shot, useBrowser } from './browser.js';

interface Rel {
  id: string;
  description: string;
  config: Record<string, string>;
}

/**
 * Issue 10, items 1 and 2, in the console: an open rollback dialog follows its environment (the
 * live /api/events stream), so a change made meanwhile from the CLI shows in the plan before
 * Confirm, and what is confirmed is what happens; a run's rollback dialog shows its plan per task
 * and warns when production was changed after the run.
 */
describe('console: the plan in an open dialog is the plan that happens', () => {
  const rw = useRewind();
  const browser = useBrowser();

  beforeAll(async () => {
    expect((await rw.cli(['apps', 'create', 'pay'])).code).toBe(0);
    for (const v of ['v1', 'v2']) {
      const r = await rw.cli(['deploy', await fixtureApp({ version: v }), '-a', 'pay', '-d', v]);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 120_000);
  const releases = async () => (await rw.api<Rel[]>('/api/apps/pay/releases')).body;

  it('an open rollback dialog refreshes its plan after a CLI env set, and the rollback does what it then shows', async () => {
    const [, v1] = await releases();
    const page = await openPage(browser, rw, '/apps/pay/releases');
    await page.getByRole('button', { name: `Rollback to ${v1.id}` }).click();
    const dialog = page.getByRole('dialog', { name: `Roll back production to ${v1.id}` });
    const plan = dialog.getByRole('region', { name: 'What will change' });
    await plan.locator('tr[data-action="change"]').first().waitFor();
    // Planned as "no config changes".
    expect(await plan.locator('table').nth(1).locator('tr[data-action]').count()).toBe(0);

    const set = await rw.cli(['env', 'set', 'PAYMENT_WEBHOOK_SECRET=whsec_123', 'FEATURE_FLAG=on', '-a', 'pay']);
    expect(set.code, set.stderr).toBe(0);
    const config = plan.locator('table').nth(1);
    await expect.poll(() => config.innerText(), { timeout: 15_000 }).toContain('FEATURE_FLAG');
    expect(await config.innerText()).toContain('PAYMENT_WEBHOOK_SECRET');
    expect(await config.innerText()).not.toContain('whsec_123');
    expect(await config.locator('tr[data-action="remove"]').count()).toBe(2);
    expect(await dialog.getByRole('status').filter({ hasText: 'The plan was updated' }).innerText()).toMatch(/production changed/);
    await shot(page, 'stale-plan-refreshed');

    await dialog.getByRole('button', { name: 'Roll back', exact: true }).click();
    await dialog.getByRole('status').filter({ hasText: 'Active release in production' }).waitFor({ timeout: 30_000 });
    const [now] = await releases();
    expect(now.description).toBe(`rollback to ${v1.id}`);
    expect(Object.keys(now.config)).not.toContain('FEATURE_FLAG');
    await page.close();
  }, 90_000);

  it('a dialog that missed the change (no live stream) is refused with 409 and shows the new plan; nothing was done', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    page.setDefaultTimeout(20_000);
    // No /api/events: the dialog cannot learn of the change before Confirm.
    await page.route('**/api/events', (route) => route.abort());
    await page.goto(await rw.loginUrl());
    await page.goto(`${rw.url}/apps/pay/releases`);
    const list = await releases();
    const target = list[list.length - 1];
    await page.getByRole('button', { name: `Rollback to ${target.id}` }).click();
    const dialog = page.getByRole('dialog', { name: `Roll back production to ${target.id}` });
    const plan = dialog.getByRole('region', { name: 'What will change' });
    await plan.locator('tr[data-action]').first().waitFor();
    expect(await plan.innerText()).not.toContain('LATE_FLAG');

    const set = await rw.cli(['env', 'set', 'LATE_FLAG=1', '-a', 'pay']);
    expect(set.code, set.stderr).toBe(0);
    const before = (await releases()).length;
    await dialog.getByRole('button', { name: 'Roll back', exact: true }).click();
    const alert = dialog.getByRole('alert');
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/the plan is out of date: production's active release is now R[A-Z]{10} .*config changed: LATE_FLAG added/);
    await expect.poll(() => plan.innerText()).toContain('LATE_FLAG');
    expect(await dialog.getByRole('status').filter({ hasText: 'Nothing was done' }).count()).toBe(1);
    expect((await releases()).length).toBe(before);
    await shot(page, 'stale-plan-409');
    await page.close();
  }, 60_000);

  it("a run's rollback dialog shows the plan per task and warns when production was changed after the run", async () => {
    const build = (await rw.api<Array<{ id: string; description: string }>>('/api/apps/pay/builds')).body.find((b) => b.description === 'v2')!.id;
    const pipelines = { ship: [{ deploy: { env: 'production', enableRollback: true } }] };
    expect((await rw.api('/api/apps/pay/pipelines', { method: 'PUT', body: JSON.stringify({ pipelines }) })).status).toBe(200);
    const started = await rw.api<{ id: string }>('/api/apps/pay/pipelines/ship/runs', { method: 'POST', body: JSON.stringify({ build }) });
    expect(started.status).toBe(201);
    await expect
      .poll(async () => (await rw.api<{ status: string }>(`/api/pipelines/runs/${started.body.id}`)).body.status, { timeout: 30_000 })
      .toBe('succeeded');
    const byHand = await rw.cli(['releases', 'rollback', '-a', 'pay', '--yes']);
    expect(byHand.code, byHand.stderr).toBe(0);
    const [hand] = await releases();

    const page = await openPage(browser, rw, `/apps/pay/pipelines/runs/${started.body.id}`);
    await page.getByRole('button', { name: 'Rollback', exact: true }).click();
    const confirm = page.getByRole('dialog', { name: /^Roll back run P/ });
    await confirm.getByText(`production was changed after this run: release ${hand.id}`).waitFor();
    const restored = confirm.getByRole('list', { name: 'Will be restored' });
    expect(await restored.innerText()).toMatch(/deploy: restore backup R[A-Z]{10} in production/);
    await restored.getByRole('region', { name: /What task 1 \(deploy\) changes in production/ }).waitFor();
    await shot(page, 'run-rollback-plan');
    await page.close();
  }, 90_000);
});

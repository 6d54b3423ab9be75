import { execFileSync } from 'node:child_process';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { body, fixtureApp, useRewind } from '../e2e/harness.js';
import { openPage, shot, twoComponentApp, useBrowser, writeTwoComponentApp } from './browser.js';

interface Rel {
  id: string;
  status: string;
  kind: string;
  description: string;
  builds: Record<string, string>;
}

/**
 * Issue 10, items 16-18 and 20: the console as the seeds' users click it. Boomi's "Rollback to
 * previous release" (plan, confirm, Finish) and a timeline that knows a deployment is running;
 * Rainbond's several components at once and versions that also move forward; CPI's Rollback in
 * the deployment task's section; backups that say which version they hold.
 */
describe('the seeds in a browser', () => {
  const rw = useRewind();
  const browser = useBrowser();

  const ok = (args: string[]) => rw.ok(args);
  const releases = async (app: string, env = 'production') => (await rw.api<Rel[]>(`/api/apps/${app}/releases?env=${env}`)).body;
  const focused = (page: Page, selector: string) =>
    page.locator(selector).evaluate((el) => el === document.activeElement || el.contains(document.activeElement));

  it('Boomi: rolls back to the previous release (plan, confirm, Finish), compares with the previously active release, and disables rollback while a deployment runs', async () => {
    await ok(['apps', 'create', 'boomi']);
    await ok(['deploy', await fixtureApp({ version: 'v1' }), '-a', 'boomi', '-d', 'v1: first']);
    await ok(['deploy', await fixtureApp({ version: 'v2' }), '-a', 'boomi', '-d', 'v2: second']);
    const url = await rw.appUrl('boomi');
    const [v2, v1] = await releases('boomi');

    const page = await openPage(browser, rw, '/apps/boomi/releases');
    const active = page.locator(`li[data-release="${v2.id}"]`);
    await active.getByRole('button', { name: 'Roll back to previous release' }).click();
    const dialog = page.getByRole('dialog', { name: 'Roll back production to the previous release' });
    expect(await dialog.locator('.intro').innerText()).toContain(v2.id);
    const plan = dialog.getByRole('region', { name: 'What will change' });
    await expect.poll(() => plan.locator('tr[data-action="change"]').innerText()).toContain(`${v2.builds.web} → ${v1.builds.web}`);
    await shot(page, 'seeds-previous-plan');
    await dialog.getByRole('button', { name: 'Roll back to previous release', exact: true }).click();
    const outcome = dialog.getByRole('status').filter({ hasText: 'Active release in production' });
    await outcome.waitFor();
    // The result is where the eyes and the keyboard go once it is there.
    await expect.poll(() => focused(page, '.modal .outcome')).toBe(true);
    expect(
      await outcome.evaluate((el) => {
        const r = el.getBoundingClientRect();
        const d = el.closest('dialog')!.getBoundingClientRect();
        return r.top >= d.top - 1 && r.bottom <= d.bottom + 1;
      }),
    ).toBe(true);
    const [now] = await releases('boomi');
    expect(now.description).toBe(`rollback to ${v1.id}`);
    expect(await body(url)).toContain('version=v1');
    await shot(page, 'seeds-previous-done');
    await dialog.getByRole('button', { name: 'Finish', exact: true }).click();
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);

    // A release staged without deploying is newest in the list, but the active release compares
    // with the one that was active before it; an older release compares with the one before it.
    await ok(['env', 'set', 'STAGED=1', '-a', 'boomi', '--no-promote']);
    await page.goto(`${rw.url}/apps/boomi/releases/${now.id}`);
    await page.getByRole('region', { name: `From ${v2.id} (before) to ${now.id} (this release)` }).waitFor();
    await page.goto(`${rw.url}/apps/boomi/releases/${v2.id}`);
    const diff = page.getByRole('region', { name: `From ${v1.id} (before) to ${v2.id} (this release)` });
    await diff.locator('tr[data-action="change"]').waitFor();
    await shot(page, 'seeds-release-compare');

    // A deployment that is still starting: the timeline says so and offers no rollback meanwhile.
    await page.goto(`${rw.url}/apps/boomi/releases`);
    await page.getByRole('button', { name: 'Roll back to previous release' }).waitFor();
    const slow = rw.cli(['deploy', await fixtureApp({ version: 'v3', startDelayMs: 5000 }), '-a', 'boomi', '-d', 'v3: slow start']);
    const running = page.getByRole('status').filter({ hasText: 'is being deployed' });
    await running.waitFor({ timeout: 20_000 });
    expect(await page.getByRole('button', { name: 'Roll back to previous release' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: `Rollback to ${v1.id}` }).isDisabled()).toBe(true);
    await shot(page, 'seeds-deployment-running');
    const done = await slow;
    expect(done.code, done.stderr).toBe(0);
    await running.waitFor({ state: 'detached', timeout: 15_000 });
    expect(await page.getByRole('button', { name: 'Roll back to previous release' }).isEnabled()).toBe(true);
    expect(await page.getByRole('button', { name: `Rollback to ${v1.id}` }).isEnabled()).toBe(true);
    await page.close();
  });

  it('Rainbond: rolls several components back at once, names the environment, and moves a component forward from its versions', async () => {
    await ok(['apps', 'create', 'rain']);
    const dir = await twoComponentApp('v1', 'v1');
    // No -d and no git checkout: the release has no description of its own.
    await ok(['deploy', dir, '-a', 'rain']);
    await writeTwoComponentApp(dir, 'v2', 'v2');
    await ok(['deploy', dir, '-a', 'rain', '-d', 'web v2 and worker v2']);
    const url = await rw.appUrl('rain');
    const [v2, v1] = await releases('rain');
    expect(v1.description).toBe('build');

    const page = await openPage(browser, rw, '/apps/rain/releases');
    const first = page.locator(`li[data-release="${v1.id}"]`);
    await first.waitFor();
    expect(await first.innerText()).not.toMatch(/build\s+build/);
    expect(await first.innerText()).toContain('no description');

    await page.goto(`${rw.url}/apps/rain`);
    await page.getByRole('button', { name: 'Roll back components in production' }).click();
    const pick = page.getByRole('dialog', { name: 'Roll back components in production' });
    await pick.getByRole('combobox', { name: 'Build of web' }).selectOption(v1.builds.web);
    await pick.getByRole('combobox', { name: 'Build of worker' }).selectOption(v1.builds.worker);
    await pick.getByRole('button', { name: 'Review the plan' }).click();
    const dialog = page.getByRole('dialog', { name: 'Roll back web, worker in production' });
    const plan = dialog.getByRole('region', { name: 'What will change' });
    await expect.poll(() => plan.locator('tr[data-action="change"]').count()).toBe(2);
    expect(await plan.innerText()).toContain(`${v2.builds.worker} → ${v1.builds.worker}`);
    await shot(page, 'seeds-components-plan');
    await dialog.getByRole('button', { name: 'Roll back', exact: true }).click();
    await dialog.getByRole('status').filter({ hasText: 'Active release in production' }).waitFor();
    let [now] = await releases('rain');
    expect(now.builds).toEqual({ web: v1.builds.web, worker: v1.builds.worker });
    expect(await body(url)).toContain('web v1');
    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();

    // The versions page: the running build is v1; the newer v2 can be moved forward to.
    await page.getByRole('link', { name: 'View more versions of web in production' }).click();
    await page.locator(`li[data-build="${v1.builds.web}"][class~="current"]`).waitFor();
    await page.getByRole('button', { name: `Roll forward web to ${v2.builds.web}` }).click();
    const forward = page.getByRole('dialog', { name: `Roll web forward to ${v2.builds.web} in production` });
    expect(await forward.locator('.intro').innerText()).toContain('production');
    await expect
      .poll(() => forward.getByRole('region', { name: 'What will change' }).locator('tr[data-action="change"]').innerText())
      .toContain(`${v1.builds.web} → ${v2.builds.web}`);
    await shot(page, 'seeds-forward-plan');
    await forward.getByRole('button', { name: 'Roll forward', exact: true }).click();
    await forward.getByRole('status').filter({ hasText: 'Active release in production' }).waitFor();
    [now] = await releases('rain');
    expect(now.builds).toEqual({ web: v2.builds.web, worker: v1.builds.worker });
    expect(await body(url)).toContain('web v2');
    await forward.getByRole('button', { name: 'Close', exact: true }).last().click();

    // Back again: the component rollback dialog says which environment it changes.
    await page.getByRole('button', { name: `Rollback web to ${v1.builds.web}` }).click();
    const back = page.getByRole('dialog', { name: `Roll back web to ${v1.builds.web} in production` });
    expect(await back.locator('.intro').innerText()).toContain('in production');
    await back.getByRole('button', { name: 'Cancel' }).click();
    await page.close();
  });

  it('CPI: offers Rollback in the deploy task, backups name the version they hold and are hidden from the build picker', async () => {
    await ok(['apps', 'create', 'cpi']);
    // A clean git checkout: the CLI describes the build as `build <12hex> <subject>`.
    const src = await fixtureApp({ version: 'v1' });
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: src, stdio: 'pipe' }).toString();
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'first checkout');
    const described = `build ${git('rev-parse', 'HEAD').trim().slice(0, 12)} first checkout`;
    await ok(['deploy', src, '-a', 'cpi']);
    expect((await releases('cpi'))[0].description).toBe(described);
    const b = await ok(['build', await fixtureApp({ version: 'v2' }), '-a', 'cpi', '-d', 'v2: new checkout']);
    const build = /Build:\s+(B[A-Z]{10})/.exec(b.stdout + b.stderr)?.[1];
    const pipelines = { ship: ['build', { deploy: { env: 'production', enableRollback: true } }, { approval: { message: 'Keep v2?' } }] };
    expect((await rw.api('/api/apps/cpi/pipelines', { method: 'PUT', body: JSON.stringify({ pipelines }) })).status).toBe(200);
    const started = await rw.api<{ id: string }>('/api/apps/cpi/pipelines/ship/runs', { method: 'POST', body: JSON.stringify({ stories: [], build }) });
    expect(started.status, JSON.stringify(started.body)).toBeLessThan(300);
    const url = await rw.appUrl('cpi');

    const page = await openPage(browser, rw, `/apps/cpi/pipelines/runs/${started.body.id}`);
    await page.locator('li[data-task="approval"]').getByText('waiting', { exact: true }).waitFor();
    expect(await body(url)).toContain('version=v2');
    const backup = (await releases('cpi')).find((r) => r.kind === 'backup')!;
    expect(backup.description).toMatch(new RegExp(`^backup of live production: ${described} \\(R[A-Z]{10}, before pipeline run`));
    const backupBuild = (await rw.api<Array<{ id: string; description: string }>>('/api/apps/cpi/builds')).body.find((x) => x.id === backup.builds.web)!;
    expect(backupBuild.description).toBe(`backup of the live files of production: ${described}`);

    // The Run dialog lists the app's own builds; backups only when asked for.
    await page.goto(`${rw.url}/apps/cpi/pipelines`);
    await page.getByRole('button', { name: 'Run ship' }).click();
    const run = page.getByRole('dialog', { name: 'Run ship' });
    const picker = run.getByRole('combobox', { name: 'Build' });
    await picker.locator(`option[value="${build}"]`).waitFor({ state: 'attached' });
    expect(await picker.locator(`option[value="${backupBuild.id}"]`).count()).toBe(0);
    await run.getByRole('checkbox', { name: 'Show backups' }).check();
    expect(await picker.locator(`option[value="${backupBuild.id}"]`).innerText()).toContain(described);
    await run.getByRole('button', { name: 'Cancel' }).click();

    // The deploy task's own section offers Rollback, with the run's rollback dialog.
    await page.goto(`${rw.url}/apps/cpi/pipelines/runs/${started.body.id}`);
    const deploy = page.locator('li[data-task="deploy"]');
    await deploy.getByRole('button', { name: 'Rollback run from task deploy' }).click();
    const confirm = page.getByRole('dialog', { name: /^Roll back run P/ });
    expect(await confirm.getByRole('list', { name: 'Will be restored' }).innerText()).toContain(`restore backup ${backup.id} in production`);
    await shot(page, 'seeds-task-rollback');
    await confirm.getByRole('button', { name: 'Yes, roll back' }).click();
    await deploy.getByLabel('Rollback status of deploy').getByText('rolled back').waitFor();
    expect(await body(url)).toContain('version=v1');
    expect(await deploy.getByRole('button', { name: 'Rollback run from task deploy' }).count()).toBe(0);
    await page.close();
  });
});

import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { body, helloApp, useRewind } from '../e2e/harness.js';
import { openPage, shot, useBrowser } from './browser.js';

interface Status {
  installed: string | null;
  upgradable: boolean;
  upgrades: Array<{ id: string; fromVersion: string | null; toVersion: string; release: string; rolledBackRelease: string | null }>;
}

/**
 * Rainbond's seed in the console: production, installed from template version 1.0, says 2.0 is
 * available; Upgrade asks for confirmation, streams the deployment and runs 2.0; the upgrade
 * record's Roll back asks again and brings 1.0 back, the record marked rolled back.
 */
describe('template upgrades in a browser', () => {
  const rw = useRewind();
  const browser = useBrowser();
  const dirs: string[] = [];

  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  const ok = (args: string[]) => rw.ok(args);
  const status = async () => (await rw.api<Status>('/api/apps/shop-prod/upgrades?env=production')).body;

  it('upgrades production to the new version with confirmation, then rolls the upgrade back from its record', async () => {
    const [v1, v2] = [await helloApp('v1'), await helloApp('v2')];
    dirs.push(v1, v2);
    await ok(['apps', 'create', 'shop']);
    await ok(['envs', 'create', 'test', '-a', 'shop', '--before', 'production']);
    await ok(['deploy', v1, '-a', 'shop', '-e', 'test']);
    await ok(['templates', 'publish', 'shop-app@1.0', '-a', 'shop', '-e', 'test']);
    await ok(['templates', 'install', 'shop-app', '--as', 'shop-prod']);
    await ok(['deploy', v2, '-a', 'shop', '-e', 'test']);
    await ok(['templates', 'publish', 'shop-app@2.0', '-a', 'shop', '-e', 'test']);
    const url = await rw.appUrl('shop-prod');
    expect(await body(url)).toContain('hello from v1');

    // An app not installed from a template shows nothing new.
    const page = await openPage(browser, rw, `/apps/shop`);
    await page.getByTestId('active-test').waitFor();
    await page.getByRole('heading', { name: 'Recent activity' }).waitFor();
    expect(await page.getByRole('heading', { name: /^Upgrades in/ }).count()).toBe(0);

    // 1. Production says it can be upgraded.
    await page.goto(`${rw.url}/apps/shop-prod`);
    const panel = page.getByRole('region', { name: 'Upgrades in production' });
    await panel.getByText('production runs shop-app 1.0.').waitFor();
    const notice = panel.getByRole('status').filter({ hasText: '2.0 is available' });
    await notice.waitFor();
    await shot(page, 'upgrade-available');

    // 2. Upgrade: confirm, watch the log, 2.0 runs.
    await notice.getByRole('button', { name: 'Upgrade production to shop-app 2.0' }).click();
    const dialog = page.getByRole('dialog', { name: 'Upgrade production to shop-app 2.0' });
    await dialog.getByText('1.0 → 2.0').waitFor();
    await dialog.getByText(/from R[A-Z]{10} of shop\/test/).waitFor();
    // The server's plan: web's build changes to the version's (named until it is built).
    const plan = dialog.getByRole('region', { name: 'What will change' });
    await expect.poll(() => plan.locator('tr[data-action="change"]').innerText()).toContain('shop-app@2.0');
    expect(await status()).toMatchObject({ installed: '1.0', upgradable: true });
    await shot(page, 'upgrade-confirm');
    await dialog.getByRole('button', { name: 'Upgrade', exact: true }).click();
    await dialog
      .getByRole('list', { name: 'Deployment log' })
      .getByText(/switch|traffic|healthy/i)
      .first()
      .waitFor();
    await dialog.getByRole('status').filter({ hasText: 'Active release in production' }).waitFor();
    expect(await body(url)).toContain('hello from v2');
    const [upgrade] = (await status()).upgrades;
    expect(upgrade).toMatchObject({ fromVersion: '1.0', toVersion: '2.0', rolledBackRelease: null });
    await shot(page, 'upgrade-done');
    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();

    await panel.getByText('production runs shop-app 2.0, the newest version.').waitFor();
    expect(await notice.count()).toBe(0);
    const row = panel.locator(`tr[data-upgrade="${upgrade.id}"]`);
    await row.getByText('succeeded', { exact: true }).waitFor();
    expect(await row.innerText()).toContain('1.0 → 2.0');

    // 3. Roll the upgrade back from its record: the plan goes back to the release before it.
    await row.getByRole('button', { name: `Roll back upgrade ${upgrade.id} (1.0 → 2.0)` }).click();
    const back = page.getByRole('dialog', { name: 'Roll back production from shop-app 2.0 to 1.0' });
    await back.getByRole('region', { name: 'What will change' }).locator('tr[data-action="change"]').getByText('web').waitFor();
    await shot(page, 'upgrade-rollback-plan');
    await back.getByRole('button', { name: 'Roll back', exact: true }).click();
    await back.getByRole('status').filter({ hasText: 'Active release in production' }).waitFor();
    expect(await body(url)).toContain('hello from v1');
    await back.getByRole('button', { name: 'Close', exact: true }).last().click();

    await row.getByText('rolled back', { exact: true }).waitFor();
    expect(await row.getAttribute('data-rolled-back')).toBe('true');
    await panel.getByText('production runs shop-app 1.0.').waitFor();
    await notice.waitFor();
    // What is left is the install, which has nothing before it to go back to.
    expect(await panel.getByRole('button', { name: /^Roll back/ }).count()).toBe(0);
    const after = await status();
    expect(after).toMatchObject({ installed: '1.0', upgradable: true });
    expect(after.upgrades[0].rolledBackRelease).toMatch(/^R[A-Z]{10}$/);
    await shot(page, 'upgrade-rolled-back');

    // The same panel heads the environment's release timeline.
    await page.goto(`${rw.url}/apps/shop-prod/releases`);
    await page.getByRole('region', { name: 'Upgrades in production' }).getByRole('status').filter({ hasText: '2.0 is available' }).waitFor();
    // The panel and the timeline load separately: wait for the timeline before counting it.
    await page.locator('ol.timeline li.release').first().waitFor();
    await expect.poll(() => page.locator('li.release').count()).toBe(3);
    await shot(page, 'upgrade-releases');
    await page.close();
  }, 120_000);

  it('rolls back an install over an earlier release to that release, offered on the install record', async () => {
    const [v1, mine] = [await helloApp('v1'), await helloApp('mine')];
    dirs.push(v1, mine);
    await ok(['apps', 'create', 'blog']);
    await ok(['envs', 'create', 'test', '-a', 'blog', '--before', 'production']);
    await ok(['deploy', v1, '-a', 'blog', '-e', 'test']);
    await ok(['templates', 'publish', 'blog-app@1.0', '-a', 'blog', '-e', 'test']);
    await ok(['apps', 'create', 'site']);
    await ok(['deploy', mine, '-a', 'site']);
    await ok(['templates', 'install', 'blog-app', '--as', 'site']);
    const url = await rw.appUrl('site');
    expect(await body(url)).toContain('hello from v1');
    const [install] = (await rw.api<Status>('/api/apps/site/upgrades?env=production')).body.upgrades;
    expect(install).toMatchObject({ fromVersion: null, toVersion: '1.0' });

    const page = await openPage(browser, rw, '/apps/site');
    const panel = page.getByRole('region', { name: 'Upgrades in production' });
    await panel.getByRole('button', { name: `Roll back upgrade ${install.id} (install 1.0)` }).click();
    const back = page.getByRole('dialog', { name: 'Roll back the install of blog-app 1.0 in production' });
    await back.getByText('what ran before the install of blog-app 1.0').waitFor();
    await back.getByRole('region', { name: 'What will change' }).locator('tr[data-action="change"]').getByText('web').waitFor();
    await back.getByRole('button', { name: 'Roll back', exact: true }).click();
    await back.getByRole('status').filter({ hasText: 'Active release in production' }).waitFor();
    expect(await body(url)).toContain('hello from mine');
    await back.getByRole('button', { name: 'Close', exact: true }).last().click();
    await panel.locator(`tr[data-upgrade="${install.id}"]`).getByText('rolled back', { exact: true }).waitFor();
    expect(await panel.getByRole('button', { name: /^Roll back/ }).count()).toBe(0);
    await page.close();
  }, 120_000);
});

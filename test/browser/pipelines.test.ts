import { describe, expect, it } from 'vitest';
import { body, fixtureApp, useRewind } from '../e2e/harness.js';
import { openPage, shot, useBrowser } from './browser.js';

/**
 * The CPI seed in the console: a run whose deploy task has Enable Rollback waits for approval;
 * Rollback on its activity page asks for confirmation, restores the backup, and only then shows
 * a rollback section with its logs. Stories lead to the run.
 */
describe('pipeline activity in a browser', () => {
  const rw = useRewind();
  const browser = useBrowser();

  it('runs a pipeline, rolls the run back with confirmation while it waits, and shows the rollback section', async () => {
    expect((await rw.cli(['apps', 'create', 'flow'])).code).toBe(0);
    const d = await rw.cli(['deploy', await fixtureApp({ version: 'v1' }), '-a', 'flow', '-d', 'v1']);
    expect(d.code, d.stderr).toBe(0);
    const b = await rw.cli(['build', await fixtureApp({ version: 'v2' }), '-a', 'flow', '-d', 'v2: new checkout']);
    expect(b.code, b.stderr).toBe(0);
    const build = /Build:\s+(B[A-Z]{10})/.exec(b.stdout + b.stderr)?.[1];
    expect(build).toBeTruthy();
    const pipelines = { ship: ['build', { deploy: { env: 'production', enableRollback: true } }, { approval: { message: 'Keep v2?' } }] };
    expect((await rw.api('/api/apps/flow/pipelines', { method: 'PUT', body: JSON.stringify({ pipelines }) })).status).toBe(200);
    const url = await rw.appUrl('flow');

    const page = await openPage(browser, rw, `/apps/flow/pipelines`);
    await page.getByRole('button', { name: 'Run ship' }).click();
    const start = page.getByRole('dialog', { name: 'Run ship' });
    await start.getByRole('combobox', { name: 'Build' }).selectOption(build!);
    await start.getByRole('textbox', { name: /Stories/ }).fill('US-1');
    await start.getByRole('button', { name: 'Start the run' }).click();

    await page.waitForURL(/\/apps\/flow\/pipelines\/runs\/P[A-Z]{10}$/);
    const approval = page.locator('li[data-task="approval"]');
    await approval.getByText('waiting', { exact: true }).waitFor();
    expect(await body(url)).toContain('version=v2');
    const deploy = page.locator('li[data-task="deploy"]');
    expect(await deploy.getByLabel('Rollback status of deploy').innerText()).toContain('none');
    expect(await page.getByRole('heading', { name: 'Rollback', exact: true }).count()).toBe(0);
    await shot(page, 'pipeline-waiting');

    await page.getByRole('button', { name: 'Rollback', exact: true }).click();
    const confirm = page.getByRole('dialog', { name: /^Roll back run P/ });
    expect(await confirm.getByRole('list', { name: 'Will be restored' }).innerText()).toMatch(/deploy: restore backup R[A-Z]{10} in production/);
    await shot(page, 'pipeline-rollback-confirm');
    await confirm.getByRole('button', { name: 'Yes, roll back' }).click();

    await page.getByRole('heading', { name: 'Rollback', exact: true }).waitFor();
    await page
      .getByRole('list', { name: 'Rollback log' })
      .getByText(/restoring backup/)
      .first()
      .waitFor();
    await deploy.getByLabel('Rollback status of deploy').getByText('rolled back').waitFor();
    await approval.getByText('cancelled', { exact: true }).waitFor();
    expect(await body(url)).toContain('version=v1');
    await shot(page, 'pipeline-rolled-back');

    // The story leads back to this run's activity.
    const runUrl = page.url();
    await page.getByRole('link', { name: 'US-1' }).first().click();
    await page.getByRole('heading', { name: 'Pipeline activity of US-1' }).waitFor();
    await page.getByRole('link', { name: /^Activity of run P/ }).click();
    await page.waitForURL(runUrl);
    await page.close();
  });
});

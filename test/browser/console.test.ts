import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { body, fixtureApp, ROOT, useRewind } from '../e2e/harness.js';
import { openPage, shot, twoComponentApp, useBrowser, writeTwoComponentApp } from './browser.js';

interface Rel {
  id: string;
  status: string;
  description: string;
  builds: Record<string, string>;
}

/**
 * The seeds' flow in a real browser against a real server and agent: deploy with the CLI, open the
 * console, click Rollback, read the plan, confirm, watch the log, see the new active release.
 */
describe('console in a browser', () => {
  const rw = useRewind();
  const browser = useBrowser();

  const deploy = async (dir: string, app: string, description: string) => {
    const r = await rw.cli(['deploy', dir, '-a', app, '-d', description]);
    expect(r.code, r.stderr).toBe(0);
  };
  const releases = async (app: string) => (await rw.api<Rel[]>(`/api/apps/${app}/releases`)).body;

  it('says what to do when there is nothing yet, shows API errors in words, and works with the keyboard', async () => {
    const page = await openPage(browser, rw, `/`);
    await page.getByRole('heading', { name: 'No apps yet' }).waitFor();
    expect(await page.locator('.empty pre').first().innerText()).toContain('rewind apps create NAME\nrewind deploy DIR -a NAME');
    await shot(page, 'empty');

    await page.goto(`${rw.url}/apps/nope/releases`);
    const alert = page.getByRole('alert').first();
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/Could not load nope: .*nope/);

    // Create an app from the keyboard alone: the form has a labelled field and button.
    await page.goto(`${rw.url}/`);
    await page.getByRole('textbox', { name: 'New app name' }).focus();
    await page.keyboard.type('Bad Name');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    expect(await page.getByRole('textbox', { name: 'New app name' }).evaluate((el: HTMLInputElement) => el.validity.valid)).toBe(false);
    await page.getByRole('textbox', { name: 'New app name' }).fill('kbd');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'kbd', level: 1 }).waitFor();
    await page.getByRole('heading', { name: 'Nothing deployed yet' }).waitFor();
    expect(await page.locator('.empty pre').innerText()).toBe('rewind deploy DIR -a kbd');
    await page.close();
  });

  it('rolls an app back from the release timeline: plan, confirm, live log, new active release', async () => {
    expect((await rw.cli(['apps', 'create', 'shop'])).code).toBe(0);
    await deploy(await fixtureApp({ version: 'v1' }), 'shop', 'v1: first version');
    await deploy(await fixtureApp({ version: 'v2' }), 'shop', 'v2: new checkout');
    const url = await rw.appUrl('shop');
    expect(await body(url)).toContain('version=v2');
    const [v2, v1] = await releases('shop');

    const page = await openPage(browser, rw, `/apps/shop/releases`);
    const watcher = await openPage(browser, rw, `/apps/shop/releases`);
    await page.getByRole('button', { name: `Rollback to ${v1.id}` }).click();

    const dialog = page.getByRole('dialog', { name: `Roll back production to ${v1.id}` });
    const plan = dialog.getByRole('region', { name: 'What will change' });
    await expect.poll(() => plan.locator('tr[data-action="change"]').innerText()).toContain(`${v2.builds.web} → ${v1.builds.web}`);
    await shot(page, 'rollback-plan');

    await dialog.getByRole('button', { name: 'Roll back', exact: true }).click();
    const log = dialog.getByRole('list', { name: 'Deployment log' });
    await log
      .getByText(/switch|traffic|healthy/i)
      .first()
      .waitFor();
    const outcome = dialog.getByRole('status').filter({ hasText: 'Active release in production' });
    await outcome.waitFor();
    const [now] = await releases('shop');
    expect(now.description).toBe(`rollback to ${v1.id}`);
    expect(now.status).toBe('active');
    expect(await outcome.innerText()).toContain(now.id);
    await shot(page, 'rollback-done');
    expect(await body(url)).toContain('version=v1');

    // The other console saw it without reloading: the new release is on top and marked active.
    const top = watcher.locator('li.release').first();
    await expect.poll(() => top.getAttribute('data-release'), { timeout: 10_000 }).toBe(now.id);
    expect(await top.getAttribute('aria-current')).toBe('true');
    await shot(watcher, 'live-second-console');

    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();
    await expect.poll(() => page.locator('li.release[aria-current="true"]').getAttribute('data-release')).toBe(now.id);
    await shot(page, 'releases-after-rollback');
    await Promise.all([page.close(), watcher.close()]);
  });

  it('rolls one component back from "view more versions", keeping the other', async () => {
    expect((await rw.cli(['apps', 'create', 'duo'])).code).toBe(0);
    const dir = await twoComponentApp('v1', 'v1');
    await deploy(dir, 'duo', 'first web and worker');
    await writeTwoComponentApp(dir, 'v2', 'v2');
    await deploy(dir, 'duo', 'web v2 and worker v2');
    const url = await rw.appUrl('duo');
    expect(await body(url)).toContain('web v2');
    const [v2, v1] = await releases('duo');
    expect(v2.builds.web).not.toBe(v1.builds.web);

    const page = await openPage(browser, rw, `/apps/duo`);
    await page.getByRole('link', { name: 'View more versions of web in production' }).click();
    await page.getByRole('button', { name: `Rollback web to ${v1.builds.web}` }).click();

    const dialog = page.getByRole('dialog', { name: `Roll back web to ${v1.builds.web}` });
    const plan = dialog.getByRole('region', { name: 'What will change' });
    await expect.poll(() => plan.locator('tr[data-action="change"]').innerText()).toContain(`${v2.builds.web} → ${v1.builds.web}`);
    expect(await plan.locator('tr[data-action="keep"]').innerText()).toContain('worker');
    await shot(page, 'component-rollback-plan');

    await dialog.getByRole('button', { name: 'Roll back', exact: true }).click();
    await dialog.getByRole('status').filter({ hasText: 'Active release in production' }).waitFor();
    const [now] = await releases('duo');
    expect(now.status).toBe('active');
    expect(now.builds).toEqual({ web: v1.builds.web, worker: v2.builds.worker });
    expect(await body(url)).toContain('web v1');
    await shot(page, 'component-rollback-done');

    await dialog.getByRole('button', { name: 'Close', exact: true }).last().click();
    await page.locator(`li[data-build="${v1.builds.web}"][class~="current"]`).waitFor();
    await page.close();
  });

  it('shows a release with masked config and a diff, saves config as a release, and lists deployments', async () => {
    const page = await openPage(browser, rw, `/apps/shop/config`);
    await page.getByRole('button', { name: 'Add a variable' }).click();
    await page.getByRole('textbox', { name: 'New variable name' }).fill('API_TOKEN');
    await page.getByLabel('Value of API_TOKEN').fill('s3cret');
    await page.getByRole('button', { name: 'Save as a new release' }).click();
    const saved = page.getByRole('status').filter({ hasText: 'Saved as release' });
    await saved.waitFor();
    expect(await saved.innerText()).toContain('env add:API_TOKEN');
    await page
      .getByRole('region', { name: /^Log of deployment/ })
      .getByText('succeeded', { exact: true })
      .waitFor();
    await shot(page, 'config-saved');

    const [now, before] = await releases('shop');
    expect(now.description).toBe('env add:API_TOKEN');
    await page.goto(`${rw.url}/apps/shop/releases/${now.id}`);
    const config = page.getByRole('table', { name: `Variables of ${now.id}` });
    await config.getByText('********').waitFor();
    expect(await config.innerText()).not.toContain('s3cret');
    await page.getByRole('combobox', { name: 'Compare with' }).selectOption(before.id);
    const diff = page.getByRole('region', { name: `From ${before.id} (before) to ${now.id} (this release)` });
    await diff.locator('tr[data-action="add"]').getByText('API_TOKEN').waitFor();
    expect(await diff.innerText()).not.toContain('s3cret');
    await shot(page, 'release');

    await page.getByRole('link', { name: 'Deployments' }).click();
    await page.getByRole('table').getByText('config').first().waitFor();
    expect(await page.locator('tbody tr').count()).toBeGreaterThanOrEqual(4);
    await shot(page, 'deployments');
    await page.close();
  });

  it('shows a failed deployment with its outcome and why, live', async () => {
    expect((await rw.cli(['apps', 'create', 'oops'])).code).toBe(0);
    const page = await openPage(browser, rw, `/apps/oops/deployments`);
    await page.getByRole('heading', { name: 'No deployments in production yet' }).waitFor();
    const manifest = 'components:\n  web:\n    command: node server.js\n    health:\n      path: /health\n      timeout: 1\n      interval: 0.1\n';
    const d = await rw.cli(['deploy', await fixtureApp({ version: 'sick', healthStatus: 500, manifest }), '-a', 'oops']);
    expect(d.code).not.toBe(0);
    const row = page.locator('tbody tr').first();
    await row.getByText('failed', { exact: true }).waitFor();
    expect(await row.locator('.why').innerText()).toMatch(/health/i);
    await row.getByRole('link').click();
    const log = page.getByRole('region', { name: /^Log of deployment/ });
    await log.getByText('failed', { exact: true }).waitFor();
    expect(await log.innerText()).toMatch(/health/i);
    await shot(page, 'deployment-failed');
    await page.close();
  });

  it('shows the app overview and refreshes it live when the CLI changes something', async () => {
    const page = await openPage(browser, rw, `/apps/shop`);
    const active = page.getByTestId('active-production');
    const before = await active.innerText();
    expect((await rw.cli(['env', 'set', 'GREETING=hi', '-a', 'shop'])).code).toBe(0);
    await expect.poll(() => active.innerText(), { timeout: 10_000 }).not.toBe(before);
    const [now] = await releases('shop');
    expect(await active.innerText()).toBe(now.id);
    await page.getByText('env add:GREETING').first().waitFor();

    // A second environment appears beside production; promote production into it.
    expect((await rw.api('/api/apps/shop/envs', { method: 'POST', body: JSON.stringify({ name: 'staging' }) })).status).toBe(201);
    await page.getByRole('heading', { name: 'staging' }).waitFor();
    await page.getByRole('button', { name: 'Promote to staging' }).click();
    const dialog = page.getByRole('dialog', { name: 'Promote production → staging' });
    await dialog.getByRole('region', { name: 'What will change' }).locator('tr[data-action="add"]').getByText('web').waitFor();
    await dialog.getByRole('button', { name: 'Promote', exact: true }).click();
    await dialog.getByRole('status').filter({ hasText: 'Active release in staging' }).waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('active-staging').waitFor();
    expect(await body(await rw.appUrl('shop', 'staging'))).toContain('version=v1');
    await shot(page, 'app-overview');
    if (process.env.REWIND_DOCS_SCREENSHOT) {
      // The README's picture: a rollback from the timeline, its plan applied and its log streamed.
      await page.goto(`${rw.url}/apps/shop/releases`);
      const v2 = (await releases('shop')).find((r) => r.description.startsWith('v2'))!;
      await page.getByRole('button', { name: `Rollback to ${v2.id}` }).click();
      await page.getByRole('button', { name: 'Roll back', exact: true }).click();
      await page.getByRole('status').filter({ hasText: 'Active release in production' }).waitFor();
      await mkdir(join(ROOT, 'docs', 'img'), { recursive: true });
      await copyFile(await shot(page, 'console'), join(ROOT, 'docs', 'img', 'console.png'));
    }
    await page.close();
  });
});

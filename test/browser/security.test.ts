/**
 * The console's login and what a hostile page can do with a logged-in browser: nothing. A page on
 * another origin of the same machine (another port is the same *site*, so SameSite alone does not
 * help) tries the cross-site requests of issue 9; a rebound host name gets 421.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useRewind } from '../e2e/harness.js';
import { shot, useBrowser } from './browser.js';

describe('console login and cross-site requests in a browser', () => {
  const rw = useRewind();
  // rebind.attacker.example resolves to this machine, as a DNS-rebinding attacker makes it do.
  const browser = useBrowser(['--host-resolver-rules=MAP rebind.attacker.example 127.0.0.1']);
  let attacker: Server;
  let attackerUrl = '';

  beforeAll(async () => {
    expect((await rw.cli(['apps', 'create', 'shop'])).code).toBe(0);
    // The attacker's page: every request a page may send without a CORS preflight, with the victim's cookies.
    attacker = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!doctype html><title>cute cats</title>
<form id="f" method="POST" action="${rw.url}/api/apps" enctype="text/plain"><input name='{"name":"formapp","x":"' value='"}'></form>
<script>
  window.attempts = Promise.allSettled([
    fetch(${JSON.stringify(rw.url)} + '/api/apps', { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"name":"evil"}' }),
    fetch(${JSON.stringify(rw.url)} + '/api/apps', { method: 'POST', mode: 'no-cors', credentials: 'include' }),
    fetch(${JSON.stringify(rw.url)} + '/api/apps/shop', { method: 'DELETE', credentials: 'include' }),
    fetch(${JSON.stringify(rw.url)} + '/api/apps', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{"name":"evil2"}' }),
  ]).then(() => 'done');
</script>`);
    });
    await new Promise<void>((r) => attacker.listen(0, '127.0.0.1', r));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    attacker?.close();
  });

  const apps = async () => (await rw.api<Array<{ name: string }>>('/api/apps')).body.map((a) => a.name).sort();

  it('asks a browser without the cookie to log in, takes a pasted token, and keeps only an HttpOnly cookie', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(`${rw.url}/`);
    const alert = page.getByRole('alert').first();
    await alert.waitFor();
    expect(await alert.innerText()).toMatch(/missing or wrong credential.*Log in/s);
    await page.getByRole('button', { name: 'Log in' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Log in' });
    await dialog.getByLabel('Token').fill('not-the-token');
    await dialog.getByRole('button', { name: 'Log in' }).click();
    expect(await dialog.getByRole('alert').innerText()).toContain('not one of this server');
    await dialog.getByLabel('Token').fill(rw.token);
    await dialog.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('link', { name: /shop/ }).first().waitFor();
    await page.getByRole('button', { name: 'Logged in as admin: log out or change' }).waitFor();
    await shot(page, 'logged-in');
    // The token is nowhere a script could read it; the cookie is HttpOnly.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(await page.evaluate(() => JSON.stringify(localStorage))).not.toContain(rw.token);
    const [cookie] = await context.cookies(rw.url);
    expect(cookie).toMatchObject({ name: 'rewind_session', httpOnly: true, sameSite: 'Strict' });
    await context.close();
  });

  it('lets no page of another origin change anything with a logged-in browser', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(await rw.loginUrl());
    await page.getByRole('link', { name: /shop/ }).first().waitFor();
    const before = await apps();
    await page.goto(attackerUrl);
    expect(await page.evaluate(() => (window as unknown as { attempts: Promise<string> }).attempts)).toBe('done');
    // The form posts as text/plain with the browser's cookie and the attacker's Origin.
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url() === `${rw.url}/api/apps`),
      page.evaluate(() => (document.getElementById('f') as HTMLFormElement).submit()),
    ]);
    expect([403, 415]).toContain(res.status());
    expect(await apps()).toEqual(before);
    expect(before).toContain('shop');
    await context.close();
  });

  it('answers a rebound host name with 421, before any page or data', async () => {
    const page = await browser.newPage();
    const port = new URL(rw.url).port;
    const res = await page.goto(`http://rebind.attacker.example:${port}/`);
    expect(res?.status()).toBe(421);
    const api = await page.evaluate(async (p) => (await fetch(`http://rebind.attacker.example:${p}/api/apps/shop`, { method: 'DELETE' })).status, port);
    expect(api).toBe(421);
    expect(await apps()).toContain('shop');
    await page.close();
  });
});

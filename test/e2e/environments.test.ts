import { describe, expect, it } from 'vitest';
import { envOf, okRelease, servedVersion, servedVersions, shopApp, useDir, useRewind } from './harness.js';

describe('environments', () => {
  const rw = useRewind();
  const src = useDir(() => shopApp({ components: ['web', 'api'], versions: { web: 'v1', api: 'v1' } }));

  it('creates environments in order, each with its own URL, and deletes them (running ones only with --force)', async () => {
    await rw.ok(['apps', 'create', 'envs']);
    const test = await rw.ok(['envs', 'create', 'test', '-a', 'envs']);
    expect(test.stdout).toMatch(/^Creating test\.\.\. OK\nURL: http:\/\/127\.0\.0\.1:\d+\n$/);
    await rw.ok(['envs', 'create', 'staging', '-a', 'envs', '--after', 'production']);
    await rw.ok(['envs', 'create', 'dev', '-a', 'envs', '--before', 'production']);
    const list = await rw.ok(['envs', '-a', 'envs']);
    const rows = list.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^NAME\s+RELEASE\s+HEALTH\s+URL$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/)[0])).toEqual(['dev', 'production', 'staging', 'test']);
    for (const r of rows.slice(1)) expect(r).toMatch(/^\w+\s+empty\s+http:\/\/127\.0\.0\.1:\d+$/);
    const urls = rows.slice(1).map((r) => r.split(/\s+/).at(-1));
    expect(new Set(urls).size).toBe(4);

    await rw.ok(['deploy', src.path, '-a', 'envs', '-e', 'staging']);
    const staging = await envOf(rw, 'envs', 'staging');
    expect(staging.health).toBe('healthy');
    expect(Object.keys(staging.components)).toEqual(['api']);
    const shown = (await rw.ok(['envs', '-a', 'envs'])).stdout;
    expect(shown).toMatch(new RegExp(`^staging\\s+${staging.activeRelease}\\s+healthy\\s+${staging.url}\\n\\s+api: ${staging.components.api}$`, 'm'));
    // Its own config: a variable set in staging is not in test.
    await rw.ok(['env', 'set', 'SHOP_NAME=acme', '-a', 'envs', '-e', 'staging']);
    expect((await rw.ok(['env', '-a', 'envs', '-e', 'test'])).stdout).toBe('');

    const refused = await rw.fails(['envs', 'delete', 'staging', '-a', 'envs']);
    expect(refused.stderr).toMatch(/^error: envs\/staging is running R[A-Z]{10}; pass --force/);
    await rw.ok(['envs', 'delete', 'test', '-a', 'envs']);
    const forced = await rw.ok(['envs', 'delete', 'staging', '-a', 'envs', '--force']);
    expect(forced.stdout).toBe('Deleting staging... OK\n');
    expect((await servedVersion(staging.url)).startsWith('unreachable')).toBe(true);
    const left = (await rw.ok(['envs', '-a', 'envs'])).stdout.trim().split('\n');
    expect(left.slice(1).map((r) => r.split(/\s+/)[0])).toEqual(['dev', 'production']);
  });

  it('an app’s first release promoted to production and rolled back: production runs nothing and says so (Boomi)', async () => {
    await rw.ok(['apps', 'create', 'first']);
    await rw.ok(['envs', 'create', 'test', '-a', 'first']);
    await rw.ok(['deploy', src.path, '-a', 'first', '-e', 'test']);
    const promoted = okRelease((await rw.ok(['promote', '-a', 'first', '--from', 'test', '--to', 'production'])).stdout)!;
    expect(await servedVersions(rw, 'first', 'production', ['web', 'api'])).toEqual({ web: 'v1', api: 'v1' });
    const before = await envOf(rw, 'first', 'production');

    const dry = await rw.ok(['releases', 'rollback', '-a', 'first', '--dry-run']);
    expect(dry.stdout).toMatch(new RegExp(`^Plan: rollback to empty \\(before ${promoted}\\) in first/production \\(active: ${promoted}\\)\\n`));
    expect(dry.stdout).toMatch(/^ {2}api\s+remove\s+B[A-Z]{10}\n {2}web\s+remove\s+B[A-Z]{10}\n {2}production will run nothing\n$/m);

    const rb = await rw.ok(['releases', 'rollback', '-a', 'first']);
    expect(rb.stdout.split('\n')[0]).toBe(`Rolling back to empty (before ${promoted})...`);

    const env = await envOf(rw, 'first', 'production');
    expect(env.health).toBe('empty');
    expect((await rw.ok(['envs', '-a', 'first'])).stdout).toMatch(/^production\s+(R[A-Z]{10}\s+)?empty\s+http/m);
    // The environment's URL says that nothing runs there (the agent's page: 404 or 503).
    const page = await fetch(before.url);
    expect([404, 503]).toContain(page.status);
    expect(await page.text()).toMatch(/no release of first \(production\) is running|nothing .*running|not deployed/i);
    const api = await fetch(before.components.api);
    expect(api.status).toBe(404);
    expect(await api.text()).toContain('component api of first (production) is not deployed');

    const releases = (await rw.ok(['releases', '-a', 'first'])).stdout;
    expect(releases).toMatch(new RegExp(`^${promoted}\\s+rolled back\\s+`, 'm'));
    // The environment it was promoted from is untouched.
    expect(await servedVersions(rw, 'first', 'test', ['web', 'api'])).toEqual({ web: 'v1', api: 'v1' });
  });
});

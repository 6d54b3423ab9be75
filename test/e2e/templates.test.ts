/**
 * Rainbond's "one-click online/rollback based on version number", step by step, through the real
 * CLI, server and agent: an app tested in `test` is published as template version 1.0, installed
 * in production as another app, upgraded there to 2.0 once 2.0 is published, and the upgrade is
 * rolled back with one command.
 */
import { describe, expect, it } from 'vitest';
import { body, helloApp, useDirs, useRewind } from './harness.js';

describe('app templates: publish, install, upgrade, roll the upgrade back', () => {
  const rw = useRewind();
  const dirs = useDirs();
  const ok = async (args: string[]) => (await rw.ok(args)).stdout;

  it('follows the seed: 1.0 installed in production, 2.0 published and upgraded to, the upgrade rolled back in one click', async () => {
    const [v1, v2] = [await helloApp('v1'), await helloApp('v2')];
    dirs.push(v1, v2);
    // 1. The app is tested in `test`, then published to the library as 1.0.
    await ok(['apps', 'create', 'shop']);
    await ok(['envs', 'create', 'test', '-a', 'shop', '--before', 'production']);
    await ok(['deploy', v1, '-a', 'shop', '-e', 'test']);
    expect(await ok(['templates', 'publish', 'shop-app@1.0', '-a', 'shop', '-e', 'test', '--note', 'first release'])).toMatch(
      /^Publishing shop\/test as shop-app 1\.0\.\.\. OK\nshop-app 1\.0: web of R[A-Z]{10}\n$/,
    );

    // 2. One-click install in production, as its own app.
    const installed = await ok(['templates', 'install', 'shop-app', '--as', 'shop-prod']);
    expect(installed).toContain('Created app shop-prod');
    expect(installed).toMatch(/Upgrade: +U[A-Z]{10}\nRelease: +R[A-Z]{10}\n$/);
    const url = await rw.appUrl('shop-prod');
    expect(await body(url)).toContain('hello from v1');

    // 3. The test app changes and is published again as 2.0; production is told it can upgrade.
    await ok(['deploy', v2, '-a', 'shop', '-e', 'test']);
    await ok(['templates', 'publish', 'shop-app@2.0', '-a', 'shop', '-e', 'test']);
    expect((await ok(['templates', 'upgrades', '-a', 'shop-prod'])).split('\n')[0]).toBe(
      'shop-prod/production runs shop-app 1.0; 2.0 is available: rewind templates upgrade -a shop-prod',
    );

    // 4. Upgrade production (its plan first, changing nothing), then roll the upgrade back in one click.
    const plan = await ok(['templates', 'upgrade', '-a', 'shop-prod', '--dry-run']);
    expect(plan).toMatch(/^Plan: upgrade shop-app 1\.0 to 2\.0 in shop-prod\/production \(active: R[A-Z]{10}\)\n {2}web +change +B[A-Z]{10} → shop-app@2\.0\n/);
    expect((await rw.api<{ upgrades: unknown[] }>('/api/apps/shop-prod/upgrades')).body.upgrades).toHaveLength(1);
    expect(await ok(['templates', 'upgrade', '-a', 'shop-prod'])).toMatch(
      /Upgrading shop-prod\/production \(upgrade shop-app 1\.0 to 2\.0\)\.\.\.[\s\S]*OK, R[A-Z]{10}\n$/,
    );
    expect(await body(url)).toContain('hello from v2');
    const records = await ok(['templates', 'upgrades', '-a', 'shop-prod']);
    expect(records).toMatch(
      /^shop-prod\/production runs shop-app 2\.0, the newest version\n\nID +FROM +TO +RELEASE +STATE +CREATED +ROLLED BACK\nU[A-Z]{10} +1\.0 +2\.0 +R[A-Z]{10} +succeeded .*\nU[A-Z]{10} +\(install\) +1\.0 +R[A-Z]{10} +succeeded /,
    );

    expect(await ok(['templates', 'rollback', '-a', 'shop-prod', '--dry-run'])).toMatch(/^Plan: rollback to R[A-Z]{10} in shop-prod\/production/);
    await ok(['templates', 'rollback', '-a', 'shop-prod']);
    expect(await body(url)).toContain('hello from v1');
    const after = (
      await rw.api<{ installed: string; upgradable: boolean; upgrades: Array<{ toVersion: string; rolledBackRelease: string | null }> }>(
        '/api/apps/shop-prod/upgrades',
      )
    ).body;
    expect(after).toMatchObject({ installed: '1.0', upgradable: true });
    expect(after.upgrades.map((u) => [u.toVersion, u.rolledBackRelease !== null])).toEqual([
      ['2.0', true],
      ['1.0', false],
    ]);
    // Releases stay immutable: the upgrade's release is marked, the rollback is a new release.
    const releases = await ok(['releases', '-a', 'shop-prod']);
    expect(releases).toMatch(
      /R[A-Z]{10} +active +B[A-Z]{10} +.* +rollback to R[A-Z]{10}\nR[A-Z]{10} +rolled back +B[A-Z]{10} +.* +upgrade shop-app 1\.0 to 2\.0\nR[A-Z]{10} +B[A-Z]{10} +.* +install shop-app 1\.0\n$/,
    );
    // The template outlives the app it was published from.
    await ok(['apps', 'delete', 'shop']);
    await ok(['templates', 'upgrade', '-a', 'shop-prod', '--to', '2.0']);
    expect(await body(url)).toContain('hello from v2');
    const audit = (await rw.api<Array<{ action: string }>>('/api/audit?app=shop-prod')).body.map((a) => a.action);
    expect(audit.filter((a) => a.startsWith('template.'))).toEqual(['template.upgrade', 'template.rollback', 'template.upgrade', 'template.install']);
  }, 120_000);

  it('refuses, with one line and changing nothing, what cannot be done', async () => {
    const fail = async (args: string[]) => {
      const r = await rw.cli(args);
      expect(r.code, `rewind ${args.join(' ')} succeeded`).not.toBe(0);
      return r.stderr;
    };
    expect(await fail(['templates', 'publish', 'shop-app@2.0', '-a', 'shop-prod'])).toBe(
      'error: template shop-app already has a version 2.0; versions are never replaced, publish a new one\n',
    );
    expect(await fail(['templates', 'publish', 'shop-app', '-a', 'shop-prod'])).toBe(
      'error: give the new version: rewind templates publish shop-app@1.0 -a shop-prod\n',
    );
    expect(await fail(['templates', 'install', 'nope', '--as', 'shop-prod'])).toBe(
      'error: shop-prod/production runs template shop-app, not nope; upgrade it with "rewind templates upgrade -a shop-prod"\n',
    );
    expect(await fail(['templates', 'upgrade', '-a', 'shop-prod', '--to', '9.9'])).toBe(
      'error: template shop-app has no version 9.9; its versions are 2.0, 1.0\n',
    );
    expect(await fail(['templates', 'upgrade', '-a', 'shop-prod'])).toBe(
      'error: shop-prod/production already runs shop-app 2.0; there is nothing to upgrade\n',
    );
    expect(await fail(['templates', 'info', 'nope'])).toBe('error: template nope does not exist; see "rewind templates"\n');
    // Upgrades are rolled back newest first; one rolled back already, or an install, can't be.
    const [newest, rolledBack, install] = (await rw.api<{ upgrades: Array<{ id: string; rolledBackRelease: string | null }> }>('/api/apps/shop-prod/upgrades'))
      .body.upgrades;
    expect(await fail(['templates', 'rollback', install.id, '-a', 'shop-prod'])).toBe(
      `error: upgrade ${newest.id} (1.0 to 2.0) came after ${install.id}; roll it back first\n`,
    );
    expect(await fail(['templates', 'rollback', rolledBack.id, '-a', 'shop-prod'])).toBe(
      `error: upgrade ${rolledBack.id} was already rolled back (release ${rolledBack.rolledBackRelease})\n`,
    );
    expect(await fail(['templates', 'rollback', 'UNOSUCHTHING', '-a', 'shop-prod'])).toBe(
      'error: upgrade UNOSUCHTHING of shop-prod/production does not exist; see "rewind templates upgrades -a shop-prod"\n',
    );
    await ok(['apps', 'create', 'bare']);
    expect(await fail(['templates', 'publish', 'bare@1.0', '-a', 'bare'])).toBe(
      'error: bare/production runs no release; deploy it before publishing it as a template\n',
    );
    expect(await fail(['templates', 'upgrade', '-a', 'bare'])).toBe(
      'error: bare/production was not installed from a template; install one with "rewind templates install NAME --as bare"\n',
    );
    expect(await fail(['templates', 'rollback', '-a', 'bare'])).toBe(
      'error: bare/production has no upgrade to roll back; see "rewind templates upgrades -a bare"\n',
    );
    const templates = (await rw.api<Array<{ name: string; versions: unknown[] }>>('/api/templates')).body;
    expect(templates.map((t) => [t.name, t.versions.length])).toEqual([['shop-app', 2]]);
  }, 60_000);
});

import { describe, expect, it } from 'vitest';
import { envOf, okRelease, servedVersions, setShopVersion, shopApp, useDirs, useRewind } from './harness.js';
import type { ShopComponent } from './harness.js';

// Boomi (seeds/001): a release bundles several components and is promoted test → production;
// rolling it back in production restores each component's previous version there.
const THREE: readonly ShopComponent[] = ['web', 'api', 'assets'];
const all = (v: string) => ({ web: v, api: v, assets: v });

describe('rolling back a release bundle (Boomi)', () => {
  const rw = useRewind();
  const dirs = useDirs();

  async function appWithTest(app: string) {
    await rw.ok(['apps', 'create', app]);
    await rw.ok(['envs', 'create', 'test', '-a', app]);
    const dir = await shopApp({ components: THREE, versions: all('v1') });
    dirs.push(dir);
    return dir;
  }

  it('B rolled back in production serves A’s three versions there; test still serves B’s', async () => {
    const dir = await appWithTest('boomi');
    await rw.ok(['deploy', dir, '-a', 'boomi', '-e', 'test', '-d', 'release A']);
    const a = await rw.ok(['promote', '-a', 'boomi', '--from', 'test', '--to', 'production']);
    expect(a.stdout.split('\n')[0]).toMatch(/^Promoting R[A-Z]{10} from test to production\.\.\.$/);
    const releaseA = okRelease(a.stdout)!;
    expect(await servedVersions(rw, 'boomi', 'production', THREE)).toEqual(all('v1'));

    for (const c of THREE) await setShopVersion(dir, c, 'v2');
    await rw.ok(['deploy', dir, '-a', 'boomi', '-e', 'test', '-d', 'release B']);
    const b = await rw.ok(['promote', '-a', 'boomi', '--from', 'test', '--to', 'production']);
    const releaseB = okRelease(b.stdout)!;
    expect(await servedVersions(rw, 'boomi', 'production', THREE)).toEqual(all('v2'));
    const testRelease = (await envOf(rw, 'boomi', 'test')).activeRelease;

    const dry = await rw.ok(['releases', 'rollback', '-a', 'boomi', '-e', 'production', '--dry-run']);
    expect(dry.stdout).toMatch(new RegExp(`^Plan: rollback to ${releaseA} in boomi/production \\(active: ${releaseB}\\)$`, 'm'));
    for (const c of THREE) expect(dry.stdout).toMatch(new RegExp(`^  ${c}\\s+change\\s+B[A-Z]{10} → B[A-Z]{10}$`, 'm'));

    const rb = await rw.ok(['releases', 'rollback', '-a', 'boomi', '-e', 'production']);
    expect(rb.stdout.split('\n')[0]).toBe(`Rolling back to ${releaseA}...`);
    const rolled = okRelease(rb.stdout)!;

    expect(await servedVersions(rw, 'boomi', 'production', THREE)).toEqual(all('v1'));
    expect(await servedVersions(rw, 'boomi', 'test', THREE)).toEqual(all('v2'));
    expect((await envOf(rw, 'boomi', 'test')).activeRelease).toBe(testRelease);

    const list = await rw.ok(['releases', '-a', 'boomi', '-e', 'production']);
    const rows = list.stdout.trim().split('\n');
    expect(rows[1]).toMatch(new RegExp(`^${rolled}\\s+active\\s+B[A-Z]{10}\\s+\\S.*rollback to ${releaseA}$`));
    expect(rows[2]).toMatch(new RegExp(`^${releaseB}\\s+rolled back\\s+`));
    const testList = await rw.ok(['releases', '-a', 'boomi', '-e', 'test']);
    expect(testList.stdout).not.toContain('rolled back');
  });

  it('a partial promotion (--components) rolled back restores exactly the components it touched', async () => {
    const dir = await appWithTest('partial');
    await rw.ok(['deploy', dir, '-a', 'partial', '-e', 'test']);
    const first = okRelease((await rw.ok(['promote', '-a', 'partial', '--from', 'test', '--to', 'production'])).stdout)!;
    await setShopVersion(dir, 'web', 'v2');
    await setShopVersion(dir, 'api', 'v2');
    await rw.ok(['deploy', dir, '-a', 'partial', '-e', 'test']);

    const dry = await rw.ok(['promote', '-a', 'partial', '--from', 'test', '--to', 'production', '--components', 'web', '--dry-run']);
    expect(dry.stdout).toMatch(/^ {2}web\s+change\s+B[A-Z]{10} → B[A-Z]{10}$/m);
    expect(dry.stdout).toMatch(/^ {2}api\s+keep\s+B[A-Z]{10}$/m);
    expect(dry.stdout).toMatch(/^ {2}assets\s+keep\s+B[A-Z]{10}$/m);

    const partial = okRelease((await rw.ok(['promote', '-a', 'partial', '--from', 'test', '--to', 'production', '--components', 'web', '--yes'])).stdout)!;
    expect(await servedVersions(rw, 'partial', 'production', THREE)).toEqual({ web: 'v2', api: 'v1', assets: 'v1' });
    const { body: promoted } = await rw.api<{ description: string }>(`/api/apps/partial/releases/${partial}`);
    expect(promoted.description).toMatch(/^promote R[A-Z]{10} from test \(web\)$/);

    const rb = await rw.ok(['releases', 'rollback', '-a', 'partial']);
    const back = okRelease(rb.stdout)!;
    expect(await servedVersions(rw, 'partial', 'production', THREE)).toEqual(all('v1'));
    expect(await servedVersions(rw, 'partial', 'test', THREE)).toEqual({ web: 'v2', api: 'v2', assets: 'v1' });
    const get = async (id: string) => (await rw.api<{ builds: Record<string, string> }>(`/api/apps/partial/releases/${id}`)).body.builds;
    const [before, during, after] = [await get(first), await get(partial), await get(back)];
    expect(after).toEqual(before);
    // Only web differed: the others were never touched.
    expect(Object.keys(during).filter((c) => during[c] !== before[c])).toEqual(['web']);
  });
});

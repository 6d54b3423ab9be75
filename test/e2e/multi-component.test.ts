import { beforeAll, describe, expect, it } from 'vitest';
import { releaseIdIn, servedVersions, setShopVersion, shopApp, useDir, useRewind } from './harness.js';

interface Release {
  builds: Record<string, string>;
}
interface Build {
  id: string;
  components: string[];
}

// A release pins one build per component; a deploy builds only the components whose folder changed.
describe('multi-component deploys', () => {
  const rw = useRewind();
  const src = useDir(() => shopApp());
  beforeAll(async () => {
    expect((await rw.cli(['apps', 'create', 'shop'])).code).toBe(0);
  });

  it('rebuilds only the changed component and reuses the others, and all four go live together', async () => {
    const first = await rw.cli(['deploy', src.path, '-a', 'shop']);
    expect(first.code, first.stderr).toBe(0);
    const r1 = (await rw.api<Release>(`/api/apps/shop/releases/${releaseIdIn(first.stdout)}`)).body;
    const b1 = r1.builds.web;
    expect(r1.builds).toEqual({ web: b1, api: b1, worker: b1, assets: b1 });
    expect(await servedVersions(rw, 'shop', 'production', ['web', 'api', 'assets'])).toEqual({ web: 'v1', api: 'v1', assets: 'v1' });

    await setShopVersion(src.path, 'web', 'v2');
    const second = await rw.cli(['deploy', src.path, '-a', 'shop']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toContain(`--> api: unchanged, reusing build ${b1}`);
    expect(second.stdout).toContain(`--> worker: unchanged, reusing build ${b1}`);
    const b2 = /^Build:\s+(B[A-Z]{10})$/m.exec(second.stdout)![1];
    const r2 = (await rw.api<Release>(`/api/apps/shop/releases/${releaseIdIn(second.stdout)}`)).body;
    expect(r2.builds).toEqual({ web: b2, api: b1, worker: b1, assets: b1 });
    expect((await rw.api<Build>(`/api/apps/shop/builds/${b2}`)).body.components).toEqual(['web']);
    expect(await servedVersions(rw, 'shop', 'production', ['web', 'api', 'assets'])).toEqual({ web: 'v2', api: 'v1', assets: 'v1' });

    // Nothing changed: nothing is built again.
    const third = await rw.cli(['deploy', src.path, '-a', 'shop']);
    expect(third.code, third.stderr).toBe(0);
    const r3 = (await rw.api<Release>(`/api/apps/shop/releases/${releaseIdIn(third.stdout)}`)).body;
    expect(r3.builds).toEqual(r2.builds);

    const history = (await rw.api<Build[]>('/api/apps/shop/builds?component=api')).body;
    expect(history.map((b) => b.id)).toEqual([b1]);
  });
});

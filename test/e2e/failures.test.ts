import { beforeAll, describe, expect, it } from 'vitest';
import { body, fixtureApp, releaseIdIn, useDirs, useRewind } from './harness.js';

describe('failed deployments and the deployment lock', () => {
  const rw = useRewind();
  const dirs = useDirs();
  const app = async (o: Parameters<typeof fixtureApp>[0]) => {
    const d = await fixtureApp(o);
    dirs.push(d);
    return d;
  };
  beforeAll(async () => {
    expect((await rw.cli(['apps', 'create', 'shop'])).code).toBe(0);
    const d1 = await rw.cli(['deploy', await app({ version: 'v1' }), '-a', 'shop']);
    expect(d1.code, d1.stderr).toBe(0);
  });

  it('a deploy whose health check fails never takes traffic; the previous release keeps serving', async () => {
    const url = await rw.appUrl('shop');
    const before = (await rw.api<{ environments: Array<{ activeRelease: string }> }>('/api/apps/shop')).body.environments[0].activeRelease;
    const bad = await app({
      version: 'broken',
      healthStatus: 500,
      manifest: 'components:\n  web:\n    command: node server.js\n    health:\n      path: /health\n      timeout: 2\n      interval: 0.1\n',
    });
    const res = await rw.cli(['deploy', bad, '-a', 'shop']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/^error: deployment D[A-Z]{10} failed: .*health/m);
    expect(await body(url)).toContain('version=v1');
    const after = (await rw.api<{ environments: Array<{ activeRelease: string }> }>('/api/apps/shop')).body.environments[0].activeRelease;
    expect(after).toBe(before);
    const deployments = (await rw.api<Array<{ state: string; error: string }>>('/api/apps/shop/deployments')).body;
    expect(deployments[0]).toMatchObject({ state: 'failed' });
  });

  it('a crashing release fails with its exit code and keeps the previous release', async () => {
    const url = await rw.appUrl('shop');
    const crash = await app({
      version: 'crash',
      manifest: 'components:\n  web:\n    command: node -e "console.error(\'boom at start\'); process.exit(3)"\n    health: /health\n',
    });
    const res = await rw.cli(['deploy', crash, '-a', 'shop']);
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/failed/);
    expect(await body(url)).toContain('version=v1');
  });

  it('a second deploy while one runs is refused, naming the running one', async () => {
    const slow = await app({ version: 'slow', startDelayMs: 3000 });
    const first = rw.cli(['deploy', slow, '-a', 'shop']);
    // Wait until the first deployment is recorded as running.
    let running: { id: string } | undefined;
    for (let i = 0; i < 200 && !running; i++) {
      const list = (await rw.api<Array<{ id: string; state: string }>>('/api/apps/shop/deployments')).body;
      running = list.find((d) => d.state === 'running' || d.state === 'pending');
      if (!running) await new Promise((r) => setTimeout(r, 50));
    }
    expect(running).toBeDefined();
    const releasesBefore = (await rw.api<unknown[]>('/api/apps/shop/releases?limit=100')).body.length;
    const second = await rw.cli(['releases', 'rollback', '-a', 'shop']);
    expect(second.code).not.toBe(0);
    expect(second.stderr.trim()).toBe(
      `error: deployment ${running!.id} (promote of ${(await rw.api<{ release: string }>(`/api/deployments/${running!.id}`)).body.release}) is in progress in shop/production; wait for it to finish and try again`,
    );
    // The refused rollback left no release behind.
    expect((await rw.api<unknown[]>('/api/apps/shop/releases?limit=100')).body.length).toBe(releasesBefore);
    const done = await first;
    expect(done.code, done.stderr).toBe(0);
    expect(await body(await rw.appUrl('shop'))).toContain('version=slow');
    expect(releaseIdIn(done.stdout)).toBeDefined();
  });
});

import { describe, expect, it } from 'vitest';
import { body, fixtureApp, useDirs, useRewind } from './harness.js';

// Control plane and data plane are separate processes: the server can die at any moment.
describe('server crash during a deployment', () => {
  const rw = useRewind();
  const dirs = useDirs();

  it('SIGKILL mid-deploy: the app keeps answering, and after a restart the store agrees with the agent', async () => {
    const v1 = await fixtureApp({ version: 'v1' });
    const v2 = await fixtureApp({ version: 'v2', startDelayMs: 2500 });
    dirs.push(v1, v2);
    expect((await rw.cli(['apps', 'create', 'shop'])).code).toBe(0);
    expect((await rw.cli(['deploy', v1, '-a', 'shop'])).code).toBe(0);
    const url = await rw.appUrl('shop');
    expect(await body(url)).toContain('version=v1');

    const build = await rw.cli(['build', v2, '-a', 'shop']);
    expect(build.code, build.stderr).toBe(0);
    const r2 = /Release:\s+(R[A-Z]{10})/.exec(build.stdout)![1];
    const promote = await rw.api<{ deployment: { id: string } }>(`/api/apps/shop/releases/${r2}/promote`, {
      method: 'POST',
      body: JSON.stringify({ env: 'production' }),
    });
    expect(promote.status).toBe(202);
    // Wait until the agent is booting v2, then kill the server.
    for (let i = 0; i < 100; i++) {
      const state = await rw.agentState();
      if (state.apps.some((a) => a.instances.some((inst) => inst.release === r2))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await rw.killServer('SIGKILL');

    // With the server down, the app still answers.
    for (let i = 0; i < 20; i++) {
      const res = await fetch(url);
      expect(res.status).toBe(200);
    }

    await rw.startServer();
    await rw.settled('shop');
    const env = (await rw.api<{ environments: Array<{ activeRelease: string }> }>('/api/apps/shop')).body.environments[0];
    const served = (await rw.agentState()).apps.find((a) => a.app === 'shop')!.release;
    expect(env.activeRelease).toBe(served);
    const d = (await rw.api<{ state: string }>(`/api/deployments/${promote.body.deployment.id}`)).body;
    expect(['succeeded', 'failed']).toContain(d.state);
    expect(await body(url)).toContain(served === r2 ? 'version=v2' : 'version=v1');
  });

  it('the app answers while the server is stopped', async () => {
    const url = await rw.appUrl('shop');
    await rw.killServer('SIGTERM');
    for (let i = 0; i < 10; i++) expect((await fetch(url)).status).toBe(200);
    await rw.startServer();
  });
});

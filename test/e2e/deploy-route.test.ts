import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packSource } from '../../src/artifacts/source-pack.js';
import type { BuildView, DeploymentView } from '../../src/contract/index.js';
import { body, envOf, helloApp, useDirs, useRewind } from './harness.js';

// `rewind deploy` is one operation on the server: the build upload with deploy=true builds, makes
// the release and starts its deployment; a client needs no second request to promote it.
describe('POST /api/apps/:app/builds?deploy=true', () => {
  const rw = useRewind();
  const dirs = useDirs();

  const upload = async (version: string, query: string) => {
    const dir = await helloApp(version);
    dirs.push(dir);
    const file = join(await mkdtemp(join(tmpdir(), 'rewind-tgz-')), 'src.tar.gz');
    dirs.push(join(file, '..'));
    await packSource(dir, file);
    const res = await rw.fetch(`/api/apps/one/builds?${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/gzip' },
      body: (await readFile(file)) as Uint8Array<ArrayBuffer>,
    });
    const started = (await res.json()) as BuildView;
    expect(res.status, JSON.stringify(started)).toBe(201);
    return finished(started.id);
  };
  const finished = async (id: string): Promise<BuildView> => {
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      const b = (await rw.api<BuildView>(`/api/apps/one/builds/${id}`)).body;
      if (b.status !== 'running') return b;
    }
    throw new Error(`build ${id} did not finish`);
  };
  const active = async () => (await envOf(rw, 'one', 'production')).activeRelease;

  it('builds, makes the release and deploys it; without deploy=true the release only waits', async () => {
    expect((await rw.cli(['apps', 'create', 'one'])).code).toBe(0);
    const built = await upload('v0', 'env=production');
    expect([built.status, built.deployment, built.deployError]).toEqual(['succeeded', null, null]);
    expect(await active()).toBeNull();

    const deployed = await upload('v1', 'env=production&deploy=true');
    expect(deployed.status, deployed.error ?? '').toBe('succeeded');
    expect(deployed.deployment).toMatch(/^D[A-Z]{10}$/);
    expect(deployed.deployError).toBeNull();
    const deployment = (await rw.api<DeploymentView>(`/api/deployments/${deployed.deployment}`)).body;
    expect([deployment.release, deployment.kind]).toEqual([deployed.release, 'promote']);
    await rw.settled('one');
    expect((await rw.api<DeploymentView>(`/api/deployments/${deployed.deployment}`)).body.state).toBe('succeeded');
    expect(await active()).toBe(deployed.release);
    expect(await body(await rw.appUrl('one'))).toContain('from v1');
    const log = await (await rw.fetch(`/api/apps/one/builds/${deployed.id}/logs`)).text();
    expect(log).toContain(`--> deploying release ${deployed.release}: deployment ${deployed.deployment}`);
  });
});

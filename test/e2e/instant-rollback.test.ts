import { beforeAll, describe, expect, it } from 'vitest';
import { body, fixtureApp, releaseIdIn, useDirs, useRewind } from './harness.js';

interface Proc {
  component: string;
  release: string;
  pid: number;
  state: string;
  standbyUntil: string | null;
}

// Issue 3 through the whole stack: warm standby makes a rollback a route swap, and a release that
// turns unhealthy after taking traffic is rolled back by itself, with the deployment and audit saying why.
describe('instant rollback through the server', () => {
  const rw = useRewind();
  const dirs = useDirs();
  beforeAll(async () => {
    expect((await rw.cli(['apps', 'create', 'fast'])).code).toBe(0);
  });
  const ps = async () => (await rw.api<Proc[]>('/api/apps/fast/ps')).body;

  it('rolling back to the warm previous release starts no process', async () => {
    const v1 = await fixtureApp({ version: 'v1' });
    const v2 = await fixtureApp({ version: 'v2' });
    dirs.push(v1, v2);
    const d1 = await rw.cli(['deploy', v1, '-a', 'fast']);
    expect(d1.code, d1.stderr).toBe(0);
    const v1pids = (await ps()).map((p) => p.pid);
    expect((await rw.cli(['deploy', v2, '-a', 'fast'])).code).toBe(0);
    const after = await ps();
    const standby = after.filter((p) => p.state === 'standby');
    expect(standby.map((p) => p.pid)).toEqual(v1pids);
    expect(Date.parse(standby[0].standbyUntil!)).toBeGreaterThan(Date.now() + 10 * 60_000);
    const psText = await rw.cli(['ps', '-a', 'fast']);
    expect(psText.stdout).toContain('standby');

    const rb = await rw.cli(['releases', 'rollback', '-a', 'fast']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(await body(await rw.appUrl('fast'))).toContain('version=v1');
    const live = (await ps()).filter((p) => p.state !== 'standby');
    expect(live.map((p) => p.pid)).toEqual(v1pids);
  });

  it('a release that turns unhealthy after taking traffic is rolled back automatically', async () => {
    const settings = await rw.cli(['envs', 'settings', 'production', '-a', 'fast', '--auto-rollback-seconds', '30']);
    expect(settings.code, settings.stderr).toBe(0);
    expect(settings.stdout).toMatch(/^autoRollbackSeconds\s+30$/m);
    expect(settings.stdout).toMatch(/^standbyMinutes\s+15 \(server default\)$/m);
    const refused = await rw.cli(['envs', 'settings', 'production', '-a', 'fast', '--standby-count', '99']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.trim()).toBe('error: standbyCount must be a whole number from 0 to 5, got 99');
    const good = await fixtureApp({ version: 'good' });
    // Healthy for its first 1.5 s, then every health check fails.
    const bad = await fixtureApp({ version: 'bad' });
    dirs.push(good, bad);
    const { writeFile, readFile } = await import('node:fs/promises');
    const server = (await readFile(`${bad}/server.js`, 'utf8')).replace(
      "if (req.url === '/health') { res.writeHead(200);",
      "if (req.url === '/health') { res.writeHead(Date.now() - START > 1500 ? 500 : 200);",
    );
    await writeFile(`${bad}/server.js`, `const START = Date.now();\n${server}`);
    expect((await rw.cli(['deploy', good, '-a', 'fast'])).code).toBe(0);
    const goodRelease = (await rw.api<{ environments: Array<{ activeRelease: string }> }>('/api/apps/fast')).body.environments[0].activeRelease;
    const deploy = await rw.cli(['deploy', bad, '-a', 'fast']);
    expect(deploy.code, deploy.stderr).toBe(0);
    const badRelease = releaseIdIn(deploy.stdout)!;
    const url = await rw.appUrl('fast');
    const deadline = Date.now() + 30_000;
    let env = { activeRelease: badRelease };
    while (env.activeRelease !== goodRelease && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      env = (await rw.api<{ environments: Array<{ activeRelease: string }> }>('/api/apps/fast')).body.environments[0];
    }
    expect(env.activeRelease).toBe(goodRelease);
    expect(await body(url)).toContain('version=good');
    const deployments = (await rw.api<Array<{ release: string; state: string; error: string }>>('/api/apps/fast/deployments')).body;
    const d = deployments.find((x) => x.release === badRelease)!;
    expect(d.state).toBe('rolled-back');
    expect(d.error).toMatch(/^automatically rolled back to R[A-Z]{10}: .*health/);
    const audit = (await rw.api<Array<{ action: string; actor: string; detail: { reason: string; from: string } }>>('/api/audit?app=fast')).body;
    const entry = audit.find((a) => a.action === 'deployment.auto-rollback')!;
    expect(entry).toMatchObject({ actor: 'rewind', detail: { from: badRelease } });
    expect(entry.detail.reason).toMatch(/health/);
    const releases = (await rw.api<Array<{ id: string; status: string }>>('/api/apps/fast/releases')).body;
    expect(releases.find((r) => r.id === badRelease)!.status).toBe('rolled back');
  });
});

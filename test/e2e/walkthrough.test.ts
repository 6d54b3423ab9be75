import { describe, expect, it } from 'vitest';
import { body, helloApp, releaseIdIn, setVersion, useDir, useRewind } from './harness.js';

// The README walk-through, with the real CLI, server and agent.
describe('walk-through: deploy v1, v2, env set, roll back to v1, run the release pipeline', () => {
  const rw = useRewind();
  const src = useDir(() => helloApp('v1'));

  it('follows the README', async () => {
    const create = await rw.cli(['apps', 'create', 'hello']);
    expect(create.stderr).toBe('');
    expect(create.code).toBe(0);

    const d1 = await rw.cli(['deploy', src.path, '-a', 'hello']);
    expect(d1.code, d1.stderr).toBe(0);
    const r1 = releaseIdIn(d1.stdout)!;
    expect(r1).toMatch(/^R[A-Z]{10}$/);
    const url = await rw.appUrl('hello');
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const info = await rw.cli(['apps', 'info', 'hello']);
    expect(info.stdout).toContain(url);
    expect(await body(url)).toContain('v1');

    await setVersion(src.path, 'v2');
    const d2 = await rw.cli(['deploy', src.path, '-a', 'hello']);
    expect(d2.code, d2.stderr).toBe(0);
    const r2 = releaseIdIn(d2.stdout)!;
    expect(await body(url)).toContain('v2');

    const set = await rw.cli(['env', 'set', 'GREETING=hi', '-a', 'hello']);
    expect(set.code, set.stderr).toBe(0);
    const list = await rw.cli(['releases', '-a', 'hello']);
    expect(list.code).toBe(0);
    const lines = list.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+BUILD\s+CREATED\s+DESCRIPTION$/);
    expect(lines[1]).toMatch(/^R[A-Z]{10}\s+active\s+B[A-Z]{10}\s+(now|\d+ seconds? ago)\s+env add:GREETING$/);
    expect(await body(url)).toContain('GREETING=hi');

    const rb = await rw.cli(['releases', 'rollback', r1, '-a', 'hello']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stdout.split('\n')[0]).toBe(`Rolling back to ${r1}...`);
    const last = rb.stdout.trim().split('\n').at(-1)!;
    expect(last).toMatch(/^OK, R[A-Z]{10}$/);
    const rNew = last.slice(4);
    const page = await body(url);
    expect(page).toContain('v1');
    expect(page).not.toContain('GREETING=hi');

    const after = await rw.api<Array<{ id: string; status: string; description: string }>>('/api/apps/hello/releases');
    const ids = after.body.map((r) => r.id);
    expect(ids[0]).toBe(rNew);
    expect(after.body[0]).toMatchObject({ status: 'active', description: `rollback to ${r1}` });
    expect(ids).toEqual(expect.arrayContaining([r1, r2]));
    expect(ids).toHaveLength(4);

    // Without an id: back to the release active before the current one (the env release).
    const rb2 = await rw.cli(['releases', 'rollback', '-a', 'hello']);
    expect(rb2.code, rb2.stderr).toBe(0);
    expect(await body(url)).toContain('GREETING=hi');

    // Release pipelines: the README's own `pipelines run release examples/hello`, on source that
    // is unchanged since the last deploy (the build reuses every component).
    const releasesBefore = (await rw.api<unknown[]>('/api/apps/hello/releases?limit=100')).body.length;
    const run = await rw.cli(['pipelines', 'run', 'release', src.path, '-a', 'hello', '--story', 'US-42'], { timeoutMs: 120_000 });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/GET http:\/\/127\.0\.0\.1:\d+\/health -> 200/);
    expect(run.stdout).not.toContain('Cannot find module');
    expect(await body(url)).toContain('v2');
    expect(await body(url)).toContain('GREETING=hi');
    // The deploy task's release (and its backup); the build task records none of its own.
    const made = (await rw.api<Array<{ kind: string; status: string }>>('/api/apps/hello/releases?limit=100')).body;
    expect(made.length - releasesBefore).toBe(2);
    expect(made[0]).toMatchObject({ kind: 'build', status: 'active' });
    const activity = await rw.cli(['pipelines', 'activity', '-a', 'hello']);
    expect(activity.stdout).toMatch(/^P[A-Z]{10}\s+release\s+succeeded\s/m);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { body, fixtureApp, useDirs, useRewind } from './harness.js';

const PIPELINES = `pipelines:
  quick:
    - build
    - deploy:
        env: production
        enableRollback: true
  gated:
    - build
    - deploy:
        env: production
        enableRollback: true
    - approval:
        message: Keep it?
`;

const manifest = `components:\n  web:\n    command: node server.js\n    health:\n      path: /health\n      interval: 0.1\n${PIPELINES}`;

// The pipelines CLI: definitions from rewind.yml, a streamed run, activity, show, approve, rollback, stories.
describe('rewind pipelines (CLI)', () => {
  const rw = useRewind();
  const dirs = useDirs();
  beforeAll(async () => {
    expect((await rw.cli(['apps', 'create', 'cpi'])).code).toBe(0);
    const v1 = await fixtureApp({ version: 'v1', manifest });
    dirs.push(v1);
    expect((await rw.cli(['deploy', v1, '-a', 'cpi'])).code).toBe(0);
  });

  it('lists the pipelines a deploy defined from rewind.yml', async () => {
    const res = await rw.cli(['pipelines', '-a', 'cpi']);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toMatch(/^NAME\s+SOURCE\s+TASKS$/m);
    expect(res.stdout).toMatch(/^quick\s+manifest\s+build → deploy production \(backup\)$/m);
  });

  it('runs a pipeline, streaming it to OK; show has no rollback section until one is triggered', async () => {
    const v2 = await fixtureApp({ version: 'v2', manifest });
    dirs.push(v2);
    const run = await rw.cli(['pipelines', 'run', 'quick', v2, '-a', 'cpi', '--story', 'US-7']);
    expect(run.code, run.stderr).toBe(0);
    const id = /^Run: (P[A-Z]{10})$/m.exec(run.stdout)![1];
    expect(run.stdout).toMatch(/backup R[A-Z]{10} taken of what is live in production/);
    expect(run.stdout.trim().split('\n').at(-1)).toBe(`OK, ${id}`);
    expect(await body(await rw.appUrl('cpi'))).toContain('version=v2');

    const show = await rw.cli(['pipelines', 'show', id]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/^2\s+deploy\s+deploy\s+succeeded\s+\S+\s+none\s+deployment D[A-Z]{10}, release R[A-Z]{10}, backup R[A-Z]{10}$/m);
    expect(show.stdout).not.toContain('ROLLBACK (');

    const rb = await rw.cli(['pipelines', 'rollback', id, '--reason', 'bad copy']);
    expect(rb.code, rb.stderr).toBe(0);
    expect(rb.stdout.trim().split('\n').at(-1)).toBe('OK');
    expect(await body(await rw.appUrl('cpi'))).toContain('version=v1');
    const after = await rw.cli(['pipelines', 'show', id]);
    expect(after.stdout).toContain('ROLLBACK (rolled back: bad copy (by ');
    expect(after.stdout).toMatch(/^2\s+deploy\s+deploy\s+succeeded\s+\S+\s+rolled back/m);

    const activity = await rw.cli(['pipelines', 'activity', '-a', 'cpi', '--story', 'US-7']);
    expect(activity.stdout).toMatch(new RegExp(`^${id}\\s+quick\\s+succeeded\\s+.*US-7\\s+rolled back$`, 'm'));
    const stories = await rw.cli(['stories', '-a', 'cpi']);
    expect(stories.stdout).toMatch(/^US-7\s+1\s+/m);
  });

  it('a detached run waits for approval; approve finishes it', async () => {
    const v3 = await fixtureApp({ version: 'v3', manifest });
    dirs.push(v3);
    const start = await rw.cli(['pipelines', 'run', 'gated', v3, '-a', 'cpi', '--detach']);
    expect(start.code, start.stderr).toBe(0);
    const id = /^Run: (P[A-Z]{10})$/m.exec(start.stdout)![1];
    let status = '';
    for (let i = 0; i < 100 && status !== 'waiting'; i++) {
      status = (await rw.api<{ status: string }>(`/api/pipelines/runs/${id}`)).body.status;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('waiting');
    const approve = await rw.cli(['pipelines', 'approve', id]);
    expect(approve.code, approve.stderr).toBe(0);
    for (let i = 0; i < 100 && status !== 'succeeded'; i++) {
      status = (await rw.api<{ status: string }>(`/api/pipelines/runs/${id}`)).body.status;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('succeeded');
    expect(await body(await rw.appUrl('cpi'))).toContain('version=v3');
  });

  it('refuses an unknown pipeline and a pipeline file with errors, changing nothing', async () => {
    const unknown = await rw.cli(['pipelines', 'run', 'nope', '-a', 'cpi']);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr.trim()).toBe(
      'error: cpi has no pipeline "nope"; define it under pipelines: in rewind.yml or with the API (see "rewind pipelines -a cpi")',
    );
    const file = join(dirs[0], 'bad-pipelines.yml');
    await writeFile(file, 'ship:\n  - deploy:\n      env: nowhere\n');
    const bad = await rw.cli(['pipelines', 'define', file, '-a', 'cpi']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('pipeline ship uses environment "nowhere", which cpi does not have');
    expect((await rw.cli(['pipelines', '-a', 'cpi'])).stdout).not.toMatch(/^ship\s/m);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packSource } from '../../src/artifacts/source-pack.js';
import type { PipelineRunView } from '../../src/contract/index.js';
import { body, useDirs, useRewind } from './harness.js';

// The CPI seed, step by step: deploy tasks with Enable Rollback back up what is live first, and a
// run can be rolled back during or after its execution; rollback logs exist only when one happened.

/** An app whose page is the content of message.txt, read on every request (so a hand edit shows at once). */
async function messageApp(message: string, pipelines?: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-pipeline-app-'));
  await writeFile(
    join(dir, 'server.js'),
    `const http = require('http'); const fs = require('fs');
http.createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  res.end(fs.readFileSync(__dirname + '/message.txt', 'utf8') + ' greeting=' + (process.env.GREETING || '-'));
}).listen(Number(process.env.PORT), '127.0.0.1');`,
  );
  await writeFile(join(dir, 'message.txt'), message);
  await writeFile(
    join(dir, 'rewind.yml'),
    `components:\n  web:\n    command: node server.js\n    health:\n      path: /health\n      interval: 0.1\n${pipelines ?? ''}`,
  );
  return dir;
}

describe('release pipelines with backups and rollback', () => {
  const rw = useRewind();
  let url: string;
  const dirs = useDirs();
  const app = async (message: string, pipelines?: string) => {
    const d = await messageApp(message, pipelines);
    dirs.push(d);
    return d;
  };
  const tarball = async (dir: string) => {
    const file = join(await mkdtemp(join(tmpdir(), 'rewind-tgz-')), 'src.tar.gz');
    dirs.push(join(file, '..'));
    await packSource(dir, file);
    return readFile(file);
  };
  const startRun = async (pipeline: string, dir: string, stories: string[] = []) => {
    const qs = stories.map((s) => `story=${encodeURIComponent(s)}`).join('&');
    const res = await rw.fetch(`/api/apps/flow/pipelines/${pipeline}/runs?${qs}`, {
      method: 'POST',
      headers: { 'content-type': 'application/gzip' },
      body: await tarball(dir),
    });
    const run = (await res.json()) as PipelineRunView & { error?: { message: string } };
    expect(res.status, JSON.stringify(run)).toBe(201);
    return run;
  };
  const run = async (id: string) => (await rw.api<PipelineRunView>(`/api/pipelines/runs/${id}`)).body;
  const until = async (id: string, ok: (r: PipelineRunView) => boolean, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await run(id);
      if (ok(r)) return r;
      if (Date.now() > deadline) throw new Error(`run ${id} did not get there: ${JSON.stringify(r, null, 1)}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  };
  const define = async (pipelines: unknown) => {
    const res = await rw.api('/api/apps/flow/pipelines', { method: 'PUT', body: JSON.stringify({ pipelines }) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  };

  beforeAll(async () => {
    expect((await rw.cli(['apps', 'create', 'flow'])).code).toBe(0);
    const d = await rw.cli(['deploy', await app('v1'), '-a', 'flow']);
    expect(d.code, d.stderr).toBe(0);
    url = await rw.appUrl('flow');
    expect(await body(url)).toContain('v1');
  });

  it('refuses an invalid definition, naming the task and the reason', async () => {
    const res = await rw.api<{ error: { message: string } }>('/api/apps/flow/pipelines', {
      method: 'PUT',
      body: JSON.stringify({ pipelines: { ship: ['build', { deploy: { enableRollback: 'yes' } }, { launch: {} }] } }),
    });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('pipelines.ship[2] (deploy): env is required');
    expect(res.body.error.message).toContain('pipelines.ship[2] (deploy): enableRollback must be true or false');
    expect(res.body.error.message).toContain('pipelines.ship[3]: "launch" is not a task kind');
    expect((await rw.api<unknown[]>('/api/apps/flow/pipelines')).body).toEqual([]);
  });

  it('rollback while an approval waits: cancels it and restores the backup', async () => {
    await define({ ship: ['build', { deploy: { env: 'production', enableRollback: true } }, { approval: { message: 'Keep v2?' } }] });
    const started = await startRun('ship', await app('v2'), ['US-1']);
    const waiting = await until(started.id, (r) => r.status === 'waiting');
    expect(await body(url)).toContain('v2');
    const deploy = waiting.tasks[1];
    expect(deploy).toMatchObject({ kind: 'deploy', status: 'succeeded', rollbackStatus: 'none' });
    expect(deploy.backupRelease).toMatch(/^R[A-Z]{10}$/);
    const backup = (await rw.api<{ kind: string; description: string }>(`/api/apps/flow/releases/${deploy.backupRelease}`)).body;
    expect(backup.kind).toBe('backup');
    expect(waiting.rollback).toBeUndefined();

    const rb = await rw.api<PipelineRunView>(`/api/pipelines/runs/${started.id}/rollback`, { method: 'POST', body: '{}' });
    expect(rb.status).toBe(202);
    const done = await until(started.id, (r) => r.rollbackStatus === 'rolled back' || r.rollbackStatus === 'failed');
    expect(done.rollbackStatus).toBe('rolled back');
    expect(done.status).toBe('cancelled');
    expect(done.tasks[2]).toMatchObject({ kind: 'approval', status: 'cancelled' });
    expect(done.tasks[1]).toMatchObject({ rollbackStatus: 'rolled back' });
    expect(done.rollback!.logs.length).toBeGreaterThan(0);
    expect(done.rollback!.logs.map((l) => l.message).join('\n')).toContain(`restoring backup ${deploy.backupRelease}`);
    expect(await body(url)).toContain('v1');
  });

  it('a finished run rolled back restores its backup; a run never rolled back has no rollback section', async () => {
    await define({ quick: ['build', { deploy: { env: 'production', enableRollback: true } }] });
    const before = await body(url);
    const started = await startRun('quick', await app('v3'), ['US-2']);
    const finished = await until(started.id, (r) => r.status === 'succeeded' || r.status === 'failed');
    expect(finished.status).toBe('succeeded');
    expect(finished.rollback).toBeUndefined();
    expect(finished.rollbackStatus).toBe('none');
    const logs = (await rw.api<Array<{ section: string }>>(`/api/pipelines/runs/${started.id}/logs`)).body;
    expect(logs.every((l) => l.section === 'run')).toBe(true);
    expect(await body(url)).toContain('v3');

    expect((await rw.api(`/api/pipelines/runs/${started.id}/rollback`, { method: 'POST', body: '{}' })).status).toBe(202);
    const rolled = await until(started.id, (r) => r.rollbackStatus === 'rolled back' || r.rollbackStatus === 'failed');
    expect(rolled.rollbackStatus).toBe('rolled back');
    expect(rolled.status).toBe('succeeded');
    expect(await body(url)).toBe(before);
  });

  it('drift is captured: a file changed by hand before a run comes back when the run is rolled back', async () => {
    const live = await body(url);
    const message = live.split(' ')[0];
    // Find the live instance's message.txt in its working copy (agent/work/APP/ENV/COMPONENT.ID) and edit it by hand.
    const work = join(rw.dataDir, 'agent', 'work');
    let edited = '';
    for (const app of await readdir(work)) {
      for (const instance of await readdir(join(work, app, 'production')).catch(() => [] as string[])) {
        const f = join(work, app, 'production', instance, 'message.txt');
        if ((await readFile(f, 'utf8').catch(() => '')) === message) {
          await writeFile(f, 'edited-by-hand');
          edited = f;
        }
      }
    }
    expect(edited).not.toBe('');
    expect(await body(url)).toContain('edited-by-hand');

    const started = await startRun('quick', await app('v4'));
    await until(started.id, (r) => r.status === 'succeeded');
    expect(await body(url)).toContain('v4');
    await rw.api(`/api/pipelines/runs/${started.id}/rollback`, { method: 'POST', body: '{}' });
    await until(started.id, (r) => r.rollbackStatus === 'rolled back');
    expect(await body(url)).toContain('edited-by-hand');
  });

  it('a failing run task with autoRollback rolls the run back by itself', async () => {
    const before = await body(url);
    await define({
      guarded: [
        'build',
        { deploy: { env: 'production', enableRollback: true, autoRollback: true } },
        {
          run: {
            name: 'smoke',
            env: 'production',
            command: 'node -e "fetch(process.env.URL).then(r => r.text()).then(t => { console.log(t); process.exit(t.includes(\'v6\') ? 0 : 1) })"',
          },
        },
      ],
    });
    const started = await startRun('guarded', await app('v5-broken'), ['US-3']);
    const done = await until(started.id, (r) => r.rollbackStatus === 'rolled back' || r.rollbackStatus === 'failed');
    expect(done.status).toBe('failed');
    expect(done.tasks[2]).toMatchObject({ name: 'smoke', status: 'failed' });
    expect(done.rollbackStatus).toBe('rolled back');
    expect(done.rollbackReason).toMatch(/^automatic: task 3 \(smoke\) failed/);
    expect(await body(url)).toBe(before);
  });

  it("a run task runs in the build's files and keeps every line of a burst of output", async () => {
    await define({
      smoke: ['build', { run: { env: 'production', command: 'node -e "for (let i = 0; i < 200; i++) console.log(\'line \' + i)" && cat message.txt' } }],
    });
    const started = await startRun('smoke', await app('v-smoke'));
    const done = await until(started.id, (r) => r.status === 'succeeded' || r.status === 'failed');
    expect(done.status, JSON.stringify(done.tasks)).toBe('succeeded');
    const logs = (await rw.api<Array<{ message: string; task: number | null }>>(`/api/pipelines/runs/${started.id}/logs`)).body;
    const out = logs.filter((l) => l.task === 1).map((l) => l.message);
    for (let i = 0; i < 200; i++) expect(out).toContain(`line ${i}`);
    expect(out).toContain('v-smoke');
  });

  it('stories lead to their pipeline activity', async () => {
    const stories = (await rw.api<Array<{ id: string; runs: number }>>('/api/apps/flow/stories')).body;
    expect(stories.map((s) => s.id).sort()).toEqual(['US-1', 'US-2', 'US-3']);
    const us1 = (await rw.api<{ runs: PipelineRunView[] }>('/api/apps/flow/stories/US-1')).body;
    expect(us1.runs).toHaveLength(1);
    expect(us1.runs[0].pipeline).toBe('ship');
  });

  it('a run waiting for approval survives a server restart and continues', async () => {
    await define({ gated: ['build', { approval: { message: 'go?' } }, { deploy: { env: 'production' } }] });
    const started = await startRun('gated', await app('v7'));
    await until(started.id, (r) => r.status === 'waiting');
    await rw.killServer('SIGKILL');
    await rw.startServer();
    await until(started.id, (r) => r.status === 'waiting');
    const approve = await rw.api(`/api/pipelines/runs/${started.id}/approve`, { method: 'POST', body: '{}' });
    expect(approve.status).toBe(200);
    const done = await until(started.id, (r) => r.status === 'succeeded' || r.status === 'failed');
    expect(done.status, JSON.stringify(done.tasks)).toBe('succeeded');
    expect(await body(url)).toContain('v7');
  });
});

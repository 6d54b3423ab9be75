import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fixtureApp, useRewind } from './harness.js';

interface Rel {
  id: string;
  kind: string;
  description: string;
  builds: Record<string, string>;
}
interface Run {
  id: string;
  status: string;
  rollbackStatus: string;
  tasks: Array<{ name: string; backupRelease: string | null }>;
}

/**
 * Issue 10 item 20, without a browser (the console's half is in seeds.test.ts): a backup says in
 * its description which version it holds, as the live build describes it (the CLI's git describe),
 * also when what is live is itself a restored backup, and in design mode.
 */
describe('backup descriptions', () => {
  const rw = useRewind();

  const ok = (args: string[]) => rw.ok(args);
  const releases = async (app: string) => (await rw.api<Rel[]>(`/api/apps/${app}/releases?limit=100`)).body;
  const run = async (app: string, pipeline: string, build: string): Promise<Run> => {
    const started = await rw.api<Run>(`/api/apps/${app}/pipelines/${pipeline}/runs`, { method: 'POST', body: JSON.stringify({ stories: [], build }) });
    expect(started.status, JSON.stringify(started.body)).toBeLessThan(300);
    for (let i = 0; i < 300; i++) {
      const r = (await rw.api<Run>(`/api/pipelines/runs/${started.body.id}`)).body;
      if (r.status !== 'running' && r.status !== 'pending') return r;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`run ${started.body.id} did not end`);
  };
  const backupOf = async (app: string, r: Run) => (await releases(app)).find((x) => x.id === r.tasks.find((t) => t.backupRelease)!.backupRelease)!;

  it('names the version a backup holds, through a restored backup, and in design mode', async () => {
    await ok(['apps', 'create', 'bk']);
    const src = await fixtureApp({ version: 'v1' });
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: src, stdio: 'pipe' }).toString();
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'v1 of the shop');
    const described = `build ${git('rev-parse', 'HEAD').trim().slice(0, 12)} v1 of the shop`;
    await ok(['deploy', src, '-a', 'bk']);
    const [live] = await releases('bk');
    const b = await ok(['build', await fixtureApp({ version: 'v2' }), '-a', 'bk', '-d', 'v2']);
    const build = /Build:\s+(B[A-Z]{10})/.exec(b.stdout + b.stderr)![1];
    const pipelines = {
      ship: [{ deploy: { env: 'production', enableRollback: true } }],
      stage: [{ deploy: { env: 'production', enableRollback: true, mode: 'design' } }],
    };
    expect((await rw.api('/api/apps/bk/pipelines', { method: 'PUT', body: JSON.stringify({ pipelines }) })).status).toBe(200);

    const first = await run('bk', 'ship', build);
    expect(first.status).toBe('succeeded');
    const backup = await backupOf('bk', first);
    expect(backup.description).toBe(`backup of live production: ${described} (${live.id}, before pipeline run ${first.id} (task 1))`);
    const builds = (await rw.api<Array<{ id: string; description: string }>>('/api/apps/bk/builds')).body;
    expect(builds.find((x) => x.id === backup.builds.web)!.description).toBe(`backup of the live files of production: ${described}`);

    // Restore it: what is live is now the backup's own build, and the next backup still names v1.
    expect((await rw.api(`/api/pipelines/runs/${first.id}/rollback`, { method: 'POST', body: '{}' })).status).toBe(202);
    await rw.settled('bk');
    const second = await run('bk', 'ship', build);
    expect((await backupOf('bk', second)).description).toMatch(
      new RegExp(`^backup of live production: ${described} \\(R[A-Z]{10}, before pipeline run ${second.id} \\(task 1\\)\\)$`),
    );

    // Design mode backs up what is staged (the newest release): v2 here, described by its -d.
    const third = await run('bk', 'stage', build);
    expect((await backupOf('bk', third)).description).toMatch(
      new RegExp(`^backup of staged production: v2 \\(R[A-Z]{10}, before pipeline run ${third.id} \\(task 1\\)\\)$`),
    );
  });
});

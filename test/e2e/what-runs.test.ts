import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { body, envOf, fixtureApp, okRelease, releaseIdIn, useRewind } from './harness.js';

// Issue 10, "what runs is what was recorded": config changes apply on top of the active release,
// the config shown is the active release's, pipeline deploys use the environment's config and
// record releases only where they deploy, marks name the release a change undoes, and `rewind
// envs` lists only components that run. One app, one server, few deploys: each step builds on the last.

const HEALTH = '    health:\n      path: /health\n      timeout: 20\n      interval: 0.1\n';
const WEB_AND_API = `components:\n  web:\n    command: node server.js\n${HEALTH}  api:\n    command: node server.js\n    port: true\n${HEALTH}`;
const WEB_AND_PIPELINES = `components:\n  web:\n    command: node server.js\n${HEALTH}pipelines:\n  ship:\n    - deploy:\n        env: production\n        enableRollback: true\n  totest:\n    - build\n    - deploy:\n        env: test\n`;

interface Release {
  id: string;
  env: string;
  status: string;
  description: string;
  builds: Record<string, string>;
  config: Record<string, string>;
}

describe('what runs is what was recorded', () => {
  const rw = useRewind();
  let dir: string;
  let url: string;
  const builds: Record<string, string> = {};
  let shipRun = '';
  let shipped = '';

  const releases = async (env = 'production') => (await rw.api<Release[]>(`/api/apps/runs/releases?env=${env}&limit=100`)).body;
  const release = async (id: string) => (await rw.api<Release>(`/api/apps/runs/releases/${id}`)).body;
  const active = async (env = 'production') => release((await envOf(rw, 'runs', env)).activeRelease!);
  const statusOf = async (id: string) => (await releases()).find((r) => r.id === id)!.status;
  async function version(v: string, manifest: string) {
    const server = await readFile(join(dir, 'server.js'), 'utf8');
    await writeFile(join(dir, 'server.js'), server.replace(/const VERSION = "[^"]*"/, `const VERSION = "${v}"`));
    await writeFile(join(dir, 'rewind.yml'), manifest);
  }
  const buildIdIn = (out: string) => /^Build:\s+(B[A-Z]{10})$/m.exec(out)![1];

  beforeAll(async () => {
    dir = await fixtureApp({ version: 'v1', manifest: WEB_AND_API });
    await rw.ok(['apps', 'create', 'runs']);
    await rw.ok(['envs', 'create', 'test', '-a', 'runs']);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('env set applies on top of the active release, never on a release that was only built or staged (item 3); rewind env shows the active config (item 7)', async () => {
    builds.v1 = buildIdIn((await rw.ok(['deploy', dir, '-a', 'runs'])).stdout);
    url = (await envOf(rw, 'runs', 'production')).url;
    await rw.ok(['env', 'set', 'GREETING=one', '-a', 'runs']);
    expect(await body(url)).toBe('version=v1 greeting=one\n');

    // v2 is built but not deployed (as when its deploy was refused), and a variable is staged.
    await version('v2', WEB_AND_PIPELINES);
    builds.v2 = buildIdIn((await rw.ok(['build', dir, '-a', 'runs'])).stdout);
    const staged = await rw.ok(['env', 'set', 'STAGED=1', '--no-promote', '-a', 'runs']);
    expect(staged.stdout).toMatch(/^Staged, not running: "rewind env" shows the active config; promote it with "rewind releases promote R[A-Z]{10}"$/m);
    const shown = await rw.ok(['env', '-a', 'runs']);
    expect(shown.stdout).toBe('GREETING=one\n');
    expect((await rw.api<{ config: Record<string, string> }>('/api/apps/runs/env?env=production')).body.config).toEqual({ GREETING: 'one' });

    const set = await rw.ok(['env', 'set', 'GREETING=after', 'DB_PASSWORD=s3cret', '-a', 'runs']);
    const made = await release(releaseIdIn(set.stdout)!);
    expect(made.description).toBe('env add:DB_PASSWORD change:GREETING');
    expect(made.builds).toEqual({ web: builds.v1, api: builds.v1 });
    expect(made.config).toEqual({ DB_PASSWORD: 's3cret', GREETING: 'after' });
    expect(await body(url)).toBe('version=v1 greeting=after\n');
  });

  it('a pipeline deploy of an existing build runs it with the environment’s current config (item 7); rewind envs lists only running components (item 12)', async () => {
    expect(Object.keys((await envOf(rw, 'runs', 'production')).components)).toEqual(['api']);
    const before = await active();
    const run = await rw.cli(['pipelines', 'run', 'ship', '-a', 'runs', '--build', builds.v2]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    shipRun = /^Run: (P[A-Z]{10})$/m.exec(run.stdout)![1];
    const now = await active();
    shipped = now.id;
    expect(now.id).not.toBe(before.id);
    expect(now.builds).toEqual({ web: builds.v2 });
    expect(now.config).toEqual(before.config);
    expect(await body(url)).toBe('version=v2 greeting=after\n');
    expect((await rw.ok(['env', '-a', 'runs'])).stdout).toBe('DB_PASSWORD=s3cret\nGREETING=after\n');

    // api is not part of the active release any more: no URL for it.
    expect((await envOf(rw, 'runs', 'production')).components).toEqual({});
    const envs = await rw.ok(['envs', '-a', 'runs']);
    expect(envs.stdout).not.toContain('api:');
  });

  it('a pipeline that builds and deploys to test records releases in test only (item 9)', async () => {
    const production = (await releases()).length;
    await version('v3', WEB_AND_PIPELINES);
    const run = await rw.cli(['pipelines', 'run', 'totest', dir, '-a', 'runs']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect((await releases()).length).toBe(production);
    const test = await releases('test');
    expect(test).toHaveLength(1);
    expect(test[0].status).toBe('active');
    expect(await body((await envOf(rw, 'runs', 'test')).url)).toBe('version=v3 greeting=hello\n');
  });

  it('a revert marks the reverted release, not the later one whose change is kept (item 4)', async () => {
    const all = await releases();
    const configChange = all.find((r) => r.description === 'env add:DB_PASSWORD change:GREETING')!;
    const later = await active(); // the pipeline's v2 deploy, kept
    const revert = okRelease((await rw.ok(['releases', 'revert', configChange.id, '-a', 'runs', '--yes'])).stdout)!;
    expect((await release(revert)).config).toEqual({ GREETING: 'one' });
    expect(await body(url)).toBe('version=v2 greeting=one\n');
    expect(await statusOf(configChange.id)).toBe('rolled back');
    expect(await statusOf(later.id)).toBe('');
  });

  it('a component rollback marks the release whose change it undoes, not the active one (item 4)', async () => {
    await version('v4', WEB_AND_PIPELINES);
    const deployed = releaseIdIn((await rw.ok(['deploy', dir, '-a', 'runs'])).stdout)!;
    await rw.ok(['env', 'set', 'LATER=1', '-a', 'runs']);
    const configOnly = await active();
    const back = okRelease((await rw.ok(['releases', 'rollback', '-a', 'runs', '--component', `web=${builds.v2}`, '--yes'])).stdout)!;
    expect((await release(back)).config).toEqual({ GREETING: 'one', LATER: '1' });
    expect(await body(url)).toBe('version=v2 greeting=one\n');
    expect(await statusOf(deployed)).toBe('rolled back');
    expect(await statusOf(configOnly.id)).toBe('');
  });

  it('env set after concurrent deploys refused as "in progress" deploys what runs, not a refused build (item 3)', async () => {
    // The first one boots slowly, so the four others are built (and their releases recorded) while it deploys.
    const dirs = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => fixtureApp({ version: `c${i}`, manifest: WEB_AND_PIPELINES, startDelayMs: i === 1 ? 10_000 : 0 })),
    );
    try {
      await rw.settled('runs');
      const first = rw.cli(['deploy', dirs[0], '-a', 'runs']);
      const deadline = Date.now() + 20_000;
      const deploying = async () =>
        (await rw.api<Array<{ state: string }>>('/api/apps/runs/deployments?env=production')).body.some((d) => d.state === 'running' || d.state === 'pending');
      while (!(await deploying()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const refused = await Promise.all(dirs.slice(1).map((d) => rw.cli(['deploy', d, '-a', 'runs'])));
      for (const r of refused) {
        // The build succeeded and its release is kept; the CLI says how to promote it.
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/^error: build B[A-Z]{10} made release R[A-Z]{10}, but it was not deployed: deployment D[A-Z]{10} .* is in progress/);
        expect(r.stderr).toMatch(/; promote it with "rewind releases promote R[A-Z]{10} -a runs"\n$/);
      }
      expect((await first).code).toBe(0);
      await rw.settled('runs');
      const running = await active();
      expect(await body(url)).toBe('version=c1 greeting=one\n');
      const set = await rw.ok(['env', 'set', 'AFTERCONC=1', '-a', 'runs']);
      const made = await release(releaseIdIn(set.stdout)!);
      expect(made.description).toBe('env add:AFTERCONC');
      expect(made.builds).toEqual(running.builds);
      expect(await body(url)).toBe('version=c1 greeting=one\n');
    } finally {
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    }
  });

  it('a pipeline run rollback marks what went live since its backup was taken (item 4)', async () => {
    const before = await active();
    const later = (await releases()).find((r) => r.description === 'env add:LATER')!;
    const rb = await rw.cli(['pipelines', 'rollback', shipRun, '-a', 'runs', '--yes']);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    await rw.settled('runs');
    const now = await active();
    expect(now.description).toMatch(/^restore backup R[A-Z]{10} \(pipeline run /);
    // The backup holds what was live before the run: v1 with api, and the config of then.
    expect(await body(url)).toBe('version=v1 greeting=after\n');
    expect(Object.keys((await envOf(rw, 'runs', 'production')).components)).toEqual(['api']);
    // The pipeline's release and every release live after it are undone.
    for (const id of [shipped, later.id, before.id]) expect(await statusOf(id), id).toBe('rolled back');
    expect(await statusOf(now.id)).toBe('active');
  });
});

/**
 * The Swarm target end to end (issue 12 items 1 and 3): a real server, a target added with
 * `rewind targets add`, an environment on it, image components deployed, rolled back (warm: the
 * Swarm service of 1.11 answers again) and a component rolled back, all through the CLI. What the
 * tasks answer is read on their published ports (the Swarm target's observe gives them).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerEngine } from '../../src/targets/swarm/docker-engine.js';
import { useDirs, useRewind } from './harness.js';

const dockerHost = process.env.REWIND_TEST_DOCKER_HOST;
const registry = process.env.REWIND_TEST_REGISTRY;
const title = dockerHost
  ? `an environment on a Swarm target, against the lab at ${dockerHost}`
  : 'an environment on a Swarm target: skipped, REWIND_TEST_DOCKER_HOST is unset (start one: node scripts/lab/docker-lab.mjs start)';

if (!dockerHost && process.env.CI === 'true') {
  describe(title, () => {
    it('runs in CI (REWIND_TEST_DOCKER_HOST is unset)', () => {
      throw new Error('CI=true but REWIND_TEST_DOCKER_HOST is unset: .ci/run starts the lab (node scripts/lab/docker-lab.mjs start) and exports it');
    });
  });
}

interface Proc {
  readonly id: string;
  readonly node: string | null;
  readonly release: string;
  readonly build: string;
  readonly state: string;
  readonly port: number | null;
}

describe.skipIf(!dockerHost)(title, () => {
  const rw = useRewind();
  const dirs = useDirs();
  // A name of its own: the lab is shared, and every service of this app is removed at the end.
  const app = `shop-${randomBytes(3).toString('hex')}`;
  const pulled = `${app}-reg`;
  const edged = `${app}-edge`;
  const timings: string[] = [];

  afterAll(async () => {
    for (const name of [app, pulled, edged]) await rw.cli(['apps', 'delete', name]).catch(() => undefined);
    const engine = new DockerEngine(dockerHost!);
    try {
      const left = (await Promise.all([app, pulled, edged].map((name) => engine.listServices({ 'rewind.app': name })))).flat();
      await Promise.all(left.map((s) => engine.removeService(s.ID).catch(() => undefined)));
    } finally {
      await engine.close();
    }
    console.log(`swarm e2e timings: ${timings.join(', ')}`);
  });

  const timed = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const result = await run();
    timings.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  };
  const source = async (tag: string, repository = 'rewind-test/web') => {
    const dir = await mkdtemp(join(tmpdir(), 'rewind-swarm-'));
    dirs.push(dir);
    await writeFile(join(dir, 'rewind.yml'), `components:\n  web:\n    image: ${repository}:${tag}\n    port: 80\n`);
    return dir;
  };
  const ps = async (of = app): Promise<Proc[]> => JSON.parse((await rw.ok(['ps', '-a', of, '-e', 'prod', '--json'])).stdout) as Proc[];
  const active = async (of = app) =>
    (JSON.parse((await rw.ok(['envs', '-a', of, '--json'])).stdout) as { name: string; activeRelease: string }[]).find((e) => e.name === 'prod')!.activeRelease;
  /** What the running tasks of the active release answer on their published ports. */
  const served = async (of = app) => {
    const release = await active(of);
    const tasks = (await ps(of)).filter((p) => p.release === release && p.state === 'healthy');
    expect(tasks.length).toBeGreaterThan(0);
    const bodies = await Promise.all(
      tasks.map(async (t) => (await (await fetch(`http://127.0.0.1:${t.port}/`, { signal: AbortSignal.timeout(5000) })).text()).trim()),
    );
    return [...new Set(bodies)];
  };
  const buildIn = (stdout: string) => /^Build:\s+(B[A-Z]{10})$/m.exec(stdout)![1];

  it('deploys 1.11 then 1.12, rolls back warm to 1.11, and rolls web forward to the 1.12 build', async () => {
    await rw.ok(['targets', 'add', 'lab', '--swarm', '--docker-host', dockerHost!]);
    await rw.ok(['apps', 'create', app]);
    await rw.ok(['envs', 'create', 'prod', '--target', 'lab', '-a', app]);
    const deploy = async (tag: string) =>
      buildIn((await rw.ok(['deploy', await source(tag), '-a', app, '-e', 'prod', '-d', `web ${tag}`], { timeoutMs: 120_000 })).stdout);

    const b1 = await timed('deploy 1.11', () => deploy('1.11'));
    expect(await served()).toEqual(['rewind-test web 1.11']);
    const r1 = await active();
    const tasks1 = (await ps()).filter((p) => p.release === r1).map((p) => p.id);

    const b2 = await timed('deploy 1.12', () => deploy('1.12'));
    expect(await served()).toEqual(['rewind-test web 1.12']);
    const r2 = await active();
    expect(r2).not.toBe(r1);
    // ps shows the tasks of both: 1.12 serving, 1.11 warm.
    const both = await ps();
    expect(new Set(both.map((p) => p.release))).toEqual(new Set([r1, r2]));
    // Each task names the node it runs on (the lab's one node), in --json and as a NODE column.
    const docker = new DockerEngine(dockerHost!);
    const node = await docker
      .listNodes()
      .then((nodes) => nodes[0].Description?.Hostname)
      .finally(() => docker.close());
    expect(node).toEqual(expect.any(String));
    expect(new Set(both.map((p) => p.node))).toEqual(new Set([node]));
    const table = (await rw.ok(['ps', '-a', app, '-e', 'prod'])).stdout.trim().split('\n');
    expect(table[0]).toMatch(/^ID\s+COMPONENT\s+RELEASE\s+STATUS\s+NODE\s+PID\s+PORT\s+STARTED\s+MEM$/);
    expect(table.slice(1).every((l) => l.includes(` ${node} `))).toBe(true);

    // The image versions of web, like any build: each with its pin.
    const history = (await rw.ok(['builds', '-a', app, '--component', 'web'])).stdout.trim().split('\n');
    expect(history[0]).toMatch(/^ID\s+STATUS\s+CREATED\s+IMAGE\s+DESCRIPTION$/);
    expect(history.slice(1).map((l) => /^(B[A-Z]{10})\s+succeeded\s+.*\ssha256:[0-9a-f]{12}\s+web 1\.1\d$/.exec(l)?.[1])).toEqual([b2, b1]);

    // Rollback to the previous release: the 1.11 service is warm, its tasks answer again.
    const rb = await timed('rollback (warm)', () => rw.ok(['releases', 'rollback', '-a', app, '-e', 'prod'], { timeoutMs: 120_000 }));
    expect(rb.stdout).toContain('OK');
    expect(await served()).toEqual(['rewind-test web 1.11']);
    const r3 = await active();
    const tasks3 = (await ps()).filter((p) => p.release === r3 && p.state === 'healthy').map((p) => p.id);
    expect(tasks3.sort()).toEqual(tasks1.sort());

    // A component rollback of web to the 1.12 build.
    await timed('component rollback', () => rw.ok(['releases', 'rollback', '-a', app, '-e', 'prod', '--component', `web=${b2}`], { timeoutMs: 120_000 }));
    expect(await served()).toEqual(['rewind-test web 1.12']);

    // Promoted into the app's production (local), the images are refused in one line and nothing changes there.
    const promoted = await rw.fails(['promote', '--from', 'prod', '--to', 'production', '-a', app, '--yes']);
    expect(promoted.stderr).toContain('component web is an image (sha256:');
    expect(promoted.stderr).toContain('images run on a swarm target: create the environment with --target');
    expect((await rw.ok(['ps', '-a', app, '--json'])).stdout.trim()).toBe('[]');

    await rw.ok(['apps', 'delete', app]);
    const engine = new DockerEngine(dockerHost!);
    try {
      expect(await engine.listServices({ 'rewind.app': app })).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it.skipIf(!registry)(`pins an image of the registry by the registry's digest and runs it (registry ${registry})`, async () => {
    await rw.ok(['apps', 'create', pulled]);
    await rw.ok(['envs', 'create', 'prod', '--target', 'lab', '-a', pulled]);
    const dir = await source('1.12', `${registry}/rewind-test/web`);
    const out = await timed('deploy from the registry', () => rw.ok(['deploy', dir, '-a', pulled, '-e', 'prod'], { timeoutMs: 120_000 }));
    const build = JSON.parse((await rw.ok(['builds', 'info', buildIn(out.stdout), '-a', pulled, '--json'])).stdout) as { artifacts: Record<string, string> };
    expect(build.artifacts.web).toMatch(new RegExp(`^image:${registry!.replace(/\./g, '\\.')}/rewind-test/web@sha256:[0-9a-f]{64}$`));
    expect(await served(pulled)).toEqual(['rewind-test web 1.12']);
    await rw.ok(['apps', 'delete', pulled]);
  });

  it("serves the environment's URL through the local agent's edge, and a rollback swaps the edge's route", async () => {
    const agent = await rw.agentInfo();
    await rw.ok(['targets', 'add', 'edged', '--swarm', '--docker-host', dockerHost!, '--edge', agent.url]);
    await rw.ok(['apps', 'create', edged]);
    const env = JSON.parse((await rw.ok(['envs', 'create', 'prod', '--target', 'edged', '-a', edged, '--json'])).stdout) as { url: string };
    const url = env.url;
    const page = async () => (await (await fetch(url, { signal: AbortSignal.timeout(5000) })).text()).trim();
    await rw.ok(['deploy', await source('1.11'), '-a', edged, '-e', 'prod'], { timeoutMs: 120_000 });
    expect(await page()).toBe('rewind-test web 1.11');
    await rw.ok(['deploy', await source('1.12'), '-a', edged, '-e', 'prod'], { timeoutMs: 120_000 });
    expect(await page()).toBe('rewind-test web 1.12');
    await timed('rollback through the edge', () => rw.ok(['releases', 'rollback', '-a', edged, '-e', 'prod'], { timeoutMs: 120_000 }));
    expect(await page()).toBe('rewind-test web 1.11');
    // A restarted server loads which environment runs where, and finds the release running.
    await rw.restartServer({});
    expect((await rw.ok(['ps', '-a', edged, '-e', 'prod'])).stdout).toMatch(/web/);
    await rw.ok(['deploy', await source('1.12'), '-a', edged, '-e', 'prod'], { timeoutMs: 120_000 });
    expect(await page()).toBe('rewind-test web 1.12');
    await rw.ok(['apps', 'delete', edged]);
    await expect(fetch(url, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
  });
});

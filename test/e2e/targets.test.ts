/** Targets as data (issue 12 item 3): rewind targets, targets add/remove, envs create --target, through a real server. */
import { describe, expect, it } from 'vitest';
import { useRewind } from './harness.js';

const dockerHost = process.env.REWIND_TEST_DOCKER_HOST;

describe('rewind targets', () => {
  const rw = useRewind();

  it('lists local, which always exists and is no row', async () => {
    const list = JSON.parse((await rw.ok(['targets', '--json'])).stdout) as { name: string; kind: string }[];
    expect(list.map((t) => [t.name, t.kind])).toEqual([['local', 'local']]);
    expect((await rw.fails(['targets', 'remove', 'local'])).stderr).toContain('target "local" always exists and cannot be removed');
    expect((await rw.fails(['targets', 'add', 'local', '--swarm', '--docker-host', 'unix:///x.sock'])).stderr).toContain('target "local" always exists');
  });

  it('refuses bad input in one line and records nothing', async () => {
    const bad = async (args: string[], line: string) => {
      const r = await rw.fails(['targets', 'add', ...args]);
      expect(r.stderr.trim()).toBe(`error: ${line}`);
    };
    await bad(['lab', '--docker-host', 'unix:///x.sock'], 'give the kind of target: --swarm (the only kind besides local)');
    await bad(
      ['Lab', '--swarm', '--docker-host', 'unix:///x.sock'],
      '"Lab" is not a valid target name: use 1-31 lower-case letters, digits and dashes, starting with a letter (e.g. lab)',
    );
    await bad(['lab', '--swarm', '--docker-host', 'http://x'], '--docker-host "http://x" is not unix:///PATH or tcp://HOST:PORT');
    await bad(['lab', '--swarm', '--docker-host', 'unix:///x.sock', '--registry', 'nope'], '--registry "nope" is not HOST:PORT');
    const gone = await rw.fails(['targets', 'add', 'lab', '--swarm', '--docker-host', 'unix:///nonexistent/docker.sock']);
    expect(gone.stderr.trim().split('\n')).toHaveLength(1);
    expect(gone.stderr).toContain('could not reach unix:///nonexistent/docker.sock');
    expect(JSON.parse((await rw.ok(['targets', '--json'])).stdout)).toHaveLength(1);
    await rw.ok(['apps', 'create', 'shop']);
    expect((await rw.fails(['envs', 'create', 'prod', '--target', 'nope', '-a', 'shop'])).stderr.trim()).toBe(
      'error: target "nope" does not exist; see "rewind targets" or add it with "rewind targets add nope --swarm --docker-host URL"',
    );
    expect((await rw.fails(['targets', 'remove', 'nope'])).stderr).toContain('target "nope" does not exist');
  });

  it.skipIf(!dockerHost)(`adds a swarm manager, runs an environment on it, refuses its removal while in use (lab at ${dockerHost})`, async () => {
    const added = JSON.parse((await rw.ok(['targets', 'add', 'lab', '--swarm', '--docker-host', dockerHost!, '--json'])).stdout) as { name: string };
    expect(added).toMatchObject({ name: 'lab', kind: 'swarm', dockerHost, registry: null, edges: [], environments: [] });
    expect((await rw.fails(['targets', 'add', 'lab', '--swarm', '--docker-host', dockerHost!])).code).toBe(2);
    await rw.ok(['apps', 'create', 'depot']);
    expect((await rw.ok(['envs', 'create', 'prod', '--target', 'lab', '-a', 'depot'])).stdout).toContain('Target: lab');
    const envs = JSON.parse((await rw.ok(['envs', '-a', 'depot', '--json'])).stdout) as { name: string; target: string }[];
    expect(envs.map((e) => [e.name, e.target])).toEqual([
      ['production', 'local'],
      ['prod', 'lab'],
    ]);
    expect((await rw.ok(['targets'])).stdout).toMatch(/lab\s+swarm\s+unix:\/\/\S+\s+0\s+depot\/prod/);
    const inUse = await rw.fails(['targets', 'remove', 'lab']);
    expect([inUse.code, inUse.stderr.trim()]).toEqual([
      2,
      'error: target "lab" runs depot/prod; delete those environments first (rewind envs delete ENV -a APP)',
    ]);
    const api = await rw.api<{ error: { code: string } }>('/api/targets/lab', { method: 'DELETE' });
    expect([api.status, api.body.error.code]).toEqual([409, 'TARGET_IN_USE']);
    await rw.ok(['envs', 'delete', 'prod', '-a', 'depot']);
    await rw.ok(['targets', 'remove', 'lab']);
    expect(JSON.parse((await rw.ok(['targets', '--json'])).stdout)).toHaveLength(1);
  });
});

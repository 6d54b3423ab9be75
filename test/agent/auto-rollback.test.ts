/**
 * Automatic rollback: a release that fails its health checks, or crash-loops, within its watch
 * window after taking traffic is switched back to the release it replaced (warm when it is on
 * standby, cold otherwise), and the agent reports it.
 */
import { expect, it } from 'vitest';
import { freePort, isAlive } from '../../src/agent/proc-info.js';
import type { DesiredState, ObservedApp } from '../../src/protocol/agent-protocol.js';
import type { Artifact } from './helpers.js';
import { deploy, desiredState, get, useAgent, waitFor, web } from './helpers.js';

const a = useAgent();

const observe = async (name: string): Promise<ObservedApp> => (await a.client.observe(name, 'production')) as ObservedApp;
const logsOf = async (name: string) => (await (await a.client.logs(name, 'production', { lines: 300, follow: false })).setEncoding('utf8').toArray()).join('');
const health = { path: '/health', timeoutMs: 5000, intervalMs: 50 };

it('rolls a release whose health checks start failing back to the warm previous one: same pids, recorded, logged', async () => {
  const port = await freePort();
  const state = (release: string, artifact: Artifact, config: Record<string, string> = {}): DesiredState => ({
    ...desiredState(release, port, [web(artifact, { health })], config, 'sick'),
    deployment: `D${release}`,
    autoRollback: { windowMs: 10_000 },
  });
  await deploy(a.agent, state('RGOOD', a.v1));
  const good = (await observe('sick')).instances.map((i) => i.pid);

  // Healthy at first (the rollout succeeds), sick 1.5 s after it booted.
  const bad = await deploy(a.agent, state('RBAD', a.v2, { HEALTH_FAIL_AFTER_MS: '1500' }));
  expect(bad.result).toMatchObject({ ok: true, release: 'RBAD' });
  expect(bad.events.some((e) => e.type === 'log' && e.message === 'Watching RBAD for 10s: failing health checks or crashes roll it back to RGOOD')).toBe(true);
  expect((await observe('sick')).watch).toMatchObject({ release: 'RBAD', previous: 'RGOOD' });
  const badPid = (await observe('sick')).instances.find((i) => i.release === 'RBAD')?.pid as number;

  const after = await waitFor('the automatic rollback', async () => {
    const o = await observe('sick');
    return o.autoRollbacks?.length && !o.rollout ? o : null;
  });
  expect(after.release).toBe('RGOOD');
  expect(after.watch).toBeUndefined();
  expect(after.autoRollbacks).toEqual([
    {
      id: expect.stringMatching(/^[0-9a-f]{12}$/),
      from: 'RBAD',
      to: 'RGOOD',
      deployment: 'DRBAD',
      reason: expect.stringMatching(/^web\.[0-9a-f]{6} failed 3 health checks in a row \(GET \/health answered 500\)$/),
      at: expect.any(String),
    },
  ]);
  // Back on the warm instances of RGOOD; the bad one is stopped, not kept on standby.
  await waitFor('the bad instance to stop', async () => !isAlive(badPid) && (await observe('sick')).instances.length === 1);
  expect((await observe('sick')).instances.map((i) => [i.release, i.pid, i.state])).toEqual(good.map((pid) => ['RGOOD', pid, 'healthy']));
  expect((await get(port)).body).toBe('v1\n');
  const logs = await logsOf('sick');
  expect(logs).toMatch(/ agent Automatic rollback of RBAD to RGOOD: web\.[0-9a-f]{6} failed 3 health checks in a row/);
  expect(logs).toContain(' agent Reusing 1 warm standby instance of RGOOD: no process to start');
  expect(logs).toContain(' agent Automatic rollback of RBAD done: RGOOD is serving again');
});

it('rolls a crash-looping release back, starting the previous one cold when it is not on standby', async () => {
  const port = await freePort();
  const state = (release: string, artifact: Artifact, config: Record<string, string> = {}): DesiredState => ({
    ...desiredState(release, port, [web(artifact, { health })], config, 'loop'),
    standby: { keepMs: 0, count: 0 },
    autoRollback: { windowMs: 15_000 },
  });
  await deploy(a.agent, state('RGOOD', a.v1));
  const good = (await observe('loop')).instances[0]?.pid as number;
  // Each instance crashes 150 ms after it booted: restarted after 1 s, then 2 s; the third crash rolls back.
  expect((await deploy(a.agent, state('RLOOP', a.v2, { CRASH_AFTER_MS: '150' }))).result.ok).toBe(true);
  await waitFor('the old instance to be stopped', () => !isAlive(good));
  const after = await waitFor(
    'the automatic rollback',
    async () => {
      const o = await observe('loop');
      return o.autoRollbacks?.length && !o.rollout ? o : null;
    },
    15_000,
  );
  expect(after.release).toBe('RGOOD');
  expect(after.autoRollbacks?.[0]).toMatchObject({
    from: 'RLOOP',
    to: 'RGOOD',
    reason: expect.stringMatching(/^its instances crashed 3 times within 15s of the switch \(last: web\.[0-9a-f]{6} exited with code 1\)$/),
  });
  expect(after.instances.map((i) => [i.release, i.state])).toEqual([['RGOOD', 'healthy']]);
  expect(after.instances[0]?.pid).not.toBe(good);
  expect((await get(port)).body).toBe('v1\n');
  expect(await logsOf('loop')).toMatch(/ agent starting web\.[0-9a-f]{6} \(pid \d+\) on port \d+\n(.*\n)*.* agent Automatic rollback of RLOOP done/);
}, 30_000);

it('does nothing once the window is over', async () => {
  const port = await freePort();
  await deploy(a.agent, desiredState('RONE', port, [web(a.v1, { health })], {}, 'calm'));
  const switched = Date.now();
  await deploy(a.agent, { ...desiredState('RTWO', port, [web(a.v2, { health })], { HEALTH_FAIL_AFTER_MS: '1500' }, 'calm'), autoRollback: { windowMs: 300 } });
  await waitFor('the watch to end', async () => (await observe('calm')).watch === undefined);
  // Sick after the window: restarted like any unhealthy instance (steady probes every 5 s), never rolled back.
  await new Promise((r) => setTimeout(r, Math.max(0, switched + 2000 - Date.now())));
  const o = await observe('calm');
  expect(o.release).toBe('RTWO');
  expect(o.autoRollbacks).toBeUndefined();
  expect(await logsOf('calm')).toContain('agent RTWO stayed healthy for 0.3s; automatic rollback disarmed');
});

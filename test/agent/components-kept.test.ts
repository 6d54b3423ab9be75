/**
 * Which components restart (issue 10 items 10 and 11): a component whose files, command, config,
 * scale and health do not change keeps its instances (same pids) across any deployment; workers
 * (no port) are stopped at the switch instead of waiting on warm standby, and a rollback starts
 * them again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, isAlive } from '../../src/agent/proc-info.js';
import type { DesiredComponent, DesiredState, ObservedApp } from '../../src/protocol/agent-protocol.js';
import type { Artifact } from './helpers.js';
import { deploy, desiredState, get, useAgent, waitFor, web } from './helpers.js';

const a = useAgent();

let n = 0;
let current = '';
afterEach(async () => {
  await a.client.remove(current, 'production');
});

const worker = (artifact: Artifact): DesiredComponent =>
  web(artifact, { name: 'worker', command: 'exec node worker.js', port: false, health: { timeoutMs: 5000, intervalMs: 50 } });
const api = (artifact: Artifact): DesiredComponent => web(artifact, { name: 'api' });

async function newApp(): Promise<{
  name: string;
  state(release: string, components: DesiredComponent[], config?: Record<string, string>): DesiredState;
  observe(): Promise<ObservedApp>;
}> {
  const name = `kept${++n}`;
  current = name;
  const port = await freePort();
  const routes = { api: await freePort() };
  return {
    name,
    state: (release, components, config = {}) => ({
      ...desiredState(release, port, components, config, name),
      ...(components.some((c) => c.name === 'api') ? { routes } : {}),
    }),
    observe: async () => (await a.client.observe(name, 'production')) as ObservedApp,
  };
}

const pidsOf = (o: ObservedApp, component: string, release?: string) =>
  o.instances.filter((i) => i.component === component && (release === undefined || i.release === release)).map((i) => i.pid);
const logLines = (events: Awaited<ReturnType<typeof deploy>>['events']) => events.flatMap((e) => (e.type === 'log' ? [e.message] : []));

describe('unchanged components keep their instances', () => {
  it('a deployment that changes web alone keeps the api and worker pids; a rollback of web alone too', async () => {
    const { state, observe } = await newApp();
    await deploy(a.agent, state('RONE', [web(a.v1), api(a.v1), worker(a.v1)]));
    const one = await observe();
    const apiPids = pidsOf(one, 'api');
    const workerPids = pidsOf(one, 'worker');

    const two = await deploy(a.agent, state('RTWO', [web(a.v2), api(a.v1), worker(a.v1)]));
    expect(two.result).toMatchObject({ ok: true });
    expect(logLines(two.events).filter((l) => l.startsWith('starting '))).toHaveLength(1);
    expect(logLines(two.events)).toContain('Keeping the running instances of api, worker (unchanged): no restart');
    const after = await observe();
    expect(pidsOf(after, 'api', 'RTWO')).toEqual(apiPids);
    expect(pidsOf(after, 'worker', 'RTWO')).toEqual(workerPids);
    expect(after.instances.filter((i) => i.component !== 'web').map((i) => i.restarts)).toEqual([0, 0]);

    // The component rollback: web back to v1, from warm standby; nothing else moves.
    const back = await deploy(a.agent, state('RTHREE', [web(a.v1), api(a.v1), worker(a.v1)]));
    expect(logLines(back.events).filter((l) => l.startsWith('starting '))).toEqual([]);
    const three = await observe();
    expect(pidsOf(three, 'web', 'RTHREE')).toEqual(pidsOf(one, 'web'));
    expect(pidsOf(three, 'api', 'RTHREE')).toEqual(apiPids);
    expect(pidsOf(three, 'worker', 'RTHREE')).toEqual(workerPids);
    expect((await get((await observe()).proxyPort)).body).toBe('v1\n');
  });

  it('a config change restarts every component; a scale change restarts that component only', async () => {
    const { state, observe } = await newApp();
    await deploy(a.agent, state('RONE', [web(a.v1), api(a.v1)]));
    const one = await observe();
    const scaled = await deploy(a.agent, state('RTWO', [web(a.v1), { ...api(a.v1), scale: 2 }]));
    expect(scaled.result).toMatchObject({ ok: true });
    const two = await observe();
    expect(pidsOf(two, 'web', 'RTWO')).toEqual(pidsOf(one, 'web'));
    expect(pidsOf(two, 'api', 'RTWO')).toHaveLength(2);
    expect(pidsOf(two, 'api', 'RTWO')).not.toContain(pidsOf(one, 'api')[0]);

    await deploy(a.agent, state('RTHREE', [web(a.v1), { ...api(a.v1), scale: 2 }], { GREETING: 'new config' }));
    const three = await observe();
    for (const pid of [...pidsOf(two, 'web', 'RTWO'), ...pidsOf(two, 'api', 'RTWO')])
      expect(pidsOf(three, 'web', 'RTHREE').concat(pidsOf(three, 'api', 'RTHREE'))).not.toContain(pid);
  });
});

describe('workers and warm standby', () => {
  it('stops the old worker at the switch (only HTTP components wait on standby); a rollback starts the worker again, cold', async () => {
    const { state, observe } = await newApp();
    await deploy(a.agent, state('RONE', [web(a.v1), worker(a.v1)]));
    const one = await observe();
    const [oldWorker] = pidsOf(one, 'worker') as number[];
    // A slow request on the old web drains for a while; the old worker does not wait for it.
    let answered = false;
    const slow = get(one.proxyPort, '/slow?ms=2500').finally(() => (answered = true));
    await new Promise((r) => setTimeout(r, 100));

    const two = await deploy(a.agent, state('RTWO', [web(a.v2), worker(a.v2)]));
    expect(logLines(two.events)).toContain(
      'Keeping 1 instance of RONE on warm standby for 15 min; stopping 1 instance of worker (no port: only HTTP components wait on standby)',
    );
    const after = await waitFor('the old worker to stop', async () => {
      const o = await observe();
      return !isAlive(oldWorker as number) && o.instances.filter((i) => i.release === 'RONE').length === 1 ? o : null;
    });
    expect(after.instances.filter((i) => i.release === 'RONE').map((i) => [i.component, i.state])).toEqual([['web', 'standby']]);
    expect(answered).toBe(false);
    expect(await slow).toMatchObject({ status: 200, body: 'v1 slow\n' });
    const [newWorker] = pidsOf(after, 'worker', 'RTWO') as number[];

    const back = await deploy(a.agent, state('RTHREE', [web(a.v1), worker(a.v1)]));
    expect(back.result).toMatchObject({ ok: true });
    const lines = logLines(back.events);
    expect(lines.filter((l) => l.startsWith('starting ')).map((l) => l.split('.')[0])).toEqual(['starting worker']);
    const three = await observe();
    expect(pidsOf(three, 'web', 'RTHREE')).toEqual(pidsOf(one, 'web'));
    const [backWorker] = pidsOf(three, 'worker', 'RTHREE') as number[];
    expect(backWorker).not.toBe(oldWorker);
    expect(isAlive(backWorker as number)).toBe(true);
    await waitFor('the replaced worker to stop', () => !isAlive(newWorker as number));
  });
});

/**
 * The nginx data plane (`--proxy nginx`): the agent's own nginx master serves the ports and is
 * reloaded gracefully on every switch. Skipped when nginx is not installed. The rollout, standby
 * and route suites run on nginx too (`describe.each(dataPlanes())`); this file keeps what only
 * nginx has: its masters, the reload of one tier, re-adoption, load across many switches.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { describe, expect, it } from 'vitest';
import { activeWorkers } from '../../src/agent/nginx-master.js';
import { findNginx } from '../../src/agent/nginx-plane.js';
import { freePort, isAlive } from '../../src/agent/proc-info.js';
import type { DesiredState } from '../../src/protocol/agent-protocol.js';
import { deploy, desiredState, get, openWebSocket, useAgent, web } from './helpers.js';

const nginx = findNginx();

describe.skipIf(nginx === null)('nginx data plane', () => {
  const a = useAgent({ proxy: 'nginx', sharedPort: 0 });
  const masterPid = (tier: 'front' | 'back') => Number(readFileSync(join(a.dir, 'nginx', tier, 'nginx.pid'), 'utf8').trim());
  const masters = () => [masterPid('front'), masterPid('back')];
  const workers = (tier: 'front' | 'back') => activeWorkers(masterPid(tier)).sort();

  it('switches 12 times, cold and warm, under load without one failed request; WebSockets opened before a switch keep working', async () => {
    expect((await a.client.state()).proxy).toBe('nginx');
    const port = await freePort();
    const release = (n: number) => `R${String.fromCharCode(65 + n).repeat(10)}`;
    const state = (n: number): DesiredState => ({
      ...desiredState(release(n), port, [web(n % 2 === 0 ? a.v1 : a.v2, { scale: 2 })]),
      drainTimeoutMs: 3000,
      ...(n % 4 === 1 ? { standby: { keepMs: 0, count: 0 } } : {}),
    });
    expect((await deploy(a.agent, state(0))).result.ok).toBe(true);
    expect((await get(port)).body).toBe('v1\n');
    const ws = await openWebSocket(port);
    expect(await ws.ask('a')).toBe('v1: a');
    // Switches reload the back tier only: the front workers that hold client connections stay.
    const frontWorkers = workers('front');
    const backWorkers = workers('back');

    const served = { v1: 0, v2: 0, other: 0 };
    let finish!: (result: autocannon.Result) => void;
    const finished = new Promise<autocannon.Result>((resolve) => (finish = resolve));
    const load = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: 8,
        overallRate: 300,
        duration: 120,
        requests: [
          { method: 'GET', path: '/', onResponse: (_status: number, body: string) => void served[body === 'v1\n' ? 'v1' : body === 'v2\n' ? 'v2' : 'other']++ },
        ],
      },
      (err, result) => {
        if (err) throw err;
        finish(result);
      },
    );
    await new Promise((r) => setTimeout(r, 300));
    for (let n = 1; n <= 12; n++) {
      const { result } = await deploy(a.agent, state(n));
      expect(result).toMatchObject({ ok: true, release: release(n) });
      // The switch is done when deploy answers: the very next request gets the new version.
      expect((await get(port)).body).toBe(n % 2 === 0 ? 'v1\n' : 'v2\n');
      if (n === 1) expect(await ws.ask('b')).toBe('v1: b');
      await new Promise((r) => setTimeout(r, 100));
    }
    load.stop();
    const result = await finished;
    ws.close();
    expect(workers('front')).toEqual(frontWorkers);
    expect(workers('back').some((pid) => backWorkers.includes(pid))).toBe(false);
    expect({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, other: served.other }).toEqual({
      errors: 0,
      timeouts: 0,
      non2xx: 0,
      other: 0,
    });
    // The load saw both versions (how many of each depends on this machine's speed).
    expect(served.v1).toBeGreaterThan(0);
    expect(served.v2).toBeGreaterThan(0);
    const headers = JSON.parse((await get(port, '/env')).body) as { headers: Record<string, string> };
    expect(headers.headers).toMatchObject({
      host: `127.0.0.1:${port}`,
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
      forwarded: `for=127.0.0.1;host="127.0.0.1:${port}";proto=http`,
    });
  }, 60_000);

  it('serves route ports, their 404 page, the 503 page and the shared host-name port', async () => {
    const [port, apiPort] = [await freePort(), await freePort()];
    const shared = (await a.client.state()).sharedPort as number;
    await deploy(a.agent, { ...desiredState('RONE', port, [web(a.v1), web(a.v1, { name: 'api' })], {}, 'routes'), routes: { api: apiPort } });
    expect((await get(apiPort)).body).toBe('api v1\n');
    expect((await get(shared, '/', { host: 'routes.localhost' })).body).toBe('v1\n');
    expect(await get(shared, '/', { host: 'nope.dev.localhost' })).toMatchObject({
      status: 404,
      body: '404 Not Found\n\nno app nope (dev) runs on this agent\n',
    });
    await deploy(a.agent, desiredState('RTWO', port, [web(a.v2)], {}, 'routes'));
    expect(await get(apiPort)).toMatchObject({ status: 404, body: '404 Not Found\n\ncomponent api of routes (production) is not deployed\n' });
    expect((await get(shared, '/', { host: 'routes.localhost' })).body).toBe('v2\n');
    const emptyPort = await freePort();
    await deploy(a.agent, desiredState('REMPTY', emptyPort, [web(a.v1, { scale: 0 })], {}, 'empty'));
    expect(await get(emptyPort)).toMatchObject({ status: 503, body: expect.stringContaining('no release of empty (production) is running') });
  });

  it('keeps serving while the agent is down; a restarted agent re-adopts the same nginx master', async () => {
    const port = await freePort();
    await deploy(a.agent, desiredState('RONE', port, [web(a.v1)], {}, 'survivor'));
    const master = masters();
    await a.close();
    expect(master.every((pid) => isAlive(pid))).toBe(true);
    expect((await get(port)).body).toBe('v1\n');
    await a.start();
    expect(masters()).toEqual(master);
    expect((await get(port)).body).toBe('v1\n');
    expect((await deploy(a.agent, desiredState('RTWO', port, [web(a.v2)], {}, 'survivor'))).result.ok).toBe(true);
    expect((await get(port)).body).toBe('v2\n');
    expect(masters()).toEqual(master);
  });
});

import autocannon from 'autocannon';
import { expect, it } from 'vitest';
import { freePort } from '../../src/agent/proc-info.js';
import { deploy, desiredState, get, useAgent, web } from './helpers.js';

const a = useAgent();

it('switches v1↔v2 20 times, cold then warm, under a few hundred req/s without one failed request', async () => {
  const { agent, v1, v2 } = a;
  const proxyPort = await freePort();
  const release = (n: number) => `R${String.fromCharCode(65 + (n % 26)).repeat(10)}`;
  // The first ten switches start new instances (no standby); the next ones swap to the warm standby.
  const state = (n: number) => ({
    ...desiredState(release(n), proxyPort, [web(n % 2 === 0 ? v1 : v2, { scale: 2 })]),
    ...(n <= 10 ? { standby: { keepMs: 0, count: 0 } } : {}),
  });
  expect((await deploy(agent, state(0))).result.ok).toBe(true);

  const served = { v1: 0, v2: 0, other: 0 };
  let finish!: (result: autocannon.Result) => void;
  const finished = new Promise<autocannon.Result>((resolve) => (finish = resolve));
  const load = autocannon(
    {
      url: `http://127.0.0.1:${proxyPort}`,
      connections: 8,
      overallRate: 300,
      duration: 120,
      requests: [
        {
          method: 'GET',
          path: '/',
          onResponse: (_status: number, body: string) => {
            const key = body === 'v1\n' ? 'v1' : body === 'v2\n' ? 'v2' : 'other';
            served[key]++;
          },
        },
      ],
    },
    (err, result) => {
      if (err) throw err;
      finish(result);
    },
  );
  await new Promise((r) => setTimeout(r, 500));
  let warm = 0;
  for (let n = 1; n <= 20; n++) {
    const { result, events } = await deploy(agent, state(n));
    expect(result).toMatchObject({ ok: true, release: release(n) });
    if (events.some((e) => e.type === 'log' && e.message.startsWith('Reusing 2 warm standby instances'))) warm++;
    // The switch is done when deploy answers: the very next request gets the new version.
    expect((await get(proxyPort)).body).toBe(n % 2 === 0 ? 'v1\n' : 'v2\n');
    if (n > 10) await new Promise((r) => setTimeout(r, 100)); // warm switches are quick: let traffic flow in between
  }
  expect(warm).toBe(9);
  await new Promise((r) => setTimeout(r, 300));
  load.stop();
  const result = await finished;
  expect({ errors: result.errors, timeouts: result.timeouts, non2xx: result.non2xx, other: served.other }).toEqual({
    errors: 0,
    timeouts: 0,
    non2xx: 0,
    other: 0,
  });
  expect(result.requests.total).toBeGreaterThan(600);
  // The load saw both versions (how many of each depends on this machine's speed).
  expect(served.v1).toBeGreaterThan(0);
  expect(served.v2).toBeGreaterThan(0);
}, 60_000);

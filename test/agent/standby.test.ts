/**
 * Warm standby: the replaced release keeps running without traffic, and a rollback to it (a copy
 * with a new release id) is a route swap that starts no process. Also: drains that keep slow
 * requests, streams and WebSockets alive across a switch.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, isAlive } from '../../src/agent/proc-info.js';
import type { DesiredState, ObservedApp } from '../../src/protocol/agent-protocol.js';
import type { Artifact } from './helpers.js';
import { dataPlanes, deploy, desiredState, get, openWebSocket, readEvents, useAgent, waitFor, web } from './helpers.js';

describe.each(dataPlanes())('%s data plane', (proxy) => {
  const a = useAgent({ proxy });

  let app = 0;
  let current = '';
  afterEach(async () => {
    await a.client.remove(current, 'production');
  });

  /** Each test deploys its own app on its own port. */
  async function newApp(): Promise<{
    name: string;
    port: number;
    state(release: string, artifact: Artifact, extra?: Partial<DesiredState>, config?: Record<string, string>): DesiredState;
  }> {
    const name = `app${++app}`;
    current = name;
    const port = await freePort();
    return {
      name,
      port,
      state: (release, artifact, extra = {}, config = {}) => ({ ...desiredState(release, port, [web(artifact, { scale: 2 })], config, name), ...extra }),
    };
  }

  const observe = async (name: string): Promise<ObservedApp> => (await a.client.observe(name, 'production')) as ObservedApp;
  const logLines = (events: Awaited<ReturnType<typeof deploy>>['events']) => events.flatMap((e) => (e.type === 'log' ? [e.message] : []));

  describe('warm standby', () => {
    it('keeps the replaced release running without traffic; a rollback copy reuses its instances: same pids, no process started', async () => {
      const { name, port, state } = await newApp();
      await deploy(a.agent, state('RONE', a.v1));
      const one = await observe(name);
      const pids = one.instances.map((i) => i.pid);

      const second = await deploy(a.agent, state('RTWO', a.v2));
      expect(logLines(second.events)).toContain('Keeping 2 instances of RONE on warm standby for 15 min');
      expect((await get(port)).body).toBe('v2\n');
      const two = await observe(name);
      const standby = two.instances.filter((i) => i.state === 'standby');
      expect(standby.map((i) => [i.release, i.pid])).toEqual(pids.map((pid) => ['RONE', pid]));
      for (const i of standby) {
        expect(Date.parse(i.standbyUntil as string) - Date.now()).toBeGreaterThan(14 * 60_000);
        expect(i.rss).toBeGreaterThan(1_000_000);
      }
      expect(two.instances.filter((i) => i.release === 'RTWO').map((i) => i.state)).toEqual(['healthy', 'healthy']);

      // The engine rolls back by copying RONE into a new release: same builds and config, new id.
      const back = await deploy(a.agent, state('RTHREE', a.v1));
      expect(back.result).toMatchObject({ ok: true, release: 'RTHREE' });
      const lines = logLines(back.events);
      expect(lines).toContain('Reusing 2 warm standby instances of RONE (same builds and config): no process to start');
      expect(lines.filter((l) => l.startsWith('starting ') || l.startsWith('Preparing slug'))).toEqual([]);
      expect((await get(port)).body).toBe('v1\n');
      const three = await observe(name);
      expect(three.release).toBe('RTHREE');
      expect(three.instances.filter((i) => i.release === 'RTHREE').map((i) => [i.pid, i.state, i.restarts])).toEqual(pids.map((pid) => [pid, 'healthy', 0]));
      // ... and RTWO is the one on standby now.
      expect(three.instances.filter((i) => i.state === 'standby').map((i) => i.release)).toEqual(['RTWO', 'RTWO']);
    });

    it('restarts a crashed standby instance, stops standby after its time, and keeps at most `count` releases', async () => {
      const { name, state } = await newApp();
      const short = { standby: { keepMs: 60_000, count: 1 } };
      await deploy(a.agent, state('RONE', a.v1, short));
      await deploy(a.agent, state('RTWO', a.v2, short));
      const victim = (await observe(name)).instances.find((i) => i.state === 'standby');
      process.kill(victim?.pid as number, 'SIGKILL');
      const back = await waitFor('the standby instance to be restarted', async () => {
        const i = (await observe(name)).instances.find((x) => x.id === victim?.id);
        return i?.restarts === 1 && i.state === 'standby' ? i : null;
      });
      expect(back.pid).not.toBe(victim?.pid);

      // count 1: RONE leaves the standby when RTWO joins it.
      const ronePids = (await observe(name)).instances.filter((i) => i.release === 'RONE').map((i) => i.pid as number);
      await deploy(a.agent, state('RTHREE', a.v1, { standby: { keepMs: 400, count: 1 } }, { OTHER: 'config' }));
      await waitFor(
        'RONE to be stopped',
        async () => ronePids.every((pid) => !isAlive(pid)) && (await observe(name)).instances.every((i) => i.release !== 'RONE'),
      );
      const twoPids = (await observe(name)).instances.filter((i) => i.release === 'RTWO').map((i) => i.pid as number);
      expect(twoPids).toHaveLength(2);
      // keepMs 400: RTWO is stopped soon after.
      await waitFor('RTWO to expire', async () => twoPids.every((pid) => !isAlive(pid)) && (await observe(name)).instances.length === 2);
      const logs = (await (await a.client.logs(name, 'production', { lines: 200, follow: false })).setEncoding('utf8').toArray()).join('');
      expect(logs).toContain('agent Stopping 2 standby instances of RONE: at most 1 release on standby');
      expect(logs).toContain('agent Stopping 2 standby instances of RTWO: its time on standby is over');
    });
  });

  describe('drain and switch', () => {
    it('keeps a slow request, a server-sent event stream and a WebSocket opened before a switch until drained, then cuts the WebSocket', async () => {
      const { name, port, state } = await newApp();
      const drain = { drainTimeoutMs: 2000 };
      // v2 waits on standby, so that the switch below is instant: what is in flight then is known.
      await deploy(a.agent, state('RZERO', a.v2, drain));
      await deploy(a.agent, state('RONE', a.v1, drain));
      const ws = await openWebSocket(port);
      expect(await ws.ask('hello')).toBe('v1: hello');
      const slow = get(port, '/slow?ms=700');
      const seen: string[] = [];
      const stream = readEvents(port, '/sse?n=8&ms=100', (data) => seen.push(data));
      await waitFor('the first event', () => seen.length > 0);

      const switchedAt = Date.now();
      const switched = await deploy(a.agent, state('RTWO', a.v2, drain));
      // Only the builtin proxy counts requests in flight; nginx drains by retiring its old workers.
      if (proxy === 'builtin') expect(logLines(switched.events)).toContain('Draining 3 requests in flight on RONE (up to 2s)');
      expect((await get(port)).body).toBe('v2\n');
      // What was opened before the switch still talks to v1.
      expect(await ws.ask('still there?')).toBe('v1: still there?');
      expect(await slow).toMatchObject({ status: 200, body: 'v1 slow\n' });
      expect(await stream).toEqual({ status: 200, events: [0, 1, 2, 3, 4, 5, 6, 7].map((n) => `v1 ${n}`) });
      const fresh = await openWebSocket(port);
      expect(await fresh.ask('hi')).toBe('v2: hi');
      fresh.close();

      // After the drain timeout the old WebSocket is closed, though its instance stays on standby.
      const closedAt = await Promise.race([ws.closed.then(() => Date.now()), new Promise<number>((r) => setTimeout(() => r(0), 4000))]);
      expect(closedAt - switchedAt).toBeGreaterThan(1800);
      expect((await observe(name)).instances.filter((i) => i.release === 'RONE').map((i) => i.state)).toEqual(['standby', 'standby']);
    });

    it('never refuses a request during a switch: concurrent GETs across a cold and a warm switch all get 200', async () => {
      const { port, state } = await newApp();
      await deploy(a.agent, state('RONE', a.v1));
      let stop = false;
      const statuses = new Map<number, number>();
      const bodies = new Set<string>();
      const loop = async () => {
        while (!stop) {
          const res = await get(port).catch(() => ({ status: 0, body: '' }));
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          bodies.add(res.body);
        }
      };
      const loops = [loop(), loop(), loop(), loop()];
      await deploy(a.agent, state('RTWO', a.v2));
      await deploy(a.agent, state('RTHREE', a.v1));
      await new Promise((r) => setTimeout(r, 100));
      stop = true;
      await Promise.all(loops);
      expect([...statuses.keys()]).toEqual([200]);
      expect([...bodies].sort()).toEqual(['v1\n', 'v2\n']);
    });
  });
});

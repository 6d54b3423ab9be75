/**
 * The edge's pure parts (route validation, weighted picking) and the proxy to a non-local upstream
 * (an IPv6 literal), without an agent.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { AppProxy } from '../../src/agent/proxy.js';
import { pickWeighted, Upstream } from '../../src/agent/upstream.js';
import { isEdgeHost, sameEdgeRoute, validateEdgeRoute } from '../../src/protocol/edge-protocol.js';
import { get } from './helpers.js';

const ok = (body: unknown) => {
  const route = validateEdgeRoute(body, 'shop', 'production');
  if (route instanceof Error) throw route;
  return route;
};
const problem = (body: unknown, ports?: { lo: number; hi: number }) => (validateEdgeRoute(body, 'shop', 'production', ports) as Error).message;

describe('edge routes', () => {
  it('takes IP literals and host names; refuses brackets, zones, spaces and dotted digits that are no address', () => {
    for (const host of ['10.0.0.7', '::1', 'fd00::12:7', 'node-1.swarm.internal', 'localhost']) expect([host, isEdgeHost(host)]).toEqual([host, true]);
    for (const host of ['[::1]', 'fe80::1%eth0', 'a b', '1.2.3', '-node', 'a..b', '', 'x'.repeat(254), 7])
      expect([host, isEdgeHost(host)]).toEqual([host, false]);
  });

  it('fills the defaults, lower-cases host names, and compares routes whatever the order of their upstreams', () => {
    const route = ok({
      port: 8080,
      fence: 3,
      upstreams: [
        { host: 'Node-1.Local', port: 30001 },
        { host: '10.0.0.2', port: 30002, weight: 3 },
      ],
    });
    expect(route).toEqual({
      app: 'shop',
      env: 'production',
      port: 8080,
      fence: 3,
      upstreams: [
        { host: 'node-1.local', port: 30001, weight: 1 },
        { host: '10.0.0.2', port: 30002, weight: 3 },
      ],
      drainMs: 30_000,
      retry: { attempts: 2, ejectMs: 5000 },
    });
    expect(sameEdgeRoute(route, { ...route, upstreams: [...route.upstreams].reverse() })).toBe(true);
    expect(sameEdgeRoute(route, { ...route, drainMs: 1 })).toBe(false);
  });

  it('names every wrong field in one line', () => {
    expect(problem(null)).toBe('invalid edge route: the body must be a JSON object { port, fence, upstreams, drainMs?, retry? }');
    const dup = {
      port: 8080,
      fence: 1,
      upstreams: [
        { host: '10.0.0.1', port: 1 },
        { host: '10.0.0.1', port: 1 },
      ],
    };
    expect(problem(dup)).toBe('invalid edge route: upstreams[1] is upstreams[0] again (10.0.0.1:1)');
    const bad = { port: 80, fence: 1.5, upstreams: [{ host: '10.0.0.1', port: 70000, weight: 0, tag: 1 }], drainMs: -1, retry: { attempts: 11 } };
    expect(problem(bad, { lo: 1024, hi: 65535 })).toBe(
      "invalid edge route: port must be an integer from 1024 to 65535 (the agent's --port-range); fence must be an integer from 0 to 2^53-1; " +
        'upstreams[0]."tag" is not a field of an edge route; upstreams[0].port must be an integer from 1 to 65535; ' +
        'upstreams[0].weight must be an integer from 1 to 100; drainMs must be an integer from 0 to 3600000; retry.attempts must be an integer from 0 to 10',
    );
    const many = { port: 8080, fence: 1, upstreams: Array.from({ length: 9 }, () => ({ host: 'a b', port: 1 })) };
    expect(problem(many)).toContain('and 4 more problems of upstreams');
  });
});

describe('the proxy to other hosts', () => {
  it('picks by weight (plain round robin when every weight is 1)', () => {
    const [a, b] = [new Upstream('a', 1, { weight: 3 }), new Upstream('b', 2)];
    const picks = Array.from({ length: 8 }, (_, turn) => pickWeighted([a, b], turn)?.id).join('');
    expect(picks).toBe('aaabaaab');
    a.weight = 1;
    expect(Array.from({ length: 4 }, (_, turn) => pickWeighted([a, b], turn)?.id).join('')).toBe('abab');
    void Promise.all([a.close(), b.close()]);
  });

  it('proxies to an upstream on another address (an IPv6 literal)', async () => {
    const backend = createServer((req, res) => res.end(`v6 ${req.socket.localAddress}\n`));
    await new Promise<void>((r) => backend.listen(0, '::1', r));
    const proxy = new AppProxy('shop', 'production', { attempts: 2, ejectMs: 1000 });
    await proxy.listen(0);
    try {
      proxy.setUpstreams([new Upstream('v6', (backend.address() as AddressInfo).port, { host: '::1' })]);
      expect(await get(proxy.port)).toMatchObject({ status: 200, body: 'v6 ::1\n' });
    } finally {
      await proxy.close();
      await new Promise((r) => backend.close(r));
    }
  });
});

/**
 * Ports: per-component routes (a component's own stable port, 404 once a release no longer has
 * it), releases that go live as one unit, and the shared port that routes by host name.
 */
import { request as httpRequest } from 'node:http';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/agent/proc-info.js';
import type { DesiredState, ObservedApp } from '../../src/protocol/agent-protocol.js';
import type { Artifact } from './helpers.js';
import { auth, dataPlanes, deploy, desiredState, get, useAgent, web } from './helpers.js';

describe.each(dataPlanes())('routes (%s data plane)', (proxy) => {
  const a = useAgent({ sharedPort: 0, proxy });

  const observe = async (app: string, env = 'production'): Promise<ObservedApp> => (await a.client.observe(app, env)) as ObservedApp;

  it('serves each routed component on its own port, keeps a 404 page for one a release no longer has, and switches all ports as one', async () => {
    const [port, apiPort] = [await freePort(), await freePort()];
    const api = (artifact: Artifact, command = 'exec node server.js') => web(artifact, { name: 'api', command });
    const both = (release: string, artifact: Artifact, apiCommand?: string): DesiredState => ({
      ...desiredState(release, port, [web(artifact), api(artifact, apiCommand)]),
      routes: { api: apiPort },
    });

    expect((await deploy(a.agent, both('RONE', a.v1))).result.ok).toBe(true);
    expect((await get(port)).body).toBe('v1\n');
    expect((await get(apiPort)).body).toBe('api v1\n');
    expect((await observe('shop')).routes).toEqual({ api: apiPort });

    // RTWO has no api: its port stays open and says so.
    expect((await deploy(a.agent, desiredState('RTWO', port, [web(a.v2)]))).result.ok).toBe(true);
    expect((await get(port)).body).toBe('v2\n');
    const gone = await get(apiPort);
    expect(gone.status).toBe(404);
    expect(gone.body).toBe('404 Not Found\n\ncomponent api of shop (production) is not deployed\n');
    // The HTML variant of the page is the builtin proxy's; nginx serves the text page to every client.
    if (proxy === 'builtin')
      expect((await get(apiPort, '/', { accept: 'text/html' })).body).toContain('<p>component api of shop (production) is not deployed</p>');
    const two = await observe('shop');
    expect(two.routes).toBeUndefined();
    expect(two.undeployedRoutes).toEqual({ api: apiPort });

    // One unit: an api that cannot start keeps the whole release off, web included.
    const bad = await deploy(a.agent, both('RBAD', a.v1, 'exit 3'));
    expect(bad.result).toMatchObject({ ok: false, release: 'RTWO' });
    expect((await get(port)).body).toBe('v2\n');
    expect((await get(apiPort)).status).toBe(404);

    // The 404 port survives an agent restart, then serves again when a release brings api back.
    await a.close();
    await a.start();
    expect((await get(apiPort)).status).toBe(404);
    expect((await deploy(a.agent, both('RTHREE', a.v2))).result.ok).toBe(true);
    expect((await get(apiPort)).body).toBe('api v2\n');
    expect((await get(port)).body).toBe('v2\n');
    const three = await observe('shop');
    expect(three.routes).toEqual({ api: apiPort });
    expect(three.undeployedRoutes).toBeUndefined();
  });

  it('refuses routes that name no HTTP component, the web one, or a port twice', async () => {
    const base = desiredState('RX', 7001, [web(a.v1), web(a.v1, { name: 'worker', port: false, command: 'node worker.js' }), web(a.v1, { name: 'api' })]);
    for (const [routes, message] of [
      [{ nope: 7002 }, 'routes.nope: there is no component nope'],
      [{ worker: 7002 }, 'routes.worker: component worker does not serve HTTP'],
      [{ web: 7002 }, 'routes.web: web is served on proxyPort already'],
      [{ api: 7001 }, 'routes.api: port 7001 is used by proxyPort too'],
      [{ api: 0 }, "routes.api must be a port from 1024 to 65535 (the agent's --port-range)"],
      [{ api: 22 }, "routes.api must be a port from 1024 to 65535 (the agent's --port-range)"],
    ] as const) {
      const res = await request(`${a.agent.url}/v1/deploy`, {
        method: 'POST',
        headers: { ...auth(a.agent), 'content-type': 'application/json' },
        body: JSON.stringify({ ...base, routes }),
      });
      expect(res.statusCode).toBe(400);
      expect(((await res.body.json()) as { error: { message: string } }).error.message).toContain(message);
    }
  });

  it('routes the shared port by host name: APP.localhost is production, APP.ENV.localhost another environment', async () => {
    const shared = (await a.client.state()).sharedPort as number;
    expect(shared).toBeGreaterThan(0);
    expect(a.agent.sharedPort).toBe(shared);
    const [prod, dev] = [await freePort(), await freePort()];
    await deploy(a.agent, desiredState('RPROD', prod, [web(a.v1)], {}, 'blog'));
    await deploy(a.agent, { ...desiredState('RDEV', dev, [web(a.v2)], {}, 'blog'), env: 'dev' });
    const via = (host: string) => get(shared, '/', { host });
    expect((await via('blog.localhost')).body).toBe('v1\n');
    expect((await via(`blog.localhost:${shared}`)).body).toBe('v1\n');
    expect((await via('BLOG.production.localhost')).body).toBe('v1\n');
    expect((await via('blog.dev.localhost')).body).toBe('v2\n');
    expect(await via('nope.localhost')).toMatchObject({ status: 404, body: expect.stringContaining('no app nope (production) runs on this agent') });
    expect(await via('example.com')).toMatchObject({
      status: 404,
      body: expect.stringContaining(`http://APP.localhost:${shared}/ is the production environment of APP`),
    });
    // The app sees the host it was asked for.
    const seen = JSON.parse((await get(shared, '/env', { host: 'blog.dev.localhost' })).body) as { headers: Record<string, string> };
    expect(seen.headers).toMatchObject({ host: 'blog.dev.localhost', 'x-forwarded-host': 'blog.dev.localhost', 'x-forwarded-proto': 'http' });
    expect(seen.headers.forwarded).toBe('for=127.0.0.1;host="blog.dev.localhost";proto=http');

    // Upgrades too.
    const echoed = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: shared, path: '/ws', headers: { host: 'blog.localhost', connection: 'Upgrade', upgrade: 'echo' } });
      req.on('upgrade', (answer, socket) => {
        socket.once('data', (d: Buffer) => {
          resolve(`${String(answer.headers['x-version'])} ${d.toString()}`);
          socket.destroy();
        });
        socket.write('ping');
      });
      req.on('error', reject);
      req.end();
    });
    expect(echoed).toBe('v1 ping');
  });
});

/**
 * What the fuzzer (fuzz.test.ts) found, each pinned by a focused test: every one was a 5xx or a
 * hang on the code before its fix.
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MANIFEST, rawTarGz } from '../e2e/tarball.js';
import type { AgentCore } from '../../src/agent/agent-core.js';
import { buildAgentServer } from '../../src/agent/agent-server.js';
import { buildApp } from '../../src/api/app.js';
import { LoginCodes, Sessions } from '../../src/api/credentials.js';
import { idleTarget, inProcessApp, type InProcess } from './inputs-app.js';

let server: InProcess;
beforeAll(async () => {
  server = await inProcessApp();
});
afterAll(async () => server?.close());

const json = { 'content-type': 'application/json' };

describe('an app deleted while its upload arrives', () => {
  // Found with seed 20261202: POST /api/apps/victim/builds raced DELETE /api/apps/victim and the
  // build's insert failed its foreign key: a 500 "FOREIGN KEY constraint failed".
  for (const url of ['/api/apps/gone/builds', '/api/apps/gone/pipelines/ship/runs']) {
    it(`POST ${url} is a 404 naming the app, not a 500`, async () => {
      const { app } = server;
      expect((await app.inject({ method: 'POST', url: '/api/apps', headers: json, payload: { name: 'gone' } })).statusCode).toBe(201);
      if (url.includes('pipelines')) {
        const put = await app.inject({ method: 'PUT', url: '/api/apps/gone/pipelines', headers: json, payload: { pipelines: { ship: ['build'] } } });
        expect(put.statusCode, put.body).toBe(200);
      }
      const body = new PassThrough();
      const upload = app.inject({ method: 'POST', url, headers: { 'content-type': 'application/gzip' }, payload: body });
      await sleep(50); // the route has checked the app and waits for the upload
      expect((await app.inject({ method: 'DELETE', url: '/api/apps/gone' })).statusCode).toBe(204);
      body.end(
        rawTarGz([
          { name: 'rewind.yml', body: MANIFEST },
          { name: 'server.js', body: '' },
        ]),
      );
      const res = await upload;
      expect(res.statusCode, res.body).toBe(404);
      expect(res.json().error.message).toMatch(/gone/);
    });
  }
});

describe('a request body nobody reads to its end', () => {
  // Found with seed 7: a JSON body over the 1 MiB limit is answered 413 and left unread; 30 s
  // later its idle timer failed the stream, which had no listener any more, and the server
  // died of an unhandled 'error' event ("the request body stopped arriving for 30 s").
  it('is answered 413 and its idle timer later ends it quietly (the server lives on)', async () => {
    const auth = { credentials: [], sessions: new Sessions(randomBytes(32), []), loginCodes: new LoginCodes(), insecureNoAuth: true };
    const app = await buildApp({ engine: server.engine, logger: false, auth, limits: { bodyIdleTimeoutMs: 200 } });
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      const payload = `{"name":"${'x'.repeat((1 << 20) + 10)}"}`;
      const res = await fetch(`${url}/api/apps`, { method: 'POST', headers: json, body: payload }).catch((err: Error) => err);
      // 413, or the connection cut while the rest is sent: either way the body is refused.
      if (!(res instanceof Error)) expect(res.status).toBe(413);
      await sleep(600);
      expect(uncaught).toEqual([]);
      expect((await fetch(`${url}/api/health`)).status).toBe(200);
    } finally {
      process.off('uncaughtException', onUncaught);
      await app.close();
    }
  });
});

describe("the agent's log stream", () => {
  // Found with seed 99: HEAD /v1/apps/APP/ENV/logs?follow=1 never answered (the API's streams
  // had the same bug, issue 9 item 11): Fastify answers HEAD with the GET handler, which follows.
  it('answers HEAD with the headers and ends, follow or not', async () => {
    const core = { recentLogs: () => ({ lines: ['one'], follow: () => () => {} }) } as unknown as AgentCore;
    const quiet = { info() {}, warn() {}, error() {} };
    const agent = buildAgentServer(core, quiet, {
      token: 'a-token-long-enough-1234',
      limits: { ports: { lo: 1024, hi: 65535 } },
      artifacts: { root: server.dir, maxBytes: 1 },
    });
    try {
      const url = await agent.listen({ port: 0, host: '127.0.0.1' });
      for (const query of ['?follow=1', '?follow=true&lines=5', '']) {
        const res = await fetch(`${url}/v1/apps/shop/production/logs${query}`, {
          method: 'HEAD',
          headers: { authorization: 'Bearer a-token-long-enough-1234' },
          signal: AbortSignal.timeout(3000),
        });
        expect(res.status, query).toBe(200);
        expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(await res.text()).toBe('');
      }
    } finally {
      await agent.close();
    }
  });
});

describe('following the logs of a quiet app', () => {
  // Found with seed 3: GET /api/apps/shop/logs?follow=true&lines=0 sent no headers until the
  // app printed a line (Fastify sends a stream's headers with its first chunk), so a client
  // waiting for the answer saw nothing at all.
  it('answers 200 with its headers at once', async () => {
    const quiet = new PassThrough();
    const api = await inProcessApp({ target: { ...idleTarget, logs: async () => quiet } });
    try {
      expect((await api.app.inject({ method: 'POST', url: '/api/apps', headers: json, payload: { name: 'shop' } })).statusCode).toBe(201);
      const url = await api.app.listen({ port: 0, host: '127.0.0.1' });
      const ac = new AbortController();
      const res = await fetch(`${url}/api/apps/shop/logs?follow=true&lines=0`, { signal: AbortSignal.any([ac.signal, AbortSignal.timeout(3000)]) });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      quiet.write('a line\n');
      const reader = res.body!.getReader();
      expect(new TextDecoder().decode((await reader.read()).value)).toBe('a line\n');
      ac.abort();
    } finally {
      quiet.end();
      await api.close();
    }
  });
  // Found by the same run: a follower that left before the agent answered (or any time) left
  // the stream to the agent open, and the server then never exited on SIGTERM.
  for (const leaveAfterMs of [20, 300]) {
    it(`stops following when the caller leaves (${leaveAfterMs} ms in, the agent answering after 100 ms)`, async () => {
      const quiet = new PassThrough();
      const api = await inProcessApp({ target: { ...idleTarget, logs: () => sleep(100).then(() => quiet) } });
      try {
        expect((await api.app.inject({ method: 'POST', url: '/api/apps', headers: json, payload: { name: 'shop' } })).statusCode).toBe(201);
        const url = await api.app.listen({ port: 0, host: '127.0.0.1' });
        const ac = new AbortController();
        const res = fetch(`${url}/api/apps/shop/logs?follow=true`, { signal: ac.signal }).catch(() => null);
        await sleep(leaveAfterMs);
        ac.abort();
        await res;
        for (let i = 0; i < 50 && !quiet.destroyed; i++) await sleep(20);
        expect(quiet.destroyed).toBe(true);
      } finally {
        await api.close();
      }
    });
  }
  it('still sends the lines so far, and ends when they end, without follow', async () => {
    const api = await inProcessApp({ target: { ...idleTarget, logs: async () => Readable.from(['one\n', 'two\n']) } });
    try {
      expect((await api.app.inject({ method: 'POST', url: '/api/apps', headers: json, payload: { name: 'shop' } })).statusCode).toBe(201);
      for (const q of ['', '?follow=true']) {
        const res = await api.app.inject({ method: 'GET', url: `/api/apps/shop/logs${q}` });
        expect(res.statusCode).toBe(200);
        expect(res.body).toBe('one\ntwo\n');
      }
    } finally {
      await api.close();
    }
  });
});

describe('a connection after a refused body', () => {
  // Found with seed 3 (resets of ordinary requests): the body-idle timer of a body that was
  // refused (413) and left unread went on running, and when it fired it cut the connection,
  // which by then carried other requests.
  it('stays open for the requests that follow on it', async () => {
    const auth = { credentials: [], sessions: new Sessions(randomBytes(32), []), loginCodes: new LoginCodes(), insecureNoAuth: true };
    const app = await buildApp({ engine: server.engine, logger: false, auth, limits: { bodyIdleTimeoutMs: 300 } });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const url = new URL(await app.listen({ port: 0, host: '127.0.0.1' }));
      const send = (method: string, path: string, body?: string) =>
        new Promise<number | string>((resolve) => {
          const req = request(
            { host: '127.0.0.1', port: url.port, method, path, agent, headers: body ? { ...json, 'content-length': String(body.length) } : {} },
            (res) => {
              res.resume().on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
          req.end(body);
        });
      expect(await send('POST', '/api/apps', `{"name":"${'x'.repeat(1 << 16)}"}`)).toBe(400);
      expect(await send('POST', '/api/apps', `{"name":"${'x'.repeat((1 << 20) + 10)}"}`)).toBe(413);
      const statuses: Array<number | string> = [];
      for (const until = Date.now() + 1000; Date.now() < until; ) statuses.push(await send('GET', '/api/health'));
      expect(new Set(statuses)).toEqual(new Set([200]));
    } finally {
      agent.destroy();
      await app.close();
    }
  });
});

describe('a request line or headers over the size limit', () => {
  // Found with seed 3 (resets of ordinary requests): Fastify's 431 said nothing of closing the
  // connection and then closed it, so the client's next request on it was cut (ECONNRESET).
  const quiet = { info() {}, warn() {}, error() {} };
  const token = 'a-token-long-enough-1234';
  const servers = {
    api: async () => {
      const auth = { credentials: [], sessions: new Sessions(randomBytes(32), []), loginCodes: new LoginCodes(), insecureNoAuth: true };
      return { app: await buildApp({ engine: server.engine, logger: false, auth }), health: '/api/health' };
    },
    agent: async () => {
      const core = { version: 'test' } as unknown as AgentCore;
      return {
        app: buildAgentServer(core, quiet, { token, limits: { ports: { lo: 1024, hi: 65535 } }, artifacts: { root: server.dir, maxBytes: 1 } }),
        health: '/v1/health',
      };
    },
  };
  for (const [name, make] of Object.entries(servers)) {
    it(`${name}: is a 431 in the error shape that says Connection: close, and the next request gets its answer`, async () => {
      const { app, health } = await make();
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const url = new URL(await app.listen({ port: 0, host: '127.0.0.1' }));
        const send = (path: string) =>
          new Promise<{ status: number | string; headers?: Record<string, unknown>; body?: string }>((resolve) => {
            const req = request({ host: '127.0.0.1', port: url.port, path, agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
              let body = '';
              res.on('data', (b) => (body += b)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
            });
            req.on('error', (err: NodeJS.ErrnoException) => resolve({ status: err.code ?? 'error' }));
            req.end();
          });
        expect((await send(health)).status).toBe(200);
        const big = await send(`${health}?q=${'x'.repeat(20_000)}`);
        expect(big.status).toBe(431);
        expect(big.headers?.connection).toBe('close');
        expect(JSON.parse(big.body ?? '')).toMatchObject({ error: { code: 'HEADERS_TOO_LARGE' } });
        for (let i = 0; i < 5; i++) expect((await send(health)).status).toBe(200);
      } finally {
        agent.destroy();
        await app.close();
      }
    });
  }
});

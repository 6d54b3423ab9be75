/**
 * Inputs that used to crash or hang the server (issue 9, items 8–13 and 15): each now gets a
 * one-line 4xx `{ error: { code, message } }` and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../src/store/store.js';
import { inProcessApp, type InProcess } from './inputs-app.js';

let server: InProcess;
let store: Store;
let app: FastifyInstance;

beforeAll(async () => {
  server = await inProcessApp();
  ({ store, app } = server);
  expect((await app.inject({ method: 'POST', url: '/api/apps', payload: { name: 'shop' } })).statusCode).toBe(201);
});
afterAll(async () => server?.close());

type Reply = { status: number; body: { error?: { code: string; message: string } } & Record<string, unknown> };
const call = async (method: 'GET' | 'POST' | 'PATCH' | 'HEAD', url: string, payload?: object): Promise<Reply> => {
  const res = await app.inject({ method, url, ...(payload ? { payload } : {}) });
  return { status: res.statusCode, body: res.body ? (res.json() as Reply['body']) : {} };
};
/** A clear client error: 4xx, one line, naming what is wrong. */
const expectClientError = (r: Reply, names: RegExp) => {
  expect(r.status, JSON.stringify(r.body)).toBeGreaterThanOrEqual(400);
  expect(r.status, JSON.stringify(r.body)).toBeLessThan(500);
  expect(r.body.error?.message).toMatch(names);
  expect(r.body.error?.message).not.toContain('\n');
};

describe('query parameters are validated by their schemas (item 8)', () => {
  const lists = [
    '/api/audit?limit=',
    '/api/apps/shop/builds?limit=',
    '/api/apps/shop/releases?limit=',
    '/api/apps/shop/deployments?limit=',
    '/api/apps/shop/pipelines/runs?limit=',
  ];
  for (const url of lists) {
    for (const bad of ['Infinity', '-Infinity', '1e400', 'NaN', '0', '-1', '1.5', '99999999999999999999', 'abc']) {
      it(`GET ${url}${bad} is a 400 naming limit`, async () => {
        expectClientError(await call('GET', `${url}${encodeURIComponent(bad)}`), /limit/);
      });
    }
    it(`GET ${url}5 still works`, async () => {
      expect((await call('GET', `${url}5`)).status).toBe(200);
    });
  }
  it('the logs line count and boolean flags are checked too', async () => {
    expectClientError(await call('GET', '/api/apps/shop/logs?lines=Infinity'), /lines/);
    expectClientError(await call('GET', '/api/apps/shop/logs?lines=1e400'), /lines/);
    expectClientError(await call('GET', '/api/apps/shop/logs?follow=maybe'), /follow/);
    expectClientError(await call('GET', '/api/apps/shop/builds/B1/logs?follow=maybe'), /follow/);
  });
  it('every querystring of every route has a schema', async () => {
    const doc = (await call('GET', '/api/openapi.json')).body as unknown as {
      paths: Record<string, Record<string, { parameters?: { in: string; schema?: { type?: string } }[] }>>;
    };
    const untyped: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const p of op.parameters ?? []) if (p.in === 'query' && !p.schema?.type && !('anyOf' in (p.schema ?? {}))) untyped.push(`${method} ${path}`);
      }
    }
    expect(untyped).toEqual([]);
  });
});

const PROTO_KEYS = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];

describe('settings are validated by what the data plane accepts (items 9, 10)', () => {
  const settingsOf = async () => (await call('GET', '/api/apps/shop/envs/production/settings')).body.settings;
  it('a patch naming an inherited property is a 400 that names it, not a 500', async () => {
    const before = await settingsOf();
    for (const k of PROTO_KEYS) {
      const res = await app.inject({
        method: 'PATCH',
        url: '/api/apps/shop/envs/production/settings',
        headers: { 'content-type': 'application/json' },
        payload: `{"${k}":1}`,
      });
      const r = { status: res.statusCode, body: res.json() as Reply['body'] };
      expectClientError(r, k === '__proto__' ? /__proto__|prototype/ : new RegExp(`"${k}" is not a setting`));
    }
    expect(await settingsOf()).toEqual(before);
  });
  it('fractions are refused before they are saved, naming the field and the range', async () => {
    expect((await call('PATCH', '/api/apps/shop/envs/production/settings', { drainSeconds: 5, standbyMinutes: 2 })).status).toBe(200);
    const before = await settingsOf();
    expectClientError(
      await call('PATCH', '/api/apps/shop/envs/production/settings', { drainSeconds: 0.0001 }),
      /drainSeconds must be a whole number from 0 to 3600, got 0.0001/,
    );
    expectClientError(
      await call('PATCH', '/api/apps/shop/envs/production/settings', { standbyMinutes: 1.5 }),
      /standbyMinutes must be a whole number from 0 to 1440/,
    );
    expectClientError(
      await call('PATCH', '/api/apps/shop/envs/production/settings', { autoRollbackSeconds: 0.5 }),
      /autoRollbackSeconds must be a whole number from 0 to 3600/,
    );
    expectClientError(await call('PATCH', '/api/apps/shop/envs/production/settings', { standbyCount: 1.5, drainSeconds: 3 }), /standbyCount/);
    const huge = await app.inject({
      method: 'PATCH',
      url: '/api/apps/shop/envs/production/settings',
      headers: { 'content-type': 'application/json' },
      payload: '{"drainSeconds":1e400}',
    });
    expectClientError({ status: huge.statusCode, body: huge.json() }, /drainSeconds/);
    expect(await settingsOf()).toEqual(before);
  });
  it('a fraction saved before this check takes the server default instead of failing every deployment', async () => {
    const { effectiveSettings } = await import('../../src/domain/env-settings.js');
    const defaults = { standbyMinutes: 15, standbyCount: 1, autoRollbackSeconds: 60, drainSeconds: 30 };
    expect(effectiveSettings({ drainSeconds: 0.0001, standbyMinutes: 2 }, defaults)).toEqual({ ...defaults, standbyMinutes: 2 });
  });
});

describe('config keys named like Object.prototype members are plain data (item 9)', () => {
  const weird = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];
  let base: string;
  const releaseOf = async (id: string) =>
    (await call('GET', `/api/apps/shop/releases/${id}?env=production`)).body as { id: string; config: Record<string, string> };
  beforeAll(async () => {
    expect((await call('POST', '/api/apps/shop/envs', { name: 'staging', before: 'production' })).status).toBe(201);
    // A runnable-but-empty active release in both environments, so promotions and rollbacks have a base.
    const { makeRelease } = await import('../../src/domain/release.js');
    for (const env of ['staging', 'production']) {
      const r = makeRelease({
        app: 'shop',
        env,
        kind: 'build',
        builds: {},
        config: {},
        manifest: { components: {} },
        description: 'empty',
        source: null,
        createdBy: 'test',
      });
      await store.releases.insert(r);
      await store.apps.setActiveRelease('shop', env, r.id);
      if (env === 'production') base = r.id;
    }
  });
  it('env set, get, diff, unset, promote and roll back handle them like any other key', async () => {
    const set = await call('POST', '/api/apps/shop/env', { env: 'production', set: Object.fromEntries(weird.map((k) => [k, `v-${k}`])), promote: false });
    expect(set.status, JSON.stringify(set.body)).toBe(201);
    const withKeys = (set.body.release as { id: string }).id;
    expect((await releaseOf(withKeys)).config).toEqual(Object.fromEntries(weird.map((k) => [k, `v-${k}`])));
    expect((await call('GET', '/api/apps/shop/env?env=production')).body.config).toEqual(Object.fromEntries(weird.map((k) => [k, `v-${k}`])));

    const diff = await call('GET', `/api/apps/shop/diff?from=${base}&to=${withKeys}`);
    expect(diff.status, JSON.stringify(diff.body)).toBe(200);
    expect(diff.body.config).toEqual(weird.sort().map((key) => ({ key, action: 'add', from: null, to: `v-${key}` })));

    // Setting a key to the value it has is "nothing changes"; unsetting one that is set is a change.
    expectClientError(await call('POST', '/api/apps/shop/env', { env: 'production', set: { toString: 'v-toString' }, promote: false }), /nothing changes/);
    const unset = await call('POST', '/api/apps/shop/env', { env: 'production', unset: ['toString'], promote: false });
    expect(unset.status, JSON.stringify(unset.body)).toBe(201);
    const without = unset.body.release as { id: string; description: string };
    expect(without.description).toBe('env remove:toString');
    expect(Object.keys((await releaseOf(without.id)).config).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'valueOf']);
    expectClientError(await call('POST', '/api/apps/shop/env', { env: 'production', unset: ['toString'], promote: false }), /toString is not set/);
    const back = await call('GET', `/api/apps/shop/diff?from=${withKeys}&to=${without.id}`);
    expect(back.body.config).toEqual([{ key: 'toString', action: 'remove', from: 'v-toString', to: null }]);

    // Promotion staging → production carries production's own (newest) config: a plan, no 500.
    const promote = await call('POST', '/api/apps/shop/promote', { from: 'staging', to: 'production', dryRun: true });
    expect(promote.status, JSON.stringify(promote.body)).toBe(200);
    expect((promote.body.plan as { config: { key: string }[] }).config.map((c) => c.key)).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'valueOf']);

    // Rolling back to the release with every key, then reverting it.
    const rollback = await call('POST', '/api/apps/shop/rollback', { env: 'production', release: withKeys, dryRun: true });
    expect(rollback.status, JSON.stringify(rollback.body)).toBe(200);
    expect((rollback.body.plan as { config: { key: string; action: string }[] }).config).toEqual(
      weird.sort().map((key) => ({ key, action: 'add', from: null, to: `v-${key}` })),
    );
    const done = await call('POST', '/api/apps/shop/rollback', { env: 'production', release: withKeys });
    expect(done.status, JSON.stringify(done.body)).toBe(202);
    const deployment = (done.body.deployment as { id: string }).id;
    for (let i = 0; i < 100 && ['pending', 'running'].includes((await call('GET', `/api/deployments/${deployment}`)).body.state as string); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect((await call('GET', `/api/deployments/${deployment}`)).body.state).toBe('succeeded');
    const revert = await call('POST', `/api/apps/shop/releases/${(done.body.release as { id: string }).id}/revert`, { env: 'production', dryRun: true });
    expect(revert.status, JSON.stringify(revert.body)).toBe(200);
    // The rollback's only change over the release before it (`without`) is toString coming back.
    expect((revert.body.plan as { config: { key: string; action: string }[] }).config.map((c) => `${c.action}:${c.key}`)).toEqual(['remove:toString']);
  });
});

describe('HEAD on a stream answers the headers and ends (item 11)', () => {
  /** inject, failing instead of hanging when no answer comes. */
  const head = async (url: string) => {
    const res = await Promise.race([
      app.inject({ method: 'HEAD', url }),
      new Promise<never>((_, no) => setTimeout(() => no(new Error(`HEAD ${url} did not answer in 3 s`)), 3000)),
    ]);
    return res;
  };
  it('events, deployment events, run events and logs', async () => {
    const events = await head('/api/events');
    expect(events.statusCode).toBe(200);
    expect(events.headers['content-type']).toMatch(/text\/event-stream/);
    expect(events.body).toBe('');
    // A deployment that is still moving would stream forever: one made while the target holds it.
    const deployments = (await call('GET', '/api/apps/shop/deployments?env=production')).body as unknown as { id: string }[];
    if (deployments[0]) expect((await head(`/api/deployments/${deployments[0].id}/events`)).statusCode).toBe(200);
    expect((await head('/api/deployments/DNOTTHEREXX/events')).statusCode).toBe(404);
    expect((await head('/api/pipelines/runs/PNOTTHEREXX/events')).statusCode).toBe(404);
    const logs = await head('/api/apps/shop/logs?follow=true');
    expect(logs.statusCode).toBe(200);
    expect(logs.body).toBe('');
    expect((await head('/api/apps/nope/logs?follow=true')).statusCode).toBe(404);
    expect((await head('/api/apps/shop/builds/BNOTTHEREXX/logs?follow=true')).statusCode).toBe(404);
  });
  it('GET /api/events still streams', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/events', payloadAsStream: true });
    expect(res.statusCode).toBe(200);
    const stream = res.stream();
    const first = await new Promise<string>((ok) => stream.once('data', (b: Buffer) => ok(String(b))));
    expect(first).toContain(': connected');
    stream.destroy();
  });
});

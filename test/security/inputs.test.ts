/**
 * Inputs that used to crash or hang the server (issue 9, items 8–13 and 15): each now gets a
 * one-line 4xx `{ error: { code, message } }` and changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/api/app.js';
import { ArtifactStore } from '../../src/artifacts/artifact-store.js';
import { Engine } from '../../src/engine/engine.js';
import { Store } from '../../src/store/store.js';
import type { Target } from '../../src/targets/target.js';

/** A target that runs nothing and accepts every desired state. */
const idleTarget: Target = {
  apply: async (desired) => ({ ok: true, release: desired.release }),
  observe: async () => null,
  observeAll: async () => [],
  logs: async () => Readable.from([]),
  remove: async () => {},
  close: async () => {},
};

let dir: string;
let store: Store;
let engine: Engine;
let app: FastifyInstance;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rewind-inputs-'));
  store = await Store.openSqlite(dir);
  engine = new Engine({
    store,
    target: idleTarget,
    artifacts: new ArtifactStore(join(dir, 'artifacts')),
    dataDir: dir,
    log: pino({ level: 'silent' }),
    proxyHost: '127.0.0.1',
    maxUploadBytes: 1 << 20,
    defaults: { standbyMinutes: 15, standbyCount: 1, autoRollbackSeconds: 60, drainSeconds: 30 },
    buildTimeoutMs: 60_000,
  });
  // Authentication is not what these tests are about: the app is built without a token.
  app = await buildApp({ engine, logger: false });
  await app.ready();
  expect((await app.inject({ method: 'POST', url: '/api/apps', payload: { name: 'shop' } })).statusCode).toBe(201);
});
afterAll(async () => {
  await app?.close();
  await engine?.close();
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

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
    const doc = (await call('GET', '/api/openapi.json')).body as unknown as { paths: Record<string, Record<string, { parameters?: { in: string; schema?: { type?: string } }[] }>> };
    const untyped: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        for (const p of op.parameters ?? []) if (p.in === 'query' && !p.schema?.type && !('anyOf' in (p.schema ?? {}))) untyped.push(`${method} ${path}`);
      }
    }
    expect(untyped).toEqual([]);
  });
});

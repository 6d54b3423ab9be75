import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { ReleaseView } from '../../src/contract/index.js';
import type { Engine } from '../../src/engine/engine.js';
import { inProcessApp, type InProcess } from '../security/inputs-app.js';

interface Schema {
  readonly type?: string;
  readonly properties?: Record<string, Schema>;
  readonly items?: Schema;
}
interface Operation {
  readonly responses: Record<string, { readonly description: string; readonly content?: Record<string, { readonly schema?: Schema }> }>;
}
type Doc = { readonly paths: Record<string, Record<string, Operation>> };

describe('API responses', () => {
  let api: InProcess;
  let engine: Engine;
  let app: FastifyInstance;
  let doc: Doc;
  /** What each handler returned, before fast-json-stringify wrote it. */
  let returned: unknown;

  beforeAll(async () => {
    api = await inProcessApp({}, undefined, (a) =>
      a.addHook('preSerialization', async (_req, _reply, payload) => {
        returned = payload;
        return payload;
      }),
    );
    ({ engine, app } = api);
    const res = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    doc = res.json() as Doc;
  });
  afterAll(async () => {
    await api?.close();
  });

  const operations = () =>
    Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ at: `${method.toUpperCase()} ${path}`, path, op })),
    );
  const fields = (s: Schema | undefined): string[] => Object.keys((s?.type === 'array' ? s.items : s)?.properties ?? {});

  it('documents a success reply for every operation: JSON with its fields, else a stream or an empty 204', () => {
    const problems: string[] = [];
    const ops = operations();
    for (const { at, op } of ops) {
      const ok = Object.entries(op.responses).filter(([code]) => /^2\d\d$/.test(code));
      if (ok.length === 0) problems.push(`${at}: no 2xx reply`);
      for (const [code, r] of ok) {
        const media = Object.keys(r.content ?? {});
        if (code === '204') {
          if (media.length) problems.push(`${at}: 204 with a body`);
        } else if (media.includes('application/json')) {
          if (fields(r.content!['application/json'].schema).length === 0) problems.push(`${at}: ${code} has no fields`);
        } else if (media.length === 0 || media.some((m) => !['text/event-stream', 'text/plain', 'application/x-ndjson'].includes(m))) {
          problems.push(`${at}: ${code} documents no body (${media.join(', ') || r.description})`);
        }
      }
    }
    expect(problems).toEqual([]);
    // The hidden ones (health, the document itself, the console) stay out.
    expect(Object.keys(doc.paths)).not.toContain('/api/health');
    expect(ops.length).toBeGreaterThanOrEqual(35);
  });

  it('documents the error replies: 401 everywhere, 404 wherever a path names something, each { error: { code, message } }', () => {
    const problems: string[] = [];
    for (const { at, path, op } of operations()) {
      const errors = Object.entries(op.responses).filter(([code]) => /^4\d\d$|^503$/.test(code));
      if (!errors.some(([code]) => code === '401')) problems.push(`${at}: no 401`);
      if (/\{(app|id|env)\}/.test(path) && !errors.some(([code]) => code === '404')) problems.push(`${at}: no 404`);
      for (const [code, r] of errors) {
        const error = r.content?.['application/json']?.schema?.properties?.error;
        if (!['code', 'message', 'details'].every((f) => fields(error).includes(f))) problems.push(`${at}: ${code} is not an ApiError`);
      }
    }
    expect(problems).toEqual([]);
    expect(Object.keys(doc.paths['/api/apps'].post.responses).sort()).toEqual(['201', '400', '401', '409']);
  });

  it('names the fields of a release list, and of every kind of rollback reply', () => {
    const list = doc.paths['/api/apps/{app}/releases'].get.responses['200'].content!['application/json'].schema;
    expect(list?.type).toBe('array');
    expect(fields(list)).toEqual(expect.arrayContaining(['id', 'build', 'kind', 'description']));
    expect(fields(list).sort()).toEqual(Object.keys(ReleaseView.properties).sort());
    const rollback = doc.paths['/api/apps/{app}/rollback'].post.responses;
    expect(fields(rollback['200'].content!['application/json'].schema)).toEqual(['plan']);
    expect(fields(rollback['202'].content!['application/json'].schema)).toEqual(['release', 'deployment', 'plan']);
    expect(Object.keys(doc.paths['/api/deployments/{id}/events'].get.responses['200'].content!)).toEqual(['text/event-stream']);
    expect(Object.keys(doc.paths['/api/apps/{app}/exec'].post.responses['200'].content!)).toEqual(['application/x-ndjson']);
  });

  it('writes every field a handler returns (fast-json-stringify drops what a schema lacks)', async () => {
    const call = async (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: object) => {
      returned = undefined;
      const res = await app.inject({ method, url, ...(payload ? { payload } : {}) });
      expect(returned, `${method} ${url} returned JSON`).toBeDefined();
      expect(res.json(), `${method} ${url} (${res.statusCode})`).toEqual(JSON.parse(JSON.stringify(returned)));
      return { status: res.statusCode, body: res.json() as Record<string, never> };
    };
    expect((await call('POST', '/api/apps', { name: 'shop' })).status).toBe(201);
    expect((await call('POST', '/api/apps', { name: 'shop' })).body.error).toMatchObject({ code: 'APP_EXISTS' });
    expect((await call('GET', '/api/apps/nope')).status).toBe(404);
    expect((await call('POST', '/api/apps/shop/envs', { name: 'staging', before: 'production' })).status).toBe(201);
    await call('GET', '/api/apps');
    await call('GET', '/api/apps/shop');
    await call('GET', '/api/apps/shop/envs');
    const settings = await call('PATCH', '/api/apps/shop/envs/staging/settings', { standbyMinutes: 5, drainSeconds: 2 });
    expect(settings.body).toMatchObject({ settings: { standbyMinutes: 5, drainSeconds: 2 }, effective: { standbyCount: 1 } });
    await call('GET', '/api/apps/shop/envs/staging/settings');
    const first = await call('POST', '/api/apps/shop/env', { env: 'staging', set: { GREETING: 'hello', API_TOKEN: 's3cret' } });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ release: { kind: 'env', config: { GREETING: 'hello' } }, deployment: null });
    const second = await call('POST', '/api/apps/shop/env', { env: 'staging', set: { GREETING: 'hi' }, unset: ['API_TOKEN'] });
    const [a, b] = [first.body.release as { id: string }, second.body.release as { id: string }];
    await call('GET', '/api/apps/shop/env?env=staging');
    await call('GET', '/api/apps/shop/releases?env=staging');
    await call('GET', `/api/apps/shop/releases/${b.id}`);
    await call('GET', `/api/apps/shop/diff?from=${a.id}&to=${b.id}`);
    const dry = await call('POST', `/api/apps/shop/releases/${b.id}/revert`, { env: 'staging', dryRun: true });
    expect(dry.status).toBe(200);
    expect(Object.keys(dry.body)).toEqual(['plan']);
    const revert = await call('POST', `/api/apps/shop/releases/${b.id}/revert`, { env: 'staging' });
    expect(revert.status).toBe(202);
    const deployment = revert.body.deployment as { id: string } | null;
    expect(deployment).not.toBeNull();
    expect(revert.body.plan).toBeDefined();
    await engine.deployer.waitFor(deployment!.id);
    await call('GET', `/api/deployments/${deployment!.id}`);
    await call('GET', '/api/apps/shop/deployments?env=staging');
    await call('GET', '/api/apps/shop/ps?env=staging');
    await call('GET', '/api/apps/shop/builds');
    const bad = await call('PUT', '/api/apps/shop/pipelines', { pipelines: { ship: [{ deploy: { env: 'nowhere', colour: 'red' } }] } });
    expect(bad.status).toBe(400);
    expect(await call('PUT', '/api/apps/shop/pipelines', { pipelines: { ship: ['approval', { deploy: { env: 'staging' } }] } })).toMatchObject({ status: 200 });
    await call('GET', '/api/apps/shop/pipelines');
    await call('GET', '/api/apps/shop/pipelines/runs');
    await call('GET', '/api/apps/shop/stories');
    await call('GET', '/api/apps/shop/stories/SHOP-1');
    const audit = await call('GET', '/api/audit?app=shop');
    expect((audit.body as unknown as unknown[]).length).toBeGreaterThan(5);
  });
});

import Fastify, { type FastifyInstance } from 'fastify';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerErrorHandler } from '../../src/api/errors.js';
import { consoleRoutes } from '../../src/api/routes/console.js';

/** How the server hands out the built console: files, the SPA fallback, and never shadowing /api/. */
describe('console route', () => {
  let dir: string;
  let app: FastifyInstance;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rewind-web-'));
    await mkdir(join(dir, 'assets'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    await writeFile(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    app = Fastify();
    registerErrorHandler(app);
    app.get('/api/health', async () => ({ ok: true }));
    consoleRoutes(app, undefined, dir);
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves index.html at / and for every client route, uncached', async () => {
    for (const url of ['/', '/apps/shop', '/apps/shop/releases/RABCDEFGHIJ?env=staging']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('<div id="root">');
    }
  });

  it('serves hashed assets with a long cache, and 404s a missing file instead of sending the page', async () => {
    const js = await app.inject({ url: '/assets/index-abc123.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    expect((await app.inject({ url: '/assets/gone.js' })).statusCode).toBe(404);
  });

  it('never answers /api/ paths with the console, and never leaves its folder', async () => {
    expect((await app.inject({ url: '/api/health' })).json()).toEqual({ ok: true });
    const unknown = await app.inject({ url: '/api/nope' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('NOT_FOUND');
    for (const url of ['/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc%2fpasswd', '/assets/%2e%2e/%2e%2e/package.json']) {
      const res = await app.inject({ url });
      expect(res.body, url).not.toContain('root:');
      expect([200, 404]).toContain(res.statusCode);
      if (res.statusCode === 200) expect(res.body).toContain('<div id="root">');
    }
  });

  it('says how to build the console when it is not built', async () => {
    const bare = Fastify();
    consoleRoutes(bare, undefined, join(dir, 'missing'));
    const res = await bare.inject({ url: '/apps/shop' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
    await bare.close();
  });
});

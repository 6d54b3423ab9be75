/** A build that prints a lot (issue 9, item 12): its log is capped, memory stays flat, the API still shows it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { rawTarGz } from '../e2e/tarball.js';
import { inProcessApp, type InProcess } from './inputs-app.js';

let server: InProcess;
beforeAll(async () => {
  server = await inProcessApp({ maxUploadBytes: 10 << 20 });
  expect((await server.app.inject({ method: 'POST', url: '/api/apps', payload: { name: 'loud' } })).statusCode).toBe(201);
});
afterAll(async () => server?.close());

describe('a build that prints 100 MB', () => {
  it('keeps the first and last MiB in a 0600 file, says what was cut, and holds memory flat', async () => {
    const { app, engine, dir } = server;
    // 100 MB of numbered lines, then a last line to find at the end.
    const build = 'seq 1 20000000 | head -c 100000000; echo; echo THE-END';
    const tarball = rawTarGz([
      { name: 'rewind.yml', body: `components:\n  web:\n    command: node server.js\n    build: "${build}"\n` },
      { name: 'server.js', body: '' },
    ]);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const res = await app.inject({ method: 'POST', url: '/api/apps/loud/builds', headers: { 'content-type': 'application/gzip' }, payload: tarball });
    expect(res.statusCode, res.body).toBe(201);
    const id = (res.json() as { id: string }).id;
    // While it runs, the log so far is bounded too.
    const during = await app.inject({ method: 'GET', url: `/api/apps/loud/builds/${id}/logs` });
    expect(during.body.length).toBeLessThan(2.2 * 2 ** 20);
    await engine.builder.waitFor(id);
    clearInterval(sampler);
    const b = (await app.inject({ method: 'GET', url: `/api/apps/loud/builds/${id}` })).json() as { status: string };
    expect(b.status).toBe('succeeded');
    const logs = (await app.inject({ method: 'GET', url: `/api/apps/loud/builds/${id}/logs` })).body;
    expect(logs.length).toBeLessThan(2.2 * 2 ** 20);
    expect(logs).toMatch(/^--> manifest: rewind.yml \(web\)\n--> building web: seq 1 20000000[^\n]*\n1\n2\n3\n/);
    expect(logs).toMatch(/\n… \d{8,} bytes cut \(the first and last 1 MiB are kept; REWIND_LOG_KEEP_MB sets it\) …\n/);
    expect(logs).toMatch(/THE-END\n--> web: slug [0-9a-f]{12}[^\n]*\n--> build B[A-Z]{10} succeeded\n--> release R[A-Z]{10} created\n$/);
    const file = join(dir, 'build-logs', `${id}.log`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(file)).size).toBeLessThan(2.2 * 2 ** 20);
    // Not in the database either (it grew by 390 MB for 200 MB of output).
    expect((await stat(join(dir, 'rewind.db'))).size).toBeLessThan(10 * 2 ** 20);
    // Loosely: printing 100 MB used to hold several hundred MB; now a few MiB of log are in memory.
    expect(peak - before).toBeLessThan(150 * 2 ** 20);
  });
});

describe('build log files', () => {
  it('go with their app', async () => {
    const { app, engine, dir } = server;
    expect((await app.inject({ method: 'POST', url: '/api/apps', payload: { name: 'gone' } })).statusCode).toBe(201);
    const tarball = rawTarGz([
      { name: 'rewind.yml', body: 'components:\n  web:\n    command: node server.js\n    build: echo hi\n' },
      { name: 'server.js', body: '' },
    ]);
    const res = await app.inject({ method: 'POST', url: '/api/apps/gone/builds', headers: { 'content-type': 'application/gzip' }, payload: tarball });
    const id = (res.json() as { id: string }).id;
    await engine.builder.waitFor(id);
    const file = join(dir, 'build-logs', `${id}.log`);
    expect((await stat(file)).size).toBeGreaterThan(0);
    expect((await app.inject({ method: 'DELETE', url: '/api/apps/gone' })).statusCode).toBe(204);
    await expect(stat(file)).rejects.toThrow(/ENOENT/);
  });
});

describe('a component named constructor', () => {
  it('is built and released like any other', async () => {
    const { app, engine } = server;
    const tarball = rawTarGz([
      { name: 'rewind.yml', body: 'components:\n  constructor:\n    command: node server.js\n' },
      { name: 'server.js', body: '' },
    ]);
    const res = await app.inject({ method: 'POST', url: '/api/apps/loud/builds', headers: { 'content-type': 'application/gzip' }, payload: tarball });
    expect(res.statusCode, res.body).toBe(201);
    const id = (res.json() as { id: string }).id;
    await engine.builder.waitFor(id);
    const build = (await app.inject({ method: 'GET', url: `/api/apps/loud/builds/${id}` })).json() as { status: string; release: string };
    expect(build.status).toBe('succeeded');
    const release = (await app.inject({ method: 'GET', url: `/api/apps/loud/releases/${build.release}` })).json() as { builds: Record<string, string> };
    expect(release.builds).toEqual({ constructor: id });
  });
});

describe('a pipeline run task that prints 30 MB', () => {
  it('logs its first and last thousand lines and a line saying what was cut', async () => {
    const { app, engine } = server;
    const define = await app.inject({
      method: 'PUT',
      url: '/api/apps/loud/pipelines',
      payload: { pipelines: { spam: [{ run: { env: 'production', command: 'seq 1 4000000 | head -c 30000000; echo; echo THE-END' } }] } },
    });
    expect(define.statusCode, define.body).toBe(200);
    const started = await app.inject({ method: 'POST', url: '/api/apps/loud/pipelines/spam/runs', payload: {} });
    expect(started.statusCode, started.body).toBe(201);
    const id = (started.json() as { id: string }).id;
    let status = 'running';
    for (let i = 0; i < 300 && (status === 'running' || status === 'waiting'); i++) {
      await new Promise((r) => setTimeout(r, 100));
      status = ((await app.inject({ method: 'GET', url: `/api/pipelines/runs/${id}` })).json() as { status: string }).status;
    }
    const lines = ((await app.inject({ method: 'GET', url: `/api/pipelines/runs/${id}/logs` })).json() as { message: string }[]).map((l) => l.message);
    const bytes = lines.reduce((n, l) => n + l.length + 1, 0);
    expect(bytes).toBeLessThan(2.2 * 2 ** 20);
    expect(lines).toContain('1');
    expect(
      lines.filter((l) => /^… \d+ bytes cut \(\d+ lines; the first and last 1 MiB \(at most 1000 lines\) are kept; REWIND_LOG_KEEP_MB sets it\) …$/.test(l)),
    ).toHaveLength(1);
    expect(lines.length).toBeLessThan(2100);
    expect(lines).toContain('THE-END');
    void engine;
  });
});

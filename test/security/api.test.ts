/**
 * Every route of the API (each operation in /api/openapi.json, and the undocumented ones) against
 * the doors of issue 9: no credential, a wrong one, percent-encoded paths, a foreign Host, a
 * foreign Origin, a wrong content type. None may answer 2xx or change anything: the store and the
 * target are compared before and after.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthOptions } from '../../src/api/auth.js';
import { LoginCodes, Sessions, findCredential, newToken, tokenDigest } from '../../src/api/credentials.js';
import type { Target } from '../../src/targets/target.js';
import { inProcessApp, type InProcess } from './inputs-app.js';

const TOKEN = newToken();
const credentials = [{ name: 'admin', digest: tokenDigest(TOKEN) }];
const auth: AuthOptions = {
  credentials,
  sessions: new Sessions(randomBytes(32), credentials),
  loginCodes: new LoginCodes(),
  publicHosts: ['rewind.example.com'],
};
const BEARER = { authorization: `Bearer ${TOKEN}` };
/** Routes that answer without a credential (the login); each still refuses to do anything without one. */
const PUBLIC = new Set(['POST /api/auth/session']);

/** A target that runs nothing and counts every call that would change what runs. */
const changes: string[] = [];
const countingTarget: Target = {
  apply: async (desired) => {
    changes.push(`apply ${desired.app}/${desired.env}`);
    return { ok: true, release: desired.release };
  },
  observe: async () => null,
  observeAll: async () => [],
  logs: async () => Readable.from([]),
  remove: async (app, env) => void changes.push(`remove ${app}/${env}`),
  close: async () => {},
};

type Doc = { paths: Record<string, Record<string, unknown>> };

describe('API: no way in without a credential', () => {
  let api: InProcess;
  let routes: Array<{ method: string; url: string }>;

  /** What a change would touch: the store's rows and the target's calls. */
  const snapshot = async () => {
    const db = (api.store as unknown as { db: import('kysely').Kysely<Record<string, Record<string, unknown>>> }).db;
    const tables = ['apps', 'environments', 'builds', 'releases', 'deployments', 'audit_log', 'pipeline_runs'];
    const counts: Record<string, unknown> = {};
    for (const t of tables) {
      counts[t] = await db
        .selectFrom(t)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirst()
        .then((r) => r?.n)
        .catch(() => 'no table');
    }
    const envs = await db
      .selectFrom('environments')
      .selectAll()
      .execute()
      .catch(() => []);
    return JSON.stringify({ counts, envs, changes: [...changes] });
  };

  beforeAll(async () => {
    api = await inProcessApp({ target: countingTarget }, auth);
    expect(
      (await api.app.inject({ method: 'POST', url: '/api/apps', headers: { ...BEARER, 'content-type': 'application/json' }, payload: { name: 'shop' } }))
        .statusCode,
    ).toBe(201);
    const doc = (await api.app.inject({ method: 'GET', url: '/api/openapi.json', headers: BEARER })).json() as Doc;
    const concrete = (path: string) =>
      path
        .replace('{app}', 'shop')
        .replace('{env}', 'production')
        .replace(/\{[^}]+\}/g, 'RAAAAAAAAAA');
    routes = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => ({ method: m.toUpperCase(), url: concrete(path) })));
    // Not in the document, but routes all the same.
    routes.push({ method: 'GET', url: '/api/openapi.json' }, { method: 'GET', url: '/api/nothing-here' }, { method: 'POST', url: '/api/nothing-here' });
    changes.length = 0;
  });
  afterAll(async () => {
    await api?.close();
  });

  it('covers every documented operation, SSE streams and uploads included', () => {
    const keys = routes.map((r) => `${r.method} ${r.url}`);
    expect(routes.length).toBeGreaterThan(40);
    for (const expected of [
      'GET /api/events',
      'POST /api/apps/shop/exec',
      'DELETE /api/apps/shop',
      'POST /api/apps/shop/builds',
      'POST /api/apps/shop/pipelines/RAAAAAAAAAA/runs',
    ]) {
      expect(keys).toContain(expected);
    }
  });

  const send = (method: string, url: string, headers: Record<string, string>, payload?: string) =>
    api.app.inject({ method: method as 'GET', url, headers: { host: '127.0.0.1:7070', ...headers }, ...(payload !== undefined ? { payload } : {}) });
  const jsonBody = (method: string) => (method === 'GET' || method === 'HEAD' || method === 'DELETE' ? undefined : '{}');

  /** The percent-encoded spellings of `/api/…` that the router decodes (finding 1). */
  const encoded = (url: string) => [
    url.replace('/api/', '/%61pi/'),
    url.replace('/api/', '/ap%69/'),
    url.replace('/api/', '/%61%70%69/'),
    url.replace('/api/', '/API/'),
    url.replace('/api/', '//api/'),
  ];

  it('refuses every route without a credential, with a wrong one, and by every encoded path (401, nothing changes)', async () => {
    const before = await snapshot();
    const bad: string[] = [];
    for (const { method, url } of routes) {
      const json = { 'content-type': 'application/json' };
      const tries: Array<[string, string, Record<string, string>]> = [
        ['none', url, json],
        ['wrong token', url, { ...json, authorization: `Bearer ${newToken()}` }],
        ['not bearer', url, { ...json, authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }],
        ['forged cookie', url, { ...json, cookie: 'rewind_session=v1.YWRtaW4.99999999999999.0000000000000000.AAAA' }],
        ['actor header', url, { ...json, 'x-rewind-actor': 'ceo@company.com' }],
        ...encoded(url).map((u): [string, string, Record<string, string>] => [`encoded ${u}`, u, json]),
      ];
      for (const [what, u, headers] of tries) {
        const res = await send(method, u, headers, jsonBody(method));
        // The login takes its token in the body: without one it is a 400, never a way in.
        const expected = PUBLIC.has(`${method} ${decodeURIComponent(u)}`) ? 400 : 401;
        if (res.statusCode !== expected) bad.push(`${method} ${u} (${what}): ${res.statusCode}, not ${expected}`);
      }
    }
    expect(bad).toEqual([]);
    expect(await snapshot()).toBe(before);
  });

  it('answers a foreign Host with 421 before anything else, credential or not (DNS rebinding)', async () => {
    const before = await snapshot();
    const bad: string[] = [];
    for (const { method, url } of routes) {
      for (const host of ['rebind.attacker.example', 'rebind.attacker.example:7070', 'localhost.attacker.example', '127.0.0.1.nip.io', 'shop.localhost']) {
        const res = await send(method, url, { ...BEARER, host, 'content-type': 'application/json' }, jsonBody(method));
        if (res.statusCode !== 421) bad.push(`${method} ${url} Host ${host}: ${res.statusCode}`);
      }
    }
    // The console's own files too: a rebound page must not read them either.
    for (const url of ['/', '/apps/shop', '/login?token=x', '/api/health']) {
      const res = await send('GET', url, { host: 'rebind.attacker.example' });
      if (res.statusCode !== 421) bad.push(`GET ${url}: ${res.statusCode}`);
    }
    expect(bad).toEqual([]);
    expect(await snapshot()).toBe(before);
  });

  it('accepts the hosts the server is reached by: loopback names, IP literals and --public-url', async () => {
    for (const host of ['127.0.0.1:7070', 'localhost:7070', 'LOCALHOST', '[::1]:7070', '10.1.2.3:7070', 'rewind.example.com']) {
      const res = await send('GET', '/api/apps', { ...BEARER, host });
      expect(res.statusCode, host).toBe(200);
    }
  });

  it('refuses a change from a foreign Origin, or sent as a form (403/415), even with a valid credential', async () => {
    const before = await snapshot();
    const bad: string[] = [];
    for (const { method, url } of routes.filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method))) {
      const origins = ['http://attacker.example', 'null', 'http://127.0.0.1:9999', 'http://localhost:7070.attacker.example'];
      for (const origin of origins) {
        const res = await send(method, url, { ...BEARER, origin, 'content-type': 'application/json' }, jsonBody(method));
        if (res.statusCode !== 403) bad.push(`${method} ${url} Origin ${origin}: ${res.statusCode}`);
      }
      const crossSite = await send(method, url, { ...BEARER, 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }, jsonBody(method));
      if (crossSite.statusCode !== 403) bad.push(`${method} ${url} Sec-Fetch-Site cross-site: ${crossSite.statusCode}`);
      if (method === 'DELETE') continue;
      // What an HTML form or a "simple" fetch can send without a preflight, and no body at all.
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', undefined]) {
        const res = await send(method, url, { ...BEARER, ...(type ? { 'content-type': type } : {}) }, type ? 'x=1' : undefined);
        if (res.statusCode !== 415) bad.push(`${method} ${url} content-type ${type}: ${res.statusCode}`);
      }
    }
    expect(bad).toEqual([]);
    expect(await snapshot()).toBe(before);
  });

  it("takes a change from the server's own origin, and records the credential's name as the actor, never a header", async () => {
    const res = await send(
      'POST',
      '/api/apps',
      { ...BEARER, origin: 'http://127.0.0.1:7070', 'content-type': 'application/json', 'x-rewind-actor': 'ceo@company.com' },
      '{"name":"blog"}',
    );
    expect(res.statusCode).toBe(201);
    const audit = (await send('GET', '/api/audit?app=blog', BEARER)).json() as Array<{ actor: string; action: string }>;
    expect(audit.map((a) => a.actor)).toEqual(['admin']);
    expect((await send('GET', '/api/auth/whoami', { 'x-rewind-actor': 'ceo', ...BEARER })).json()).toEqual({ name: 'admin', via: 'token' });
  });

  it('answers an unknown path under /api with 404 and a known one with another method with 405, both only after authentication', async () => {
    expect((await send('GET', '/api/nope', {})).statusCode).toBe(401);
    expect((await send('GET', '/api/nope', BEARER)).statusCode).toBe(404);
    const wrong = await send('PUT', '/api/apps/shop/exec', { ...BEARER, 'content-type': 'application/json' }, '{}');
    expect(wrong.statusCode).toBe(405);
    expect(wrong.headers.allow).toBe('POST');
    expect((await send('HEAD', '/api/apps/shop/exec', BEARER)).statusCode).toBe(405);
    expect((await send('HEAD', '/api/apps', BEARER)).statusCode).toBe(200);
  });

  it('logs the console in with a one-time link as an HttpOnly, SameSite=Strict cookie that then works as the credential', async () => {
    const code = auth.loginCodes.issue(credentials[0]);
    const login = await send('GET', `/login?token=${code}`, {});
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/');
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/^rewind_session=v1\.[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    const cookie = setCookie.split(';')[0];
    expect((await send('GET', '/api/auth/whoami', { cookie })).json()).toEqual({ name: 'admin', via: 'cookie' });
    // Once only.
    expect((await send('GET', `/login?token=${code}`, {})).statusCode).toBe(401);
    // The cookie is a credential for reads and same-origin changes, not for cross-site ones.
    expect(
      (await send('POST', '/api/apps', { cookie, 'content-type': 'application/json', origin: 'http://attacker.example' }, '{"name":"evil"}')).statusCode,
    ).toBe(403);
    expect(
      (await send('POST', '/api/apps', { cookie, 'content-type': 'application/json', origin: 'http://127.0.0.1:7070' }, '{"name":"mine"}')).statusCode,
    ).toBe(201);
    // A tampered cookie is no credential.
    const tampered = cookie.replace(/\.(\d+)\./, (_m, n: string) => `.${Number(n) + 1}.`);
    expect((await send('GET', '/api/apps', { cookie: tampered })).statusCode).toBe(401);
    const out = await send('DELETE', '/api/auth/session', { cookie });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toContain('Max-Age=0');
  });

  it('exchanges a pasted token for the cookie, and refuses a wrong one', async () => {
    expect((await send('POST', '/api/auth/session', { 'content-type': 'application/json' }, JSON.stringify({ token: 'nope' }))).statusCode).toBe(401);
    const ok = await send('POST', '/api/auth/session', { 'content-type': 'application/json' }, JSON.stringify({ token: TOKEN }));
    expect(ok.statusCode).toBe(200);
    expect(String(ok.headers['set-cookie'])).toContain('HttpOnly; SameSite=Strict');
    // The login itself is a change: not from another site.
    expect(
      (await send('POST', '/api/auth/session', { 'content-type': 'application/json', origin: 'http://attacker.example' }, JSON.stringify({ token: TOKEN })))
        .statusCode,
    ).toBe(403);
  });

  it('never echoes a token in an error', async () => {
    const wrong = newToken();
    const res = await send('GET', '/api/apps', { authorization: `Bearer ${wrong}` });
    expect(res.body).not.toContain(wrong);
    const login = await send('POST', '/api/auth/session', { 'content-type': 'application/json' }, JSON.stringify({ token: wrong }));
    expect(login.body).not.toContain(wrong);
  });
});

describe('credentials', () => {
  it('compares digests of tokens, finds the one that matches and nothing for any other', () => {
    const a = newToken();
    const b = newToken();
    const list = [
      { name: 'a', digest: tokenDigest(a) },
      { name: 'b', digest: tokenDigest(b) },
    ];
    expect(findCredential(list, a)?.name).toBe('a');
    expect(findCredential(list, b)?.name).toBe('b');
    expect(findCredential(list, `${a}x`)).toBeNull();
    expect(findCredential(list, '')).toBeNull();
    expect(a).toMatch(/^rwd_[A-Za-z0-9_-]{43}$/);
  });

  it('signs sessions: an expired one, one of a removed token or one signed with another key is refused', () => {
    const token = newToken();
    const cred = { name: 'admin', digest: tokenDigest(token) };
    const key = randomBytes(32);
    const sessions = new Sessions(key, [cred], 1000);
    const cookie = sessions.issue(cred, 0);
    expect(sessions.verify(cookie, 500)?.name).toBe('admin');
    expect(sessions.verify(cookie, 1500)).toBeNull();
    expect(new Sessions(key, [], 1000).verify(cookie, 500)).toBeNull();
    expect(new Sessions(randomBytes(32), [cred], 1000).verify(cookie, 500)).toBeNull();
  });

  it('spends a login code once, and not after it expired', () => {
    const cred = { name: 'admin', digest: tokenDigest('x') };
    const codes = new LoginCodes(1000, 2);
    const c1 = codes.issue(cred, 0);
    expect(codes.consume(c1, 10)?.name).toBe('admin');
    expect(codes.consume(c1, 10)).toBeNull();
    const c2 = codes.issue(cred, 0);
    expect(codes.consume(c2, 2000)).toBeNull();
    // At most `max` are outstanding: the oldest goes first.
    const [x, y, z] = [codes.issue(cred, 0), codes.issue(cred, 0), codes.issue(cred, 0)];
    expect(codes.consume(x, 10)).toBeNull();
    expect(codes.consume(y, 10)?.name).toBe('admin');
    expect(codes.consume(z, 10)?.name).toBe('admin');
  });
});

/**
 * A real `rewind server` as `npm start` runs it: authentication by default with no set-up for the
 * CLI on the same machine, a one-time console login, private files, and no way around the token
 * by spelling the path differently.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { existsSync, statSync } from 'node:fs';
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rewind, fixtureApp } from '../e2e/harness.js';

const mode = (path: string) => (statSync(path).mode & 0o777).toString(8);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a server started as npm start starts it', () => {
  let rw: Rewind;
  let dir: string;
  const marker = join('/tmp', `rewind-sec-${process.pid}-${Date.now()}`);

  beforeAll(async () => {
    // Short connection limits, so that the slow-client checks take a second, not a minute.
    rw = await Rewind.start({ REWIND_HEADERS_TIMEOUT_S: '1', REWIND_BODY_IDLE_TIMEOUT_S: '1', REWIND_MAX_CONNECTIONS: '200' });
    dir = await fixtureApp({ version: 'v1' });
    const deploy = await rw.cli(['apps', 'create', 'shop']);
    expect(deploy.code, deploy.stderr).toBe(0);
    const d = await rw.cli(['deploy', dir, '-a', 'shop']);
    expect(d.code, d.stderr).toBe(0);
  });
  afterAll(async () => {
    await rw?.stop();
    await rm(dir, { recursive: true, force: true });
    await rm(marker, { force: true });
  });

  it('makes an admin token on first start, 0600, and keeps the data dir and database private', async () => {
    expect(rw.token).toMatch(/^rwd_[A-Za-z0-9_-]{43}$/);
    expect(mode(join(rw.dataDir, 'admin.token'))).toBe('600');
    expect(mode(join(rw.dataDir, 'session.key'))).toBe('600');
    expect(mode(rw.dataDir)).toBe('700');
    for (const f of ['rewind.db', 'rewind.db-wal', 'server.log']) {
      if (existsSync(join(rw.dataDir, f))) expect(mode(join(rw.dataDir, f)), f).toBe('600');
    }
    expect(existsSync(join(rw.dataDir, 'rewind.db-wal'))).toBe(true);
  });

  it('answers nobody without the token, whatever the spelling of the path', async () => {
    for (const path of ['/api/apps', '/%61pi/apps', '/ap%69/apps/shop', '/%61%70%69/apps', '/api/events', '/api/nope']) {
      const res = await fetch(`${rw.url}${path}`);
      expect(res.status, path).toBe(401);
    }
    for (const path of ['/api/apps/shop/exec', '/%61pi/apps/shop/exec', '/ap%69/apps/shop/exec', '/%61%70%69/apps/shop/exec']) {
      const res = await fetch(`${rw.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ command: `id > ${marker}` }),
      });
      expect(res.status, path).toBe(401);
    }
    for (const path of ['/%61pi/apps/shop', '/api/apps/shop']) expect((await fetch(`${rw.url}${path}`, { method: 'DELETE' })).status).toBe(401);
    await sleep(300);
    expect(existsSync(marker)).toBe(false);
    expect((await rw.api('/api/apps/shop')).status).toBe(200);
  });

  it('lets the CLI on the same machine in with no set-up, and never sends that token to another server', async () => {
    const ok = await rw.cli(['apps']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('shop');
    // The same user's data dir, but REWIND_HOST is some other server: it must not get the token.
    const seen: IncomingHttpHeaders[] = [];
    const other = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"code":"UNAUTHORIZED","message":"no"}}');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const port = (other.address() as { port: number }).port;
    const r = await rw.cli(['apps'], { env: { REWIND_HOST: `http://127.0.0.1:${port}` } });
    other.close();
    expect(r.code).not.toBe(0);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((h) => h.authorization === undefined)).toBe(true);
  });

  it("records the token's name as the actor, not the X-Rewind-Actor header", async () => {
    const res = await rw.api('/api/apps', { method: 'POST', body: JSON.stringify({ name: 'blog' }), headers: { 'x-rewind-actor': 'ceo@company.com' } });
    expect(res.status).toBe(201);
    const audit = (await rw.api<Array<{ actor: string; action: string; app: string | null }>>('/api/audit')).body;
    expect(audit.find((a) => a.action === 'app.create' && a.app === 'blog')?.actor).toBe('admin');
    expect(audit.some((a) => a.actor === 'ceo@company.com')).toBe(false);
  });

  it('prints a one-time console login link that sets an HttpOnly, SameSite=Strict cookie', async () => {
    const link = /Console: (http:\/\/\S+\/login\?token=\S+)/.exec(rw.serverLog)?.[1];
    expect(link, rw.serverLog).toBeDefined();
    const first = await fetch(link!, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const cookie = first.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    const apps = await fetch(`${rw.url}/api/apps`, { headers: { cookie: cookie.split(';')[0] } });
    expect(apps.status).toBe(200);
    expect((await fetch(link!, { redirect: 'manual' })).status).toBe(401);
    // `rewind console` makes a new one.
    const again = await rw.cli(['console']);
    expect(again.code, again.stderr).toBe(0);
    const next = /^(http:\/\/\S+\/login\?token=\S+)$/m.exec(again.stdout)?.[1];
    expect((await fetch(next!, { redirect: 'manual' })).status).toBe(303);
  });

  it('never writes a token into a log, the audit log or the database', async () => {
    await rw.api('/api/apps', { headers: { authorization: 'Bearer rwd_wrongwrongwrong' } });
    const files: string[] = [];
    const walk = async (d: string) => {
      for (const e of await readdir(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) {
          if (e.name !== 'artifacts' && e.name !== 'slugs') await walk(p);
        } else if (!['admin.token', 'session.key'].includes(e.name)) files.push(p);
      }
    };
    await walk(rw.dataDir);
    expect(files.some((f) => f.endsWith('rewind.db'))).toBe(true);
    for (const f of files) {
      const text = await readFile(f, 'latin1');
      expect(text.includes(rw.token), f).toBe(false);
      expect(text.includes('rwd_wrongwrongwrong'), f).toBe(false);
    }
  });

  it('closes half-sent requests and stalled bodies, and caps the number of connections', async () => {
    const open = (text: string) =>
      new Promise<Socket>((resolve, reject) => {
        const s = connect(Number(new URL(rw.url).port), '127.0.0.1', () => {
          s.write(text);
          resolve(s);
        });
        s.on('error', () => {});
        s.once('error', reject);
        s.resume(); // read what the server answers, so its close is seen
      });
    const closedWithin = (s: Socket, ms: number) =>
      new Promise<boolean>((resolve) => {
        if (s.destroyed || s.readableEnded) return resolve(true);
        const t = setTimeout(() => resolve(false), ms);
        s.once('close', () => {
          clearTimeout(t);
          resolve(true);
        });
      });
    const slowHeaders = await Promise.all(Array.from({ length: 50 }, () => open('GET /api/apps HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ')));
    const slowBody = await open(
      `POST /api/apps HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${rw.token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"nam`,
    );
    const closed = await Promise.all([...slowHeaders, slowBody].map((s) => closedWithin(s, 8000)));
    expect(closed.filter(Boolean).length).toBe(51);
    // Past the cap, new connections are refused at once, and the server still answers after.
    const many = await Promise.all(Array.from({ length: 220 }, () => open('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n')));
    await sleep(300);
    expect(many.filter((s) => s.destroyed).length).toBeGreaterThanOrEqual(15);
    for (const s of many) s.destroy();
    await sleep(200);
    expect((await fetch(`${rw.url}/api/health`)).status).toBe(200);
  });
});

describe('--insecure-no-auth', () => {
  it('serves without a credential and says so', async () => {
    const { spawn } = await import('node:child_process');
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const data = await mkdtemp(join(tmpdir(), 'rewind-noauth-'));
    const child = spawn(
      process.execPath,
      [join(import.meta.dirname, '..', '..', 'bin', 'rewind.js'), 'server', '--port', '0', '--data', data, '--insecure-no-auth'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    try {
      const deadline = Date.now() + 20_000;
      // The hints come in their own write after the listening line: wait for them too.
      while (!/listening on (\S+)[\s\S]*Console: /.test(out) && Date.now() < deadline) await sleep(50);
      const url = /listening on (\S+)/.exec(out)?.[1];
      expect(url, out).toBeDefined();
      expect(out).toContain('no authentication');
      expect((await fetch(`${url}/api/apps`)).status).toBe(200);
      expect(existsSync(join(data, 'admin.token'))).toBe(true);
      // The other doors stay shut: a foreign Host, a cross-site change.
      expect((await fetch(`${url}/api/apps`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"name":"x"}' })).status).toBe(415);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      const agent = JSON.parse(await readFile(join(data, 'agent', 'agent.json'), 'utf8').catch(() => '{}')) as { pid?: number };
      if (agent.pid) process.kill(agent.pid, 'SIGKILL');
      await rm(data, { recursive: true, force: true });
    }
  });
});

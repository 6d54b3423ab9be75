/**
 * Issue 9, item 2: the agent's own API. Only the holder of its token gets an answer (a foreign
 * Host, an Origin, a wrong content type are refused even with it), nothing changes for anyone
 * else, and the agent refuses input it cannot bound: artifacts outside its store (`/etc/shadow`,
 * `/dev/zero`), ports outside its range, absurd sizes. Its folder is 0700, its token and logs 0600,
 * and its slugs keep no setuid bit. A real `rewind agent` stops on SIGTERM while hashing.
 */
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as tar from 'tar';
import { request } from 'undici';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningAgent } from '../../src/agent/agent-main.js';
import { runAgent } from '../../src/agent/agent-main.js';
import { freePort, isAlive, markedLeaders } from '../../src/agent/proc-info.js';
import { sha256File } from '../../src/agent/slug-cache.js';
import type { DesiredState } from '../../src/protocol/agent-protocol.js';
import { readAgentToken } from '../../src/protocol/agent-token.js';
import {
  FIXTURES,
  auth,
  clientOf,
  deploy,
  desiredState,
  packApp,
  removeTempDirs,
  stopAgent,
  tempDir,
  useArtifactRoot,
  waitFor,
  web,
} from '../agent/helpers.js';
import type { Artifact } from '../agent/helpers.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'rewind.js');
const mode = (path: string) => statSync(path).mode & 0o7777;

let dataRoot: string;
let agentDir: string;
let artifacts: string;
let agent: RunningAgent;
let proxyPort: number;
let edgePort: number;
let v1: Artifact;
let v2: Artifact;
const others: Array<{ agent: RunningAgent | undefined; dir: string }> = [];

beforeAll(async () => {
  dataRoot = tempDir('rewind-security-');
  agentDir = join(dataRoot, 'agent');
  // The agent's default store: <rewind data>/artifacts, beside its own folder.
  artifacts = useArtifactRoot(join(dataRoot, 'artifacts'));
  [v1, v2] = await Promise.all([packApp('v1'), packApp('v2')]);
  agent = await runAgent({ dataDir: agentDir, port: 0, log: false, stopGraceMs: 2000 });
  proxyPort = await freePort();
  edgePort = await freePort();
  const first = await deploy(agent, desiredState('RONE', proxyPort, [web(v1, { scale: 2 })]));
  expect(first.result).toMatchObject({ ok: true });
});

afterAll(async () => {
  for (const o of others) await stopAgent(o.agent, o.dir);
  await stopAgent(agent, agentDir);
  removeTempDirs();
});

interface Route {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly body?: () => unknown;
}

const marker = () => join(dataRoot, 'exec-ran');

/** Every route of the agent (and two it does not have: their 404 comes only after authentication). */
const ROUTES: readonly Route[] = [
  { method: 'GET', path: '/v1/health' },
  { method: 'HEAD', path: '/v1/health' },
  { method: 'GET', path: '/v1/state' },
  { method: 'GET', path: '/v1/apps/shop/production' },
  { method: 'DELETE', path: '/v1/apps/shop/production' },
  { method: 'POST', path: '/v1/apps/shop/production/snapshot', body: () => ({}) },
  { method: 'POST', path: '/v1/deploy', body: () => desiredState('REVIL', proxyPort, [web(v2, { scale: 3 })]) },
  { method: 'POST', path: '/v1/apps/shop/production/exec', body: () => ({ command: `touch ${marker()}; sleep 30` }) },
  { method: 'GET', path: '/v1/apps/shop/production/logs?lines=5' },
  { method: 'GET', path: '/v1/apps/shop/production/logs?follow=1' },
  { method: 'GET', path: '/%76%31/state' },
  // The Swarm edge: routes to tasks on other hosts.
  { method: 'GET', path: '/v1/edge' },
  { method: 'GET', path: '/v1/edge/shop/production' },
  { method: 'PUT', path: '/v1/edge/shop/production', body: () => ({ port: edgePort, fence: 1, upstreams: [{ host: '127.0.0.1', port: proxyPort }] }) },
  { method: 'DELETE', path: '/v1/edge/shop/production' },
  { method: 'GET', path: '/%76%31/edge' },
  { method: 'GET', path: '/v1/nothing-here' },
  { method: 'POST', path: '/v1/nothing-here', body: () => ({}) },
];

interface Variant {
  readonly name: string;
  readonly status: number;
  readonly code: string;
  readonly headers: () => Record<string, string>;
  /** The body is sent as JSON unless the variant sets another content type (or none). */
  readonly postOnly?: boolean;
  readonly contentType?: string | null;
}

const json = { 'content-type': 'application/json' };
const VARIANTS: readonly Variant[] = [
  { name: 'no credential', status: 401, code: 'UNAUTHORIZED', headers: () => ({}) },
  { name: 'a wrong token', status: 401, code: 'UNAUTHORIZED', headers: () => ({ authorization: 'Bearer not-the-token' }) },
  { name: 'the token with one more character', status: 401, code: 'UNAUTHORIZED', headers: () => ({ authorization: `Bearer ${agent.token}x` }) },
  { name: 'the token under another scheme', status: 401, code: 'UNAUTHORIZED', headers: () => ({ authorization: `Basic ${agent.token}` }) },
  { name: 'the token in another header', status: 401, code: 'UNAUTHORIZED', headers: () => ({ 'x-rewind-token': agent.token }) },
  { name: 'a foreign Host (DNS rebinding)', status: 421, code: 'MISDIRECTED_REQUEST', headers: () => ({ ...auth(agent), host: 'rebind.attacker.example' }) },
  {
    name: 'a foreign Host with a port',
    status: 421,
    code: 'MISDIRECTED_REQUEST',
    headers: () => ({ ...auth(agent), host: `rebind.attacker.example:${agent.port}` }),
  },
  { name: 'a foreign Origin', status: 403, code: 'FORBIDDEN_ORIGIN', headers: () => ({ ...auth(agent), origin: 'http://rebind.attacker.example' }) },
  { name: 'a null Origin', status: 403, code: 'FORBIDDEN_ORIGIN', headers: () => ({ ...auth(agent), origin: 'null' }) },
  { name: 'a wrong content type', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', postOnly: true, contentType: 'text/plain', headers: () => auth(agent) },
  { name: 'no content type', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', postOnly: true, contentType: null, headers: () => auth(agent) },
  { name: 'a form', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', postOnly: true, contentType: 'application/x-www-form-urlencoded', headers: () => auth(agent) },
];

async function send(route: Route, variant: Variant): Promise<{ status: number; text: string; ms: number }> {
  const started = Date.now();
  const type = variant.contentType === undefined ? json['content-type'] : variant.contentType;
  const headers = { ...(route.body && type !== null ? { 'content-type': type } : {}), ...variant.headers() };
  const res = await request(`${agent.url}${route.path}`, {
    method: route.method,
    headers,
    ...(route.body ? { body: JSON.stringify(route.body()) } : {}),
    headersTimeout: 5000,
    bodyTimeout: 5000,
  });
  const text = await res.body.text();
  return { status: res.statusCode, text, ms: Date.now() - started };
}

/** What runs: per app/env the release and the pids, and every process the agent started. */
async function whatRuns(): Promise<unknown> {
  const state = await clientOf(agent).state();
  const apps = state.apps.map((a) => ({ app: a.app, env: a.env, release: a.release, rollout: a.rollout ?? null, pids: a.instances.map((i) => i.pid).sort() }));
  const processes = markedLeaders(resolve(agentDir))
    .map((p) => p.pid)
    .sort();
  return { apps, processes };
}

const listing = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

describe('the agent answers only its control plane', () => {
  it('creates its token in a 0600 file of its 0700 folder; the control plane finds it there', () => {
    expect(mode(agentDir)).toBe(0o700);
    expect(mode(join(agentDir, 'agent.token'))).toBe(0o600);
    expect(agent.token).toMatch(/^[A-Za-z0-9_-]{43}$/); // 32 random bytes, base64url
    expect(readFileSync(join(agentDir, 'agent.token'), 'utf8').trim()).toBe(agent.token);
    expect(readAgentToken(agentDir)).toBe(agent.token);
  });

  it('answers the token, and only after it says that a route does not exist', async () => {
    const ok = await request(`${agent.url}/v1/health`, { headers: auth(agent) });
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.json()).toMatchObject({ ok: true, pid: process.pid });
    const none = await request(`${agent.url}/v1/nothing-here`, { headers: auth(agent) });
    expect(none.statusCode).toBe(404);
    expect(await none.body.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('refuses every route without the token, with a wrong one, from a foreign Host or Origin, or in another content type: never a 2xx, nothing changes', async () => {
    const before = await whatRuns();
    const slugsBefore = listing(join(agentDir, 'slugs'));
    const seen: string[] = [];
    for (const route of ROUTES) {
      for (const variant of VARIANTS) {
        if (variant.postOnly && route.method !== 'POST' && route.method !== 'PUT') continue;
        const { status, text, ms } = await send(route, variant);
        const what = `${route.method} ${route.path} with ${variant.name}`;
        seen.push(`${what}: ${status}`);
        expect(status, what).toBe(variant.status);
        expect(ms, what).toBeLessThan(2000);
        if (route.method !== 'HEAD') expect(JSON.parse(text), what).toMatchObject({ error: { code: variant.code } });
        expect(text, what).not.toContain(agent.token);
      }
    }
    expect(seen.length).toBeGreaterThan(100);
    expect(seen.filter((s) => / 2\d\d$/.test(s))).toEqual([]);
    await sleep(300); // anything started by mistake would show by now
    expect(await whatRuns()).toEqual(before);
    expect(existsSync(marker())).toBe(false);
    expect(listing(join(agentDir, 'snapshots'))).toEqual([]);
    expect(listing(join(agentDir, 'slugs'))).toEqual(slugsBefore);
    expect((await request(`http://127.0.0.1:${proxyPort}/`)).statusCode).toBe(200);
    const edges = await request(`${agent.url}/v1/edge`, { headers: auth(agent) });
    expect(await edges.body.json()).toEqual({ edges: [] });
  });

  it('says what is missing in a 401, and asks for a bearer token', async () => {
    const res = await request(`${agent.url}/v1/state`);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="rewind-agent"');
    expect(((await res.body.json()) as { error: { message: string } }).error.message).toContain('agent.token');
  });

  it('accepts IP and localhost Host headers with the token', async () => {
    for (const host of [`127.0.0.1:${agent.port}`, `localhost:${agent.port}`, `LOCALHOST`, '[::1]:1234', '10.0.0.1']) {
      const res = await request(`${agent.url}/v1/health`, { headers: { ...auth(agent), host } });
      expect(res.statusCode, host).toBe(200);
      await res.body.dump();
    }
    for (const host of ['localhost.attacker.example', '127.0.0.1.nip.io', 'localhost.', '']) {
      const res = await request(`${agent.url}/v1/health`, { headers: { ...auth(agent), host } });
      expect(res.statusCode, host).toBe(421);
      await res.body.dump();
    }
  });

  it('closes half-sent requests: a local process cannot hold the agent with open connections', async () => {
    const sockets = await Promise.all(
      Array.from(
        { length: 40 },
        () =>
          new Promise<Socket>((resolveSocket, reject) => {
            const s = connect(agent.port, '127.0.0.1', () => {
              s.write('GET /v1/state HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
              resolveSocket(s);
            });
            s.on('error', () => {});
            s.once('error', reject);
            s.resume();
          }),
      ),
    );
    const closed = await Promise.all(
      sockets.map(
        (s) =>
          new Promise<boolean>((resolveClosed) => {
            if (s.destroyed) return resolveClosed(true);
            const t = setTimeout(() => resolveClosed(false), 15_000);
            s.once('close', () => {
              clearTimeout(t);
              resolveClosed(true);
            });
          }),
      ),
    );
    expect(closed.every(Boolean)).toBe(true);
    const res = await request(`${agent.url}/v1/health`, { headers: auth(agent) });
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  }, 30_000);

  it('logs each refusal, and never the token', async () => {
    const lines: string[] = [];
    const capture = (obj: object, msg?: string) => void lines.push(JSON.stringify({ ...obj, msg }));
    const dir = join(tempDir(), 'agent');
    const logged = await runAgent({ dataDir: dir, port: 0, log: { info: capture, warn: capture, error: capture }, artifactRoot: artifacts });
    others.push({ agent: logged, dir });
    const wrong = await request(`${logged.url}/v1/state`, { headers: { authorization: 'Bearer a-guess' } });
    expect(wrong.statusCode).toBe(401);
    await wrong.body.dump();
    const right = await request(`${logged.url}/v1/state`, { headers: auth(logged) });
    expect(right.statusCode).toBe(200);
    await right.body.dump();
    await logged.close();
    expect(lines.filter((l) => l.includes('the agent refused a request'))).toEqual([expect.stringContaining('"code":"UNAUTHORIZED"')]);
    expect(lines.join('\n')).not.toContain(logged.token);
    expect(lines.join('\n')).not.toContain('a-guess');
  });

  it('keeps its token across restarts, narrows modes left wide, and takes REWIND_AGENT_TOKEN instead when set', async () => {
    const dir = join(tempDir(), 'agent');
    mkdirSync(join(dir, 'logs', 'shop', 'production'), { recursive: true, mode: 0o755 });
    chmodSync(dir, 0o755);
    const old = 'o'.repeat(43);
    writeFileSync(join(dir, 'agent.token'), `${old}\n`, { mode: 0o644 });
    writeFileSync(join(dir, 'logs', 'shop', 'production', 'web.aaaaaa.log'), 'secret\n', { mode: 0o644 });
    const first = await runAgent({ dataDir: dir, port: 0, log: false });
    others.push({ agent: first, dir });
    expect(first.token).toBe(old);
    expect([mode(dir), mode(join(dir, 'agent.token')), mode(join(dir, 'logs')), mode(join(dir, 'logs', 'shop', 'production', 'web.aaaaaa.log'))]).toEqual([
      0o700, 0o600, 0o700, 0o600,
    ]);
    await first.close();

    const given = 'g'.repeat(40);
    process.env.REWIND_AGENT_TOKEN = given;
    let second: RunningAgent | undefined;
    try {
      second = await runAgent({ dataDir: dir, port: 0, log: false });
      others.push({ agent: second, dir });
      expect(readAgentToken(dir)).toBe(given);
    } finally {
      delete process.env.REWIND_AGENT_TOKEN;
    }
    expect((await request(`${second.url}/v1/health`, { headers: { authorization: `Bearer ${given}` } })).statusCode).toBe(200);
    expect((await request(`${second.url}/v1/health`, { headers: { authorization: `Bearer ${old}` } })).statusCode).toBe(401);
    await second.close();
    process.env.REWIND_AGENT_TOKEN = 'short';
    try {
      await expect(runAgent({ dataDir: dir, port: 0, log: false })).rejects.toThrow('REWIND_AGENT_TOKEN must be at least 16 characters');
    } finally {
      delete process.env.REWIND_AGENT_TOKEN;
    }
  });
});

/** POSTs a desired state with the token; the agent's answer and how long it took. */
async function post(path: string, body: unknown): Promise<{ status: number; message: string; ms: number }> {
  const started = Date.now();
  const res = await request(`${agent.url}${path}`, {
    method: 'POST',
    headers: { ...auth(agent), ...json },
    body: JSON.stringify(body),
    headersTimeout: 5000,
    bodyTimeout: 5000,
  });
  const text = await res.body.text();
  let message = text;
  try {
    message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
  } catch {
    /* NDJSON: a rollout started */
  }
  return { status: res.statusCode, message, ms: Date.now() - started };
}

const withArtifact = (path: string, sha256 = 'a'.repeat(64)): DesiredState => desiredState('RFILE', proxyPort, [web({ sha256, path })], {}, 'files');

describe('the agent refuses input it cannot bound', () => {
  it('refuses /etc/shadow, /dev/zero and anything else outside its artifact store within a second, without hashing it', async () => {
    symlinkSync('/dev/zero', join(artifacts, 'zero.tar.gz'));
    symlinkSync('/etc/shadow', join(artifacts, 'shadow.tar.gz'));
    execFileSync('mkfifo', [join(artifacts, 'fifo.tar.gz')]);
    mkdirSync(join(artifacts, 'folder.tar.gz'));
    const shadowSha = existsSync('/etc/shadow') ? createHash('sha256').update(readFileSync('/etc/shadow')).digest('hex') : 'none';
    const cases: Array<[string, string]> = [
      ['/etc/shadow', `must be a file in the agent's artifact store ${artifacts}`],
      ['/dev/zero', `must be a file in the agent's artifact store ${artifacts}`],
      [join(artifacts, '..', 'agent', 'agent.token'), `must be a file in the agent's artifact store ${artifacts}`],
      [join(artifacts, 'zero.tar.gz'), `must be a file in the agent's artifact store ${artifacts} (it links outside it)`],
      [join(artifacts, 'shadow.tar.gz'), `must be a file in the agent's artifact store ${artifacts} (it links outside it)`],
      [join(artifacts, 'fifo.tar.gz'), 'must be a regular file'],
      [join(artifacts, 'folder.tar.gz'), 'must be a regular file'],
    ];
    for (const [path, rule] of cases) {
      const { status, message, ms } = await post('/v1/deploy', withArtifact(path));
      expect(status, path).toBe(400);
      expect(message, path).toContain(`components[0].artifact.path ${rule}`);
      expect(message, path).not.toContain(shadowSha);
      expect(ms, path).toBeLessThan(1000);
      const health = await request(`${agent.url}/v1/health`, { headers: auth(agent), headersTimeout: 1000 });
      expect(health.statusCode, path).toBe(200);
      await health.body.dump();
    }
    expect(await clientOf(agent).observe('files', 'production')).toBeNull();
  });

  it('refuses an artifact over its size limit', async () => {
    const dir = join(tempDir(), 'agent');
    const small = await runAgent({ dataDir: dir, port: 0, log: false, artifactRoot: artifacts, maxArtifactBytes: 100 });
    others.push({ agent: small, dir });
    const res = await request(`${small.url}/v1/deploy`, {
      method: 'POST',
      headers: { ...auth(small), ...json },
      body: JSON.stringify(desiredState('RBIG', await freePort(), [web(v1)])),
    });
    expect(res.statusCode).toBe(400);
    expect(((await res.body.json()) as { error: { message: string } }).error.message).toMatch(
      /components\[0\]\.artifact\.path is \d+ bytes, more than the agent's limit of 100 \(--max-artifact-mb\)/,
    );
  });

  it('refuses ports outside its range, and absurd sizes, names and strings, each with a one-line 400', async () => {
    const base = desiredState('RBAD', proxyPort, [web(v1)], {}, 'bounds');
    const many = (n: number) => Array.from({ length: n }, (_, i) => web(v1, { name: `c${i}`, port: false, command: 'sleep 1' }));
    const cases: Array<[string, unknown, string]> = [
      ['/v1/deploy', { ...base, proxyPort: 22 }, "proxyPort must be an integer from 1024 to 65535 (the agent's --port-range)"],
      ['/v1/deploy', { ...base, proxyPort: 0 }, "proxyPort must be an integer from 1024 to 65535 (the agent's --port-range)"],
      ['/v1/deploy', { ...base, components: many(33) }, 'components must have at most 32 entries'],
      ['/v1/deploy', { ...base, components: many(5).map((c) => ({ ...c, scale: 64 })) }, "the components' scales add up to 320 instances, more than 256"],
      ['/v1/deploy', { ...base, config: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`K${i}`, 'v'])) }, 'config must have at most 1000 keys'],
      ['/v1/deploy', { ...base, config: { A: 'x\0y' } }, 'config.A must be at most 65536 characters, without NUL'],
      ['/v1/deploy', { ...base, config: { A: 'x'.repeat(65_537) } }, 'config.A must be at most 65536 characters, without NUL'],
      [
        '/v1/deploy',
        { ...base, components: [web(v1, { health: { path: '/h\r\nX-Evil: 1', timeoutMs: 1000, intervalMs: 50 } })] },
        'components[0].health.path must start with / and be at most 1024 characters',
      ],
      ['/v1/deploy', { ...base, components: [web(v1, { build: '../../etc' })] }, 'components[0].build must be a build id'],
      [
        '/v1/deploy',
        { ...base, components: [web(v1, { command: 'x'.repeat(16_385) })] },
        'components[0].command must be at most 16384 characters, without NUL',
      ],
      ['/v1/deploy', { ...base, components: [web(v1, { static: 'public\0' })] }, 'components[0].static must be a folder inside the build'],
      ['/v1/deploy', { ...base, deployment: '../../x' }, 'deployment must be a deployment id'],
      ['/v1/deploy', { ...base, routes: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`r${i}`, 2000 + i])) }, 'routes must have at most 32 entries'],
      ['/v1/deploy', [], 'the body must be a JSON DesiredState object'],
      ['/v1/apps/shop/production/exec', { command: 'id', actor: 'x'.repeat(257) }, 'actor must be at most 256 characters without control characters'],
      ['/v1/apps/shop/production/exec', { command: 'id', actor: 'ann\nFAKE LOG LINE' }, 'actor must be at most 256 characters without control characters'],
      ['/v1/apps/shop/production/exec', { command: 'touch /tmp/x\0y' }, 'command must not contain NUL'],
      ['/v1/apps/..%2F..%2Fetc/production/exec', { command: 'id' }, 'app must match ^[a-z][a-z0-9-]{0,62}$'],
      ['/v1/apps/shop/..%2Fx/snapshot', {}, 'env must match ^[a-z][a-z0-9-]{0,62}$'],
    ];
    const before = await whatRuns();
    for (const [path, body, message] of cases) {
      const res = await post(path, body);
      expect(res.status, message).toBe(400);
      expect(res.message, message).toContain(message);
      expect(res.message, message).not.toContain('\n');
      expect(res.ms, message).toBeLessThan(1000);
    }
    expect(await whatRuns()).toEqual(before);
    expect(listing(join(agentDir, 'snapshots'))).toEqual([]);
    const bad = await request(`${agent.url}/v1/apps/..%2F..%2Fetc/production`, { method: 'DELETE', headers: auth(agent) });
    expect(bad.statusCode).toBe(400);
  });
});

describe('the agent keeps its files private', () => {
  it('writes its state, info and logs 0600 in 0700 folders', async () => {
    const logs = join(agentDir, 'logs', 'shop', 'production');
    const files = readdirSync(logs);
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) expect(mode(join(logs, f)), f).toBe(0o600);
    expect([mode(join(agentDir, 'logs')), mode(join(agentDir, 'logs', 'shop')), mode(logs)]).toEqual([0o700, 0o700, 0o700]);
    for (const f of ['agent-state.json', 'agent.json', 'agent.lock']) expect(mode(join(agentDir, f)), f).toBe(0o600);
    const snap = await clientOf(agent).snapshot('shop', 'production');
    expect(snap.components.length).toBe(1);
    expect(mode(join(agentDir, 'snapshots'))).toBe(0o700);
    expect(mode(snap.components[0]!.path)).toBe(0o600);
  });

  it('unpacks slugs without setuid or setgid bits and without world-writable folders', async () => {
    const src = tempDir('rewind-suid-src-');
    copyFileSync(join(FIXTURES, 'app', 'server.js'), join(src, 'server.js'));
    writeFileSync(join(src, 'package.json'), '{"type":"module"}\n');
    writeFileSync(join(src, 'version.txt'), 'suid\n');
    mkdirSync(join(src, 'bin'));
    writeFileSync(join(src, 'bin', 'tool'), '#!/bin/sh\nid\n');
    chmodSync(join(src, 'bin', 'tool'), 0o6755);
    mkdirSync(join(src, 'shared'));
    chmodSync(join(src, 'shared'), 0o1777);
    const out = join(artifacts, 'suid.tar.gz');
    await tar.c({ gzip: true, cwd: src, file: out, portable: true }, ['.']);
    const modes = new Map<string, number>();
    await tar.t({ file: out, onReadEntry: (e) => void modes.set(e.path, e.mode ?? 0) });
    expect(modes.get('./bin/tool')! & 0o7777).toBe(0o6755); // the archive does carry the bits
    const artifact = { sha256: await sha256File(out), path: out };
    const port = await freePort();
    expect((await deploy(agent, desiredState('RSUID', port, [web(artifact)], {}, 'suid'))).result).toMatchObject({ ok: true });
    const slug = join(agentDir, 'slugs', artifact.sha256);
    expect(mode(join(slug, 'bin', 'tool'))).toBe(0o755);
    expect(mode(join(slug, 'shared'))).toBe(0o755);
    expect(mode(slug) & 0o022).toBe(0);
    await clientOf(agent).remove('suid', 'production');
  });
});

describe('a real `rewind agent` process', () => {
  it('stops on SIGTERM while it hashes a large, legal artifact', async () => {
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('build first: npx tsc -p tsconfig.json (npm test does)');
    const data = tempDir('rewind-sigterm-');
    const store = join(data, 'artifacts', 'sha256', 'aa');
    mkdirSync(store, { recursive: true });
    const big = join(store, `${'a'.repeat(64)}.tar.gz`);
    // 4000 MiB of holes: under the default limit (4096 MiB), and seconds of hashing.
    const fd = openSync(big, 'w');
    closeSync(fd);
    execFileSync('truncate', ['-s', '4000M', big]);
    const child = spawn(process.execPath, [BIN, 'agent', '--data', data, '--port', '0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, REWIND_LOG_LEVEL: 'warn' },
    });
    let log = '';
    child.stdout.on('data', (b) => (log += b));
    child.stderr.on('data', (b) => (log += b));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const info = await waitFor(
        'agent.json',
        () => {
          try {
            const i = JSON.parse(readFileSync(join(data, 'agent', 'agent.json'), 'utf8')) as { url: string; pid: number };
            return i.pid === child.pid ? i : null;
          } catch {
            return null;
          }
        },
        20_000,
      ).catch((err: Error) => Promise.reject(new Error(`${err.message}: ${log}`)));
      const token = readAgentToken(join(data, 'agent')) as string;
      const res = await request(`${info.url}/v1/deploy`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, ...json },
        body: JSON.stringify(desiredState('RBIG', await freePort(), [web({ sha256: 'a'.repeat(64), path: big })], {}, 'big')),
        bodyTimeout: 0,
      });
      expect(res.statusCode).toBe(200);
      res.body.setEncoding('utf8');
      let events = '';
      void (async () => {
        for await (const chunk of res.body) events += chunk as string;
      })().catch(() => {});
      await waitFor('the agent to hash the slug', () => events.includes('Preparing slug'), 10_000);
      await sleep(300);
      const sent = Date.now();
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(3000).then(() => 'still running')]);
      expect(code, log).toBe(0);
      expect(Date.now() - sent).toBeLessThan(3000);
      expect(events).not.toContain('has sha256'); // it stopped hashing: it did not finish first
    } finally {
      if (child.exitCode === null && child.pid && isAlive(child.pid)) child.kill('SIGKILL');
      await exited;
    }
  });
});

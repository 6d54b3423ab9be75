import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import * as tar from 'tar';
import { describe, expect, it } from 'vitest';
import { bearerCheck, isLocalHostHeader } from '../../src/agent/agent-auth.js';
import { configInEffect, parseEnviron } from '../../src/agent/snapshot.js';
import { artifactProblem } from '../../src/agent/artifact-policy.js';
import { validateDesiredState } from '../../src/agent/desired-validation.js';
import { validateExecRequest } from '../../src/agent/exec.js';
import { tailLines } from '../../src/agent/log-files.js';
import { freePort } from '../../src/agent/proc-info.js';
import {
  combinedLogPath,
  formatLogLine,
  instanceArgv,
  instanceEnv,
  instanceLogPath,
  instancePlan,
  restartDelayMs,
  routedComponent,
  slugPath,
} from '../../src/agent/process-commands.js';
import { AppProxy, Upstream } from '../../src/agent/proxy.js';
import { clientResponseHeaders, isHopByHop, upstreamRequestHeaders, withoutHopByHop } from '../../src/agent/proxy-headers.js';
import { nginxPaths, nginxStartArgv, renderBackConfig, renderFrontConfig, socketDir } from '../../src/agent/nginx-config.js';
import { pageBody } from '../../src/agent/proxy-pages.js';
import { hostRoute } from '../../src/agent/shared-proxy.js';
import { fingerprint } from '../../src/agent/standby.js';
import { createInstance } from '../../src/agent/instance.js';
import { componentKey, planComponents } from '../../src/agent/rollout-plan.js';
import type { ProcessHandle } from '../../src/agent/supervisor.js';
import type { DesiredState } from '../../src/protocol/agent-protocol.js';
import { SlugCache, sha256File, unsafeEntryReason } from '../../src/agent/slug-cache.js';
import type { PersistedState } from '../../src/agent/state-file.js';
import { readState, StateWriter, stateFilePath } from '../../src/agent/state-file.js';
import { resolveStaticPath } from '../../src/agent/static-server.js';
import { NdjsonParser } from '../../src/targets/agent-client.js';
import { agentProcessArgv } from '../../src/targets/local-agent-process.js';
import { parsePortRange } from '../../src/cli/agent.js';
import { desiredState, get, tempDir, useTempDirs, web } from './helpers.js';

useTempDirs();

const artifact = { sha256: 'a'.repeat(64), path: '/tmp/a.tgz' };

describe('process commands', () => {
  const input = {
    app: 'shop',
    env: 'production',
    release: 'RABCDEFGHIJ',
    component: web(artifact, { command: 'node server.js --port $PORT' }),
    instance: 'ab12cd',
    agentDir: '/data/agent',
    config: { DATABASE_URL: 'postgres://x', PORT: '1', REWIND_APP: 'evil' },
    slugDir: '/data/agent/slugs/aaa',
    port: 40001,
    agentEnv: { PATH: '/usr/bin', HOME: '/home/r', LANG: 'C.UTF-8', SECRET: 'agent-only', TERM: 'xterm' },
  };

  it('runs the manifest command through /bin/sh -c, in the slug dir, with exactly the documented env', () => {
    expect(instanceArgv('node server.js')).toEqual(['/bin/sh', '-c', 'node server.js']);
    expect(instancePlan(input)).toEqual({
      argv: ['/bin/sh', '-c', 'node server.js --port $PORT'],
      cwd: '/data/agent/slugs/aaa',
      env: {
        PATH: '/usr/bin',
        HOME: '/home/r',
        LANG: 'C.UTF-8',
        DATABASE_URL: 'postgres://x',
        PORT: '40001',
        REWIND_APP: 'shop',
        REWIND_ENV: 'production',
        REWIND_RELEASE: 'RABCDEFGHIJ',
        REWIND_COMPONENT: 'web',
        REWIND_INSTANCE: 'web.ab12cd',
        REWIND_AGENT: '/data/agent',
      },
    });
  });

  it("reads a live process's config back without what the agent sets, with keys named like Object properties (a backup keeps them)", () => {
    const raw = [
      'PATH=/usr/bin',
      '__proto__=p',
      'constructor=c',
      'REWIND_APP=shop',
      'REWIND_INSTANCE=web.ab12cd',
      'REWIND_AGENT=/data/agent',
      'PORT=4000',
      'toString=t',
      '',
    ].join('\0');
    expect(Object.entries(configInEffect(parseEnviron(raw), { PATH: '/usr/bin' }, {}))).toEqual([
      ['__proto__', 'p'],
      ['constructor', 'c'],
      ['toString', 't'],
    ]);
  });

  it('passes a config key named like an Object property (__proto__, constructor) as a variable like any other', () => {
    const config = JSON.parse('{"__proto__":"p","constructor":"c","toString":"t"}') as Record<string, string>;
    const env = instanceEnv({ ...input, config, port: null, agentEnv: {} });
    expect(Object.entries(env).filter(([k]) => !k.startsWith('REWIND_'))).toEqual([
      ['__proto__', 'p'],
      ['constructor', 'c'],
      ['toString', 't'],
    ]);
  });

  it('gives no PORT to components without one, and builds no process for static ones', () => {
    expect(instanceEnv({ ...input, config: {}, port: null, agentEnv: {} })).toEqual({
      REWIND_APP: 'shop',
      REWIND_ENV: 'production',
      REWIND_RELEASE: 'RABCDEFGHIJ',
      REWIND_COMPONENT: 'web',
      REWIND_INSTANCE: 'web.ab12cd',
      REWIND_AGENT: '/data/agent',
    });
    expect(() => instancePlan({ ...input, component: web(artifact, { command: undefined, static: 'public' }) })).toThrow('has no command');
  });

  it('names paths, log lines, backoff and the routed component', () => {
    expect(slugPath('/d', 'abc')).toBe('/d/slugs/abc');
    expect(instanceLogPath('/d', 'shop', 'production', 'web', 'ab12cd')).toBe('/d/logs/shop/production/web.ab12cd.log');
    expect(combinedLogPath('/d', 'shop', 'production')).toBe('/d/logs/shop/production/_combined.log');
    expect(formatLogLine(new Date('2025-01-02T03:04:05.678Z'), 'web.ab12cd', 'hi')).toBe('2025-01-02T03:04:05.678Z web.ab12cd hi');
    expect([0, 1, 2, 3, 4, 5, 6, 10].map(restartDelayMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    const worker = web(artifact, { name: 'worker', port: false });
    const api = web(artifact, { name: 'api' });
    expect(routedComponent([worker, api, web(artifact)])?.name).toBe('web');
    expect(routedComponent([worker, api])?.name).toBe('api');
    expect(routedComponent([worker])).toBeUndefined();
    expect(agentProcessArgv('/r/bin/rewind.js', '/data/agent')).toEqual(['/r/bin/rewind.js', 'agent', '--data', '/data', '--port', '0']);
    expect(agentProcessArgv('/r/bin/rewind.js', '/data/agent', { httpPort: 8080, proxy: 'nginx' })).toEqual([
      '/r/bin/rewind.js',
      'agent',
      '--data',
      '/data',
      '--port',
      '0',
      '--http-port',
      '8080',
      '--proxy',
      'nginx',
    ]);
  });
});

describe('proxy headers', () => {
  it('drops hop-by-hop headers, proxy-* and those named in Connection', () => {
    for (const h of ['Connection', 'keep-alive', 'Proxy-Authorization', 'proxy-connection', 'TE', 'trailer', 'transfer-encoding', 'upgrade'])
      expect(isHopByHop(h)).toBe(true);
    expect(isHopByHop('x-custom', new Set(['x-custom']))).toBe(true);
    expect(isHopByHop('content-type')).toBe(false);
    expect(withoutHopByHop({ connection: 'close, x-secret', 'x-secret': '1', 'content-length': 3, 'set-cookie': ['a=1', 'b=2'], te: 'trailers' })).toEqual({
      'content-length': '3',
      'set-cookie': ['a=1', 'b=2'],
    });
    expect(clientResponseHeaders({ 'keep-alive': 'timeout=5', 'transfer-encoding': 'chunked', etag: '"x"' })).toEqual({ etag: '"x"' });
  });

  it('adds X-Forwarded-* and Forwarded, appending to what earlier proxies said', () => {
    expect(
      upstreamRequestHeaders(
        { host: 'shop.local:8080', accept: '*/*', expect: '100-continue', connection: 'keep-alive' },
        { remoteAddress: '::ffff:10.0.0.7', proto: 'http' },
      ),
    ).toEqual({
      host: 'shop.local:8080',
      accept: '*/*',
      'x-forwarded-for': '10.0.0.7',
      'x-forwarded-proto': 'http',
      'x-forwarded-host': 'shop.local:8080',
      forwarded: 'for=10.0.0.7;host="shop.local:8080";proto=http',
    });
    const chained = upstreamRequestHeaders(
      { host: 'a', 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https', forwarded: 'for=1.2.3.4' },
      { remoteAddress: '::1', proto: 'http' },
    );
    expect(chained['x-forwarded-for']).toBe('1.2.3.4, ::1');
    expect(chained['x-forwarded-proto']).toBe('https');
    expect(chained.forwarded).toBe('for=1.2.3.4, for="[::1]";host="a";proto=http');
  });
});

describe('state file', () => {
  it('round-trips through temp file + rename, leaving no temp file', async () => {
    const dir = tempDir();
    expect(readState(dir)).toEqual({ version: 1, apps: [] });
    const state: PersistedState = {
      version: 1,
      apps: [
        {
          app: 'shop',
          env: 'production',
          release: 'RONE',
          proxyPort: 4100,
          desired: desiredState('RONE', 4100, [web(artifact)]),
          instances: [
            {
              id: 'ab12cd',
              component: 'web',
              release: 'RONE',
              build: 'B1',
              role: 'live',
              pid: 123,
              pidStart: '999',
              port: 40001,
              startedAt: '2025-01-01T00:00:00.000Z',
              restarts: 2,
              logOffset: 17,
            },
          ],
        },
      ],
    };
    await new StateWriter(
      dir,
      () => state,
      (err) => expect.fail(err.message),
    ).write();
    expect(readState(dir)).toEqual(state);
    expect(readdirSync(dir)).toEqual(['agent-state.json']);
    writeFileSync(stateFilePath(dir), '{"version":7}');
    expect(() => readState(dir)).toThrow('is not an agent state file');
  });

  it('coalesces the changes made during a write into one more write, and every caller waits for the one that holds its change', async () => {
    const dir = tempDir();
    let current: PersistedState = { version: 1, apps: [] };
    let snapshots = 0;
    const writer = new StateWriter(
      dir,
      () => {
        snapshots++;
        return current;
      },
      (err) => expect.fail(err.message),
    );
    const app = (release: string) => ({ app: 'shop', env: 'production', release, proxyPort: 4100, desired: null, instances: [] });
    const first = writer.write();
    current = { version: 1, apps: [app('RONE')] };
    const second = writer.write();
    current = { version: 1, apps: [app('RTWO')] };
    const third = writer.write();
    await second;
    expect(readState(dir).apps.map((a) => a.release)).toEqual(['RTWO']);
    await Promise.all([first, third]);
    expect(snapshots).toBe(2); // the first write's, then one for both later changes
    expect(readdirSync(dir)).toEqual(['agent-state.json']);
  });

  it('reports a write that fails instead of throwing, and writes again on the next change', async () => {
    const dir = join(tempDir(), 'missing');
    const errors: string[] = [];
    const writer = new StateWriter(
      dir,
      () => ({ version: 1, apps: [] }),
      (err) => errors.push((err as NodeJS.ErrnoException).code ?? err.message),
    );
    await writer.write();
    expect(errors).toEqual(['ENOENT']);
    mkdirSync(dir);
    await writer.write();
    expect(readState(dir)).toEqual({ version: 1, apps: [] });
  });
});

describe('small parsers', () => {
  it('parses NDJSON across chunk boundaries', () => {
    const parser = new NdjsonParser();
    expect(parser.push('{"type":"log","message":"a"}\n{"type":"lo')).toEqual([{ type: 'log', message: 'a' }]);
    expect(parser.push('g","message":"b"}\n\n')).toEqual([{ type: 'log', message: 'b' }]);
    expect(parser.push('{"type":"result"}')).toEqual([]);
    expect(parser.end()).toEqual([{ type: 'result' }]);
    expect(parser.push('{"cut')).toEqual([]);
    expect(parser.end()).toEqual([]);
  });

  it('validates desired states, collecting every problem', () => {
    const ok = desiredState('RONE', 4100, [web(artifact)]);
    expect(validateDesiredState(ok)).toBe(ok);
    const bad = validateDesiredState({
      ...ok,
      app: 'Shop',
      proxyPort: 70000,
      components: [web(artifact, { name: '../x', scale: -1, artifact: { sha256: 'x', path: 'rel' } })],
    });
    expect(bad).toBeInstanceOf(Error);
    expect((bad as Error).message).toBe(
      'invalid desired state: app must match ^[a-z][a-z0-9-]{0,62}$; proxyPort must be an integer from 1 to 65535; components[0].name must match ^[a-z][a-z0-9-]{0,62}$; components[0].scale must be an integer from 0 to 64; components[0].artifact must be { sha256: 64 hex digits, path: an absolute path }',
    );
  });

  it('validates exec requests, naming every problem', () => {
    expect(validateExecRequest({ command: 'node migrate.js', component: 'web', actor: 'ann@host' })).toEqual({
      command: 'node migrate.js',
      component: 'web',
      actor: 'ann@host',
    });
    expect(validateExecRequest({ command: 'ls' })).toEqual({ command: 'ls' });
    expect((validateExecRequest({ command: '  ', component: '../x', actor: 3 }) as Error).message).toBe(
      'invalid exec request: command must be a non-empty string; component must match ^[a-z][a-z0-9-]{0,62}$; actor must be a string',
    );
    expect((validateExecRequest(null) as Error).message).toBe('invalid exec request: command must be a non-empty string');
    expect(validateExecRequest({ command: 'x'.repeat(16_385) })).toBeInstanceOf(Error);
  });

  it('keeps static files inside their folder', () => {
    expect(resolveStaticPath('/s/public', '/css/a.css?v=1')).toBe('/s/public/css/a.css');
    expect(resolveStaticPath('/s/public', '/../secret')).toBe(null);
    expect(resolveStaticPath('/s/public', '/%2e%2e/secret')).toBe(null);
    expect(resolveStaticPath('/s/public', '/%00')).toBe(null);
  });

  it('reads the last lines of a file', () => {
    const file = join(tempDir(), 'f.log');
    writeFileSync(file, `${Array.from({ length: 5000 }, (_, i) => `line ${i}`).join('\n')}\n`);
    expect(tailLines(file, 3)).toEqual(['line 4997', 'line 4998', 'line 4999']);
    expect(tailLines(join(tempDir(), 'none'), 3)).toEqual([]);
  });
});

describe('slugs', () => {
  it('refuses absolute, escaping and special entries', () => {
    expect(unsafeEntryReason('app/server.js', 'File')).toBeNull();
    expect(unsafeEntryReason('../evil', 'File')).toBe('entry ../evil points outside the slug');
    expect(unsafeEntryReason('/etc/passwd', 'File')).toBe('entry /etc/passwd points outside the slug');
    expect(unsafeEntryReason('a/../../b', 'File')).toBe('entry a/../../b points outside the slug');
    expect(unsafeEntryReason('link', 'SymbolicLink', '/etc')).toBe('link link -> /etc points outside the slug');
    expect(unsafeEntryReason('a/link', 'SymbolicLink', '../../x')).toBe('link a/link -> ../../x points outside the slug');
    expect(unsafeEntryReason('a/link', 'SymbolicLink', '../x')).toBeNull();
    expect(unsafeEntryReason('dev', 'CharacterDevice')).toBe('entry dev has unsupported type CharacterDevice');
  });

  it('extracts once, checks the sha256, and never leaves a half-extracted slug', async () => {
    const dir = tempDir();
    const src = join(dir, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(src, 'sub', 'a.txt'), 'a\n');
    const good = join(dir, 'good.tgz');
    await tar.c({ gzip: true, cwd: src, file: good }, ['.']);
    const evil = join(dir, 'evil.tgz');
    await tar.c({ gzip: true, cwd: join(src, 'sub'), file: evil, preservePaths: true }, ['a.txt', '../sub/a.txt']);
    const agentDir = join(dir, 'agent');
    const cache = new SlugCache(agentDir, { artifactRoot: dir });
    await cache.cleanup();
    const sha = await sha256File(good);
    const [one, two] = await Promise.all([cache.ensure({ sha256: sha, path: good }), cache.ensure({ sha256: sha, path: good })]);
    expect(one).toBe(join(agentDir, 'slugs', sha));
    expect(two).toBe(one);
    expect(readFileSync(join(one, 'sub', 'a.txt'), 'utf8')).toBe('a\n');
    await expect(cache.ensure({ sha256: 'b'.repeat(64), path: good })).rejects.toThrow(`has sha256 ${sha}, expected ${'b'.repeat(64)}`);
    const evilSha = await sha256File(evil);
    await expect(cache.ensure({ sha256: evilSha, path: evil })).rejects.toThrow('entry ../sub/a.txt points outside the slug');
    expect(existsSync(join(agentDir, 'slugs', evilSha))).toBe(false);
    expect(readdirSync(join(agentDir, 'slugs')).sort()).toEqual([sha, `${sha}.files.json`]);
  });
});

describe('proxy', () => {
  it('answers 502 when the upstream refuses, retries idempotent requests on another upstream, streams bodies', async () => {
    const backend = createServer((req, res) => {
      res.setHeader('connection', 'keep-alive');
      res.setHeader(
        'x-seen',
        JSON.stringify({ fwd: req.headers['x-forwarded-for'], conn: req.headers.connection, te: req.headers.te, host: req.headers.host }),
      );
      req.pipe(res);
    });
    await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
    const live = (backend.address() as AddressInfo).port;
    const dead = await freePort();
    const proxy = new AppProxy('shop', 'dev');
    await proxy.listen(0);
    try {
      expect(await get(proxy.port)).toMatchObject({
        status: 503,
        body: expect.stringContaining('no release of shop (dev) is running; deploy one with `rewind deploy -a shop -e dev`'),
      });
      proxy.setUpstreams([new Upstream('dead', dead)]);
      const bad = await get(proxy.port);
      expect(bad.status).toBe(502);
      expect(bad.body).toContain('the upstream of shop (dev) failed: ECONNREFUSED');

      // Round-robin over a dead and a live upstream: every GET still succeeds thanks to the retry.
      proxy.setUpstreams([new Upstream('dead', dead), new Upstream('live', live)]);
      const results = await Promise.all([1, 2, 3, 4].map(() => get(proxy.port, '/', { te: 'trailers', 'x-forwarded-for': '9.9.9.9' })));
      expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      expect(JSON.parse(results[0]?.headers['x-seen'] as string)).toEqual({ fwd: '9.9.9.9, 127.0.0.1', conn: 'keep-alive', host: `127.0.0.1:${proxy.port}` });

      proxy.setUpstreams([new Upstream('live', live)]);
      const big = 'x'.repeat(3 * 1024 * 1024);
      const { request } = await import('undici');
      const echoed = await request(`http://127.0.0.1:${proxy.port}/echo`, { method: 'POST', body: big });
      expect(echoed.statusCode).toBe(200);
      expect((await echoed.body.text()).length).toBe(big.length);
      expect(proxy.upstreams[0]?.inflight).toBe(0);
    } finally {
      await proxy.close();
      await new Promise((r) => backend.close(r));
    }
  });
});

describe('warm standby fingerprint', () => {
  const base = desiredState('RONE', 4000, [web(artifact), web(artifact, { name: 'worker', port: false })], { A: '1', B: '2' });

  it('matches a copy with a new id, another port or deployment, and components or config in another order', () => {
    const copy = {
      ...base,
      release: 'RCOPY',
      deployment: 'DX',
      proxyPort: 4001,
      components: [...base.components].reverse(),
      config: { B: '2', A: '1' },
      drainTimeoutMs: 1,
    };
    expect(fingerprint(copy)).toBe(fingerprint(base));
  });

  it('differs when a build, command, scale, health or config value differs', () => {
    const other = [
      { ...base, config: { A: '1', B: '3' } },
      { ...base, components: [web(artifact, { scale: 2 }), base.components[1]] },
      { ...base, components: [web(artifact, { command: 'node other.js' }), base.components[1]] },
      { ...base, components: [web(artifact, { build: 'BOTHER' }), base.components[1]] },
      { ...base, components: [web(artifact, { health: { path: '/up', timeoutMs: 5000, intervalMs: 50 } }), base.components[1]] },
      { ...base, components: [web(artifact)] },
    ] as DesiredState[];
    for (const d of other) expect(fingerprint(d)).not.toBe(fingerprint(base));
  });
});

describe('rollout plan: which components keep their instances', () => {
  const other = { sha256: 'b'.repeat(64), path: '/tmp/b.tgz' };
  const worker = (a: typeof artifact) => web(a, { name: 'worker', port: false });
  const live = desiredState('RONE', 4000, [web(artifact), worker(artifact)], { A: '1' });
  const handle = { pid: 1, exited: new Promise(() => {}), stop: async () => {}, release: () => {} } as unknown as ProcessHandle;
  const running = (desired: DesiredState, name: string, role: 'live' | 'standby', state: 'healthy' | 'running' | 'standby' | 'crashed') => {
    const component = desired.components.find((c) => c.name === name)!;
    return Object.assign(createInstance({ id: `${name}${role}`, desired, component, workDir: '/w', role, port: component.port ? 5000 : null }), {
      handle,
      state,
    });
  };
  const instances = [running(live, 'web', 'live', 'healthy'), running(live, 'worker', 'live', 'running')];
  const kinds = (d: DesiredState, list = instances, standby: string[] = []) => planComponents(d, list, standby).map((s) => `${s.component.name}:${s.kind}`);

  it('keeps a component whose files, command, scale, health and config are the same, whatever its build id or release', () => {
    const copy = desiredState('RTWO', 4001, [web(artifact, { build: 'BREBUILT' }), worker(other)], { A: '1' });
    expect(kinds(copy)).toEqual(['web:keep', 'worker:start']);
    expect(componentKey(copy, copy.components[0]!)).toBe(componentKey(live, live.components[0]!));
  });

  it('starts every component when the config changes, and a component whose scale or command changes', () => {
    expect(kinds({ ...live, release: 'RTWO', config: { A: '2' } })).toEqual(['web:start', 'worker:start']);
    expect(kinds(desiredState('RTWO', 4000, [web(artifact, { scale: 2 }), worker(artifact)], { A: '1' }))).toEqual(['web:start', 'worker:keep']);
    expect(
      kinds(
        desiredState(
          'RTWO',
          4000,
          [web(artifact), worker(artifact)].map((c) => (c.name === 'worker' ? { ...c, command: 'node other.js' } : c)),
          { A: '1' },
        ),
      ),
    ).toEqual(['web:keep', 'worker:start']);
  });

  it('starts a component whose live instances are not all up; reuses standby only for HTTP components', () => {
    expect(kinds(live, [running(live, 'web', 'live', 'crashed'), instances[1]!])).toEqual(['web:start', 'worker:keep']);
    const old = desiredState('ROLD', 4000, [web(other), worker(other)], { A: '1' });
    const onStandby = [...instances, running(old, 'web', 'standby', 'standby'), running(old, 'worker', 'standby', 'standby')];
    expect(kinds({ ...old, release: 'RBACK' }, onStandby, ['ROLD'])).toEqual(['web:warm', 'worker:start']);
  });
});

describe('desired state: standby, automatic rollback', () => {
  const base = desiredState('RONE', 4000, [web(artifact)]);
  it('accepts them, and says what is wrong otherwise', () => {
    expect(validateDesiredState({ ...base, standby: { keepMs: 60_000, count: 2 }, autoRollback: { windowMs: 30_000 } })).not.toBeInstanceOf(Error);
    expect(validateDesiredState({ ...base, standby: { keepMs: -1, count: 1 } })).toEqual(
      new Error('invalid desired state: standby must be { keepMs: an integer from 0 to 604800000, count: an integer from 0 to 10 }'),
    );
    expect(validateDesiredState({ ...base, autoRollback: { window: 3 } })).toEqual(
      new Error('invalid desired state: autoRollback must be { windowMs: an integer from 0 to 86400000 }'),
    );
  });
});

describe('shared port host names', () => {
  it('maps APP.localhost to production and APP.ENV.localhost to ENV', () => {
    expect(hostRoute('shop.localhost')).toEqual({ app: 'shop', env: 'production' });
    expect(hostRoute('Shop.LOCALHOST:8080')).toEqual({ app: 'shop', env: 'production' });
    expect(hostRoute('shop.dev.localhost')).toEqual({ app: 'shop', env: 'dev' });
    expect(hostRoute('shop.localhost.')).toEqual({ app: 'shop', env: 'production' });
    for (const host of [undefined, 'localhost', 'shop.example.com', 'a.b.c.localhost', '-x.localhost', 'shop..localhost', '127.0.0.1:8080'])
      expect(hostRoute(host)).toBeNull();
  });
});

describe('proxy pages and retries', () => {
  it('answers text for tools and HTML for browsers', () => {
    expect(pageBody(503, 'nothing <runs>', '*/*')).toEqual({ type: 'text/plain; charset=utf-8', body: '503 Service Unavailable\n\nnothing <runs>\n' });
    expect(pageBody(404, 'nothing <runs>', 'text/html,application/xhtml+xml').body).toContain('<h1>404 Not Found</h1><p>nothing &#60;runs&#62;</p>');
  });

  it('retries an idempotent request once when its instance dies under it, never a POST', async () => {
    // An instance that accepts the connection and dies before answering.
    const dying = createNetServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((r) => dying.listen(0, '127.0.0.1', r));
    const healthy = createServer((req, res) => res.end(`ok ${req.method}\n`));
    await new Promise<void>((r) => healthy.listen(0, '127.0.0.1', r));
    const proxy = new AppProxy('shop', 'production');
    await proxy.listen(0);
    try {
      const dead = new Upstream('dying', (dying.address() as AddressInfo).port);
      const live = new Upstream('live', (healthy.address() as AddressInfo).port);
      proxy.setUpstreams([dead, live]);
      const { request } = await import('undici');
      for (let n = 0; n < 4; n++) {
        expect(await get(proxy.port)).toMatchObject({ status: 200, body: 'ok GET\n' });
        const del = await request(`http://127.0.0.1:${proxy.port}/x`, { method: 'DELETE' });
        expect([del.statusCode, await del.body.text()]).toEqual([200, 'ok DELETE\n']);
      }
      const posts = await Promise.all(
        [1, 2, 3, 4].map(async () => (await request(`http://127.0.0.1:${proxy.port}/`, { method: 'POST', body: 'x' })).statusCode),
      );
      expect(posts.sort()).toEqual([200, 200, 502, 502]);
      expect(dead.inflight + live.inflight).toBe(0);

      proxy.setNotDeployed('api');
      expect(await get(proxy.port)).toMatchObject({ status: 404, body: '404 Not Found\n\ncomponent api of shop (production) is not deployed\n' });
    } finally {
      await proxy.close();
      await new Promise((r) => dying.close(r));
      await new Promise((r) => healthy.close(r));
    }
  });
});

describe('nginx data plane configuration', () => {
  const model = {
    front: nginxPaths('/d/agent', 'front'),
    back: nginxPaths('/d/agent', 'back'),
    sockets: socketDir('/d/agent'),
    listeners: [
      { port: 4001, app: 'shop', env: 'production', upstreams: [5001, 5002] },
      { port: 4002, app: 'shop', env: 'production', upstreams: [], notDeployed: 'api' },
      { port: 4003, app: 'blog', env: 'dev', upstreams: [] },
    ],
    shutdownTimeoutMs: 2500,
  };

  it('runs its own masters with their own prefix, configuration and error log', () => {
    expect(nginxStartArgv('/usr/sbin/nginx', model.back)).toEqual([
      '/usr/sbin/nginx',
      '-p',
      '/d/agent/nginx/back/',
      '-c',
      '/d/agent/nginx/back/nginx.conf',
      '-e',
      '/d/agent/nginx/back/error.log',
    ]);
  });

  it('front: client ports forwarded to the back tier over keep-alive sockets; nothing about instances', () => {
    const front = renderFrontConfig(model);
    expect(front).toContain('pid /d/agent/nginx/front/nginx.pid;');
    expect(front).toContain('  upstream rewind_4001 {\n    server unix:/d/agent/nginx/s/4001.sock max_fails=0;\n    keepalive 64;\n  }');
    expect(front).toContain('    listen 127.0.0.1:4003;');
    expect(front).toContain('proxy_set_header Forwarded $rewind_forwarded;');
    expect(front).not.toContain('5001');
    // A switch changes only upstream ports and the drain: the front stays as it is.
    expect(renderFrontConfig({ ...model, shutdownTimeoutMs: 30_000, listeners: model.listeners.map((l) => ({ ...l, upstreams: [6001] })) })).toBe(front);
  });

  it("back: instances, the 404 and 503 pages, the drain as the old workers' shutdown timeout", () => {
    const back = renderBackConfig(model);
    expect(back).toContain('worker_shutdown_timeout 3s;');
    expect(back).toContain('  upstream rewind_1 {\n    server 127.0.0.1:5001 max_fails=0;\n    server 127.0.0.1:5002 max_fails=0;\n    keepalive 64;\n  }');
    expect(back).toContain('    listen unix:/d/agent/nginx/s/4001.sock;\n    location / {\n      proxy_pass http://rewind_1;');
    expect(back).toContain('return 404 "404 Not Found\\n\\ncomponent api of shop (production) is not deployed\\n";');
    expect(back).toContain('return 503 "503 Service Unavailable\\n\\nno release of blog (dev) is running; deploy one with `rewind deploy -a blog -e dev`\\n";');
    expect(back).not.toContain('X-Forwarded-For');
  });

  it('routes the shared port by host name in the back tier', () => {
    const back = renderBackConfig({
      ...model,
      shared: { port: 8080, apps: [model.listeners[0] as (typeof model.listeners)[0], { port: 4003, app: 'blog', env: 'dev', upstreams: [5003] }] },
    });
    expect(back).toContain('    listen unix:/d/agent/nginx/s/8080.sock default_server;');
    expect(back).toContain('    server_name shop.localhost shop.production.localhost;\n    location / {\n      proxy_pass http://rewind_1;');
    expect(back).toContain('    server_name blog.dev.localhost;\n    location / {\n      proxy_pass http://rewind_2;');
  });
});

describe('who may call the agent', () => {
  it('takes Host headers that name an IP address or localhost, and nothing else', () => {
    for (const host of ['127.0.0.1', '127.0.0.1:4000', 'localhost', 'LocalHost:80', '[::1]', '[::1]:4000', '10.1.2.3:9'])
      expect(isLocalHostHeader(host), host).toBe(true);
    for (const host of [
      undefined,
      '',
      'rebind.attacker.example',
      'localhost.attacker.example',
      '127.0.0.1.nip.io',
      'localhost.',
      '[::1',
      '::1',
      '[evil]:80',
      '127.0.0.1:80:80',
      '127.0.0.1:123456',
    ]) {
      expect(isLocalHostHeader(host), String(host)).toBe(false);
    }
  });

  it('checks a bearer token exactly', () => {
    const ok = bearerCheck('s3cret-token-value');
    expect(ok('Bearer s3cret-token-value')).toBe(true);
    expect(ok('bearer s3cret-token-value')).toBe(true);
    for (const h of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'Bearer s3cret-token-valu',
      'Bearer s3cret-token-valuex',
      'Basic s3cret-token-value',
      's3cret-token-value',
      'Bearer s3cret-token-value extra',
    ])
      expect(ok(h), String(h)).toBe(false);
  });

  it('reads artifacts only inside the store, by their real path', async () => {
    const policy = { root: '/srv/rewind/artifacts', maxBytes: 10 };
    expect(await artifactProblem('/etc/shadow', policy)).toBe("must be a file in the agent's artifact store /srv/rewind/artifacts");
    expect(await artifactProblem('/srv/rewind/artifacts/../agent/agent.token', policy)).toBe(
      "must be a file in the agent's artifact store /srv/rewind/artifacts",
    );
    expect(await artifactProblem('/srv/rewind/artifacts', policy)).toBe("must be a file in the agent's artifact store /srv/rewind/artifacts");
    expect(await artifactProblem('relative.tgz', policy)).toBe('must be an absolute path');
    expect(await artifactProblem('/srv/rewind/artifacts/missing.tgz', policy)).toBeNull(); // reading it says ENOENT later
  });

  it('parses --port-range', () => {
    expect(parsePortRange('2000-3000')).toEqual({ lo: 2000, hi: 3000 });
    expect(parsePortRange('80-80')).toEqual({ lo: 80, hi: 80 });
    for (const bad of ['3000-2000', '0-10', '1-65536', '2000', 'a-b', '']) expect(parsePortRange(bad), bad).toBeInstanceOf(Error);
  });

  it('bounds ports by the range it is given', () => {
    const d = desiredState('RONE', 22, [web(artifact)]);
    expect(validateDesiredState(d)).toBe(d);
    expect((validateDesiredState(d, { ports: { lo: 1024, hi: 65535 } }) as Error).message).toBe(
      "invalid desired state: proxyPort must be an integer from 1024 to 65535 (the agent's --port-range)",
    );
  });
});

import { spawn } from 'node:child_process';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import pg from 'pg';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { PostgresDatabases } from '../support/postgres.js';
import { type AgentState, BIN, ROOT, RewindProcesses } from '../support/rewind-processes.mjs';

export { ROOT };

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A real Rewind for end-to-end tests: the `rewind server` process on a random port with a temp
 * data dir, the agent it starts, and the CLI binary. Its processes are those of the benchmarks
 * (test/support/rewind-processes.mjs); stop() ends every one of them by pid.
 */
export class Rewind {
  private constructor(
    private readonly processes: RewindProcesses,
    private readonly env: Record<string, string>,
    private readonly databases?: PostgresDatabases,
  ) {}

  /**
   * With REWIND_TEST_STORE=postgres in the test's environment, the server keeps its store in a new
   * PostgreSQL database (dropped at stop): every end-to-end suite can run on either store.
   */
  static async start(env: Record<string, string> = {}): Promise<Rewind> {
    const databases = process.env.REWIND_TEST_STORE === 'postgres' && !env.REWIND_DATABASE_URL ? await PostgresDatabases.create() : undefined;
    const withStore = databases ? { ...env, REWIND_DATABASE_URL: await databases.clone() } : env;
    const r = new Rewind(new RewindProcesses(await mkdtemp(join(tmpdir(), 'rewind-e2e-')), withStore), withStore, databases);
    await r.startServer();
    return r;
  }

  get url(): string {
    return this.processes.url;
  }
  get dataDir(): string {
    return this.processes.dataDir;
  }
  get serverLog(): string {
    return this.processes.serverLog;
  }

  /** How big the store is: SQLite's rewind.db, or the PostgreSQL database the server uses. */
  async storeBytes(): Promise<number> {
    const url = this.env.REWIND_DATABASE_URL;
    if (!url) return (await stat(join(this.dataDir, 'rewind.db'))).size;
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ bytes: string }>('select pg_database_size(current_database()) as bytes');
      return Number(rows[0].bytes);
    } finally {
      await client.end();
    }
  }

  /** Starts the server (again, after killServer) on the same data dir. */
  startServer(): Promise<void> {
    return this.processes.startServer();
  }

  /** Stops the server (SIGTERM) and starts it again on the same data dir with `env` added (another store, say). */
  async restartServer(env: Record<string, string>): Promise<void> {
    await this.processes.killServer('SIGTERM');
    Object.assign(this.processes.env, env);
    Object.assign(this.env, env);
    await this.processes.startServer();
  }

  /** Kills the server process (not the agent). */
  killServer(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    return this.processes.killServer(signal);
  }

  /** The agent's agent.json, and the token it wants (agent.token beside it, or REWIND_AGENT_TOKEN). */
  async agentInfo(): Promise<{ pid: number; url: string; token: string }> {
    return { ...this.processes.agentInfo(), token: this.processes.agentToken() };
  }

  agentState(): Promise<AgentState> {
    return this.processes.agentState();
  }

  /** Runs the real CLI binary against this server. */
  cli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
    return new Promise((resolvePromise) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        // The CLI finds the server's admin token in REWIND_DATA by itself, as it does for a user.
        env: { ...process.env, REWIND_HOST: this.url, REWIND_DATA: this.dataDir, NO_COLOR: '1', ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (b) => (stdout += b));
      child.stderr.on('data', (b) => (stderr += b));
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolvePromise({ code: code ?? 1, stdout, stderr });
      });
    });
  }

  /** Runs the CLI and expects it to exit 0; a failure names the command and shows its output. */
  async ok(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
    const r = await this.cli(args, opts);
    expect(r.code, `rewind ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0);
    return r;
  }

  /** Runs the CLI and expects it to fail (a non-zero exit). */
  async fails(args: string[]): Promise<RunResult> {
    const r = await this.cli(args);
    expect(r.code, `rewind ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).not.toBe(0);
    return r;
  }

  /** The server's credential: REWIND_TOKEN when it was started with one, else the admin token it made. */
  get token(): string {
    return this.env.REWIND_TOKEN ?? readFileSync(join(this.dataDir, 'admin.token'), 'utf8').trim();
  }

  get authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.token}` };
  }

  /** fetch() of a path of the server's, with its credential. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, { ...init, headers: { ...this.authHeaders, ...((init.headers as Record<string, string> | undefined) ?? {}) } });
  }

  /** A one-time link that logs a browser in to the console. */
  async loginUrl(): Promise<string> {
    const { status, body } = await this.api<{ url: string }>('/api/auth/login-links', { method: 'POST', body: '{}' });
    if (status !== 201) throw new Error(`login-links answered ${status}: ${JSON.stringify(body)}`);
    return body.url;
  }

  async api<T = unknown>(path: string, init?: RequestInit): Promise<{ status: number; body: T }> {
    const res = await this.fetch(path, {
      ...init,
      headers: { 'content-type': 'application/json', ...((init?.headers as Record<string, string> | undefined) ?? {}) },
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  async appUrl(app: string, env = 'production'): Promise<string> {
    const { body } = await this.api<{ environments: Array<{ name: string; url: string }> }>(`/api/apps/${app}`);
    return body.environments.find((e) => e.name === env)!.url;
  }

  /** Waits until app/env has no pending or running deployment. */
  async settled(app: string, env = 'production', timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const { body } = await this.api<Array<{ state: string }>>(`/api/apps/${app}/deployments?env=${env}`);
      if (Array.isArray(body) && body.every((d) => d.state !== 'pending' && d.state !== 'running')) return;
      await sleep(100);
    }
    throw new Error(`deployments of ${app}/${env} did not settle`);
  }

  /** Stops the server, the agent and every instance by pid, and removes the data dir. */
  async stop(): Promise<void> {
    try {
      await this.processes.stop();
    } finally {
      await this.databases?.drop();
    }
  }
}

/**
 * A stand-in for a value a beforeAll sets: every property read goes to the current value (methods
 * bound to it), so a test file writes `const rw = useRewind()` and uses `rw` as the value itself.
 * Reading it before the hook ran throws, naming `what`.
 */
export function lateBound<T extends object>(what: string, current: () => T | undefined): T {
  const target = (): T => {
    const value = current();
    if (value === undefined) throw new Error(`${what} is set in its beforeAll: use it inside a test or a later hook`);
    return value;
  };
  return new Proxy({} as T, {
    get(_, prop) {
      if (prop === 'then') return undefined; // not a promise: awaiting it, or returning it from an async function, gives it back
      const value = target();
      const member: unknown = Reflect.get(value, prop, value);
      return typeof member === 'function' ? (member as (...args: unknown[]) => unknown).bind(value) : member;
    },
    set(_, prop, member) {
      return Reflect.set(target(), prop, member);
    },
    has(_, prop) {
      return Reflect.has(target(), prop);
    },
  });
}

/** Starts a real Rewind (`Rewind.start(env)`) before the tests of this file or describe block, and stops it after them. */
export function useRewind(env: Record<string, string> = {}): Rewind {
  let rw: Rewind | undefined;
  beforeAll(async () => {
    rw = await Rewind.start(env);
  });
  afterAll(async () => {
    await rw?.stop();
  });
  return lateBound('useRewind()', () => rw);
}

/** Folders a test file makes (apps, tarballs): push them here and they are removed after its tests. */
export function useDirs(): string[] {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });
  return dirs;
}

/** A folder made before the tests of this file or describe block (e.g. `() => shopApp()`) and removed after them. */
export function useDir(make: () => Promise<string>): { readonly path: string } {
  let path: string | undefined;
  beforeAll(async () => {
    path = await make();
  });
  afterAll(async () => {
    if (path !== undefined) await rm(path, { recursive: true, force: true });
  });
  return {
    get path() {
      if (path === undefined) throw new Error('useDir(): the folder is made in its beforeAll; use it inside a test or a later hook');
      return path;
    },
  };
}

/** A copy of examples/hello in a temp dir, with its VERSION set. */
export async function helloApp(version: string, patch?: (server: string) => string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-hello-'));
  await cp(join(ROOT, 'examples', 'hello'), dir, { recursive: true });
  const file = join(dir, 'server.js');
  let server = (await readFile(file, 'utf8')).replace(/const VERSION = '[^']*'/, `const VERSION = '${version}'`);
  if (patch) server = patch(server);
  await writeFile(file, server);
  return dir;
}

export async function setVersion(dir: string, version: string): Promise<void> {
  const file = join(dir, 'server.js');
  await writeFile(file, (await readFile(file, 'utf8')).replace(/const VERSION = '[^']*'/, `const VERSION = '${version}'`));
}

export async function body(url: string): Promise<string> {
  const res = await fetch(url);
  return res.text();
}

export const releaseIdIn = (text: string, label = 'Release:') => new RegExp(`${label}\\s+(R[A-Z]{10})`).exec(text)?.[1];

export interface FixtureOptions {
  version: string;
  /** Delay before the server listens (a slow boot). */
  startDelayMs?: number;
  /** Status /health answers with. */
  healthStatus?: number;
  /** rewind.yml text; default a web component with /health. */
  manifest?: string;
  /** Extra files. */
  files?: Record<string, string>;
}

/** A tiny app written to a temp dir (not a git checkout). */
export async function fixtureApp(o: FixtureOptions): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-fixture-'));
  const server = `
const http = require('http');
const VERSION = ${JSON.stringify(o.version)};
const server = http.createServer((req, res) => {
  if (req.url === '/health') { res.writeHead(${o.healthStatus ?? 200}); return res.end('health'); }
  if (req.url.startsWith('/slow')) { const ms = Number(new URL(req.url, 'http://x').searchParams.get('ms') || 1000); return setTimeout(() => res.end('slow ' + VERSION), ms); }
  res.setHeader('content-type', 'text/plain');
  res.end('version=' + VERSION + ' greeting=' + (process.env.GREETING || 'hello') + '\\n');
});
setTimeout(() => server.listen(Number(process.env.PORT), '127.0.0.1'), ${o.startDelayMs ?? 0});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;
  await writeFile(join(dir, 'server.js'), server);
  await writeFile(
    join(dir, 'rewind.yml'),
    o.manifest ?? 'components:\n  web:\n    command: node server.js\n    health:\n      path: /health\n      timeout: 20\n      interval: 0.1\n',
  );
  for (const [name, text] of Object.entries(o.files ?? {})) await writeFile(join(dir, name), text);
  return dir;
}

// ── the shop example (several components, environments) ─────────────────────────────────

export type ShopComponent = 'web' | 'api' | 'worker' | 'assets';

/**
 * A copy of examples/shop in a temp dir. `components` keeps only those in rewind.yml (the worker
 * adds a 2 s "stays up" check to every rollout); `versions` sets each component's VERSION.
 */
export async function shopApp(o: { components?: readonly ShopComponent[]; versions?: Partial<Record<ShopComponent, string>> } = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-shop-'));
  await cp(join(ROOT, 'examples', 'shop'), dir, { recursive: true });
  if (o.components) {
    const file = join(dir, 'rewind.yml');
    const doc = parseYaml(await readFile(file, 'utf8')) as { components: Record<string, unknown> };
    for (const name of Object.keys(doc.components)) if (!o.components.includes(name as ShopComponent)) delete doc.components[name];
    await writeFile(file, stringifyYaml(doc));
  }
  for (const [c, v] of Object.entries(o.versions ?? {})) await setShopVersion(dir, c as ShopComponent, v);
  return dir;
}

const SHOP_FILES: Record<ShopComponent, [file: string, pattern: RegExp, text: (v: string) => string]> = {
  web: ['web/server.js', /const VERSION = '[^']*'/, (v) => `const VERSION = '${v}'`],
  api: ['api/server.js', /const VERSION = '[^']*'/, (v) => `const VERSION = '${v}'`],
  worker: ['worker/worker.js', /const VERSION = '[^']*'/, (v) => `const VERSION = '${v}'`],
  assets: ['assets/index.html', /<span class="version">[^<]*<\/span>/, (v) => `<span class="version">${v}</span>`],
};

export async function setShopVersion(dir: string, component: ShopComponent, version: string): Promise<void> {
  const [file, pattern, text] = SHOP_FILES[component];
  const path = join(dir, file);
  await writeFile(path, (await readFile(path, 'utf8')).replace(pattern, text(version)));
}

/**
 * The version a shop component's URL serves (`web v1`, `{"version":"v1"}`, `class="version">v1<`),
 * else `HTTP STATUS: BODY` (e.g. a "not deployed" page), else `unreachable: …`.
 */
export async function servedVersion(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    const m = /web (v[\w.-]+)<|"version":"([^"]+)"|class="version">([^<]+)</.exec(text);
    if (res.ok && m) return m[1] ?? m[2] ?? m[3];
    return `HTTP ${res.status}: ${text.trim()}`;
  } catch (err) {
    return `unreachable: ${(err as Error).message}`;
  }
}

export interface EnvView {
  name: string;
  position: number;
  activeRelease: string | null;
  url: string;
  health: string;
  components: Record<string, string>;
}

/** An environment as GET /api/apps/:app/envs shows it. */
export async function envOf(rw: Rewind, app: string, env: string): Promise<EnvView> {
  const { body } = await rw.api<EnvView[]>(`/api/apps/${app}/envs`);
  const e = body.find((x) => x.name === env);
  if (!e) throw new Error(`no environment ${env} in ${app}: ${JSON.stringify(body)}`);
  return e;
}

/** What each HTTP component of app/env serves: { web: 'v1', api: 'v1', assets: 'v1' }. */
export async function servedVersions(rw: Rewind, app: string, env: string, components: readonly ShopComponent[]): Promise<Record<string, string>> {
  const e = await envOf(rw, app, env);
  const out: Record<string, string> = {};
  for (const c of components) {
    const url = c === 'web' ? e.url : e.components[c];
    out[c] = url ? await servedVersion(url) : `no URL for ${c}`;
  }
  return out;
}

/** `OK, R…` at the end of a command's output. */
export const okRelease = (stdout: string) => /^OK, (R[A-Z]{10})$/m.exec(stdout)?.[1];

/**
 * POST /api/apps/APP/exec over a plain connection that the test can hang up (as a CLI killed by
 * Ctrl-C does). Resolves once the command started.
 */
export function startExec(
  url: string,
  app: string,
  command: string,
  headers: Record<string, string>,
): Promise<{ started: { pid: number }; output(): Promise<string>; hangUp(): void }> {
  return new Promise((resolveStart, reject) => {
    let req: ClientRequest;
    const lines: Array<{ type: string; pid?: number; text?: string }> = [];
    const waiting: Array<() => void> = [];
    req = httpRequest(`${url}/api/apps/${app}/exec`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`exec answered ${res.statusCode}`));
      let rest = '';
      res.setEncoding('utf8').on('data', (chunk: string) => {
        const parts = (rest + chunk).split('\n');
        rest = parts.pop() ?? '';
        for (const part of parts.filter(Boolean)) {
          const event = JSON.parse(part) as { type: string; pid?: number; text?: string };
          lines.push(event);
          if (event.type === 'started') {
            resolveStart({
              started: { pid: event.pid as number },
              output: () =>
                new Promise((resolveOutput) => {
                  const check = () => {
                    const out = lines.find((l) => l.type === 'output');
                    if (out) resolveOutput(out.text as string);
                    else waiting.push(check);
                  };
                  check();
                }),
              hangUp: () => req.destroy(),
            });
          }
          for (const w of waiting.splice(0)) w();
        }
      });
      res.on('error', () => {});
    });
    req.on('error', () => {});
    req.end(JSON.stringify({ command }));
  });
}

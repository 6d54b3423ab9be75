/**
 * The nginx data plane (`rewind agent --proxy nginx`): the agent runs its own nginx master (files
 * and pid under DATA/agent/nginx, never the system's), renders the whole configuration from its
 * bindings and reloads it gracefully (SIGHUP to that master) instead of proxying in Node. The
 * master is a daemon: like the instances, it keeps serving while the agent restarts.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentLogger } from './app-runtime.js';
import type { BindingLookup, DataPlane } from './data-plane.js';
import type { NginxListener, NginxPaths } from './nginx-config.js';
import { nginxPaths, nginxStartArgv, renderNginxConfig } from './nginx-config.js';
import { childPids, commandLine, freePort, isAlive } from './proc-info.js';
import type { ProxyBinding, Upstream } from './proxy.js';
import { writeFileAtomic } from './state-file.js';

const RELOAD_TIMEOUT_MS = 5000;
const WATCHDOG_MS = 1000;
const DEFAULT_SHUTDOWN_MS = 30_000;

export interface NginxPlaneOptions {
  /** The agent's data dir; nginx gets DATA/nginx. */
  readonly dataDir: string;
  readonly logger: AgentLogger;
  /** The nginx binary; default `nginx` on PATH. */
  readonly bin?: string;
}

function addressInUse(port: number): NodeJS.ErrnoException {
  return Object.assign(new Error(`listen EADDRINUSE: address already in use 127.0.0.1:${port}`), { code: 'EADDRINUSE' });
}

/** One port as nginx serves it: a record in the next configuration. */
class NginxBinding implements ProxyBinding {
  readonly app: string;
  readonly env: string;
  readonly #plane: NginxPlane;
  #port = 0;
  #upstreams: readonly Upstream[] = [];
  #notDeployed: string | null = null;

  constructor(plane: NginxPlane, app: string, env: string) {
    this.#plane = plane;
    this.app = app;
    this.env = env;
  }

  get port(): number {
    return this.#port;
  }

  get upstreams(): readonly Upstream[] {
    return this.#upstreams;
  }

  get notDeployed(): string | null {
    return this.#notDeployed;
  }

  async listen(port: number): Promise<void> {
    await this.#plane.claim(port, this);
    this.#port = port;
    this.#plane.changed();
  }

  setUpstreams(next: readonly Upstream[]): void {
    const same = next.length === this.#upstreams.length && next.every((u, i) => u.port === this.#upstreams[i]?.port);
    this.#upstreams = next;
    if (!same) this.#plane.changed();
  }

  setNotDeployed(component: string | null): void {
    if (component === this.#notDeployed) return;
    this.#notDeployed = component;
    this.#plane.changed();
  }

  async close(): Promise<void> {
    this.#plane.unclaim(this);
    this.#plane.changed();
  }
}

export class NginxPlane implements DataPlane {
  readonly kind = 'nginx' as const;
  readonly paths: NginxPaths;
  readonly #bin: string;
  readonly #logger: AgentLogger;
  readonly #bindings = new Set<NginxBinding>();
  /** Ports of the configuration the master runs now: ours even though they are bound (by nginx). */
  #owned = new Set<number>();
  #shared: { port: number; find: BindingLookup } | null = null;
  #master: number | null = null;
  #applied = '';
  /** Workers that a reload told to finish and exit: a drain waits for them. */
  readonly #retired = new Set<number>();
  #shutdownMs = DEFAULT_SHUTDOWN_MS;
  #dirty = false;
  #pending: Promise<void> | null = null;
  #lastError: Error | null = null;
  #closed = false;
  readonly #watchdog: NodeJS.Timeout;

  constructor(opts: NginxPlaneOptions) {
    this.paths = nginxPaths(opts.dataDir);
    this.#bin = opts.bin ?? 'nginx';
    this.#logger = opts.logger;
    mkdirSync(join(this.paths.prefix, 'tmp'), { recursive: true });
    this.#adoptMaster();
    // A master that died (killed, OOM) is started again with the current configuration.
    this.#watchdog = setInterval(() => {
      if (this.#closed || this.#pending || this.#masterAlive()) return;
      if (this.#master !== null) this.#logger.error({ pid: this.#master }, 'the nginx master is gone; starting it again');
      this.#master = null;
      this.changed();
    }, WATCHDOG_MS);
    this.#watchdog.unref();
  }

  get sharedPort(): number | null {
    return this.#shared?.port ?? null;
  }

  /** The pid of the nginx master, once it runs. */
  get masterPid(): number | null {
    return this.#master;
  }

  createBinding(app: string, env: string): ProxyBinding {
    return new NginxBinding(this, app, env);
  }

  /** Reserves `port` for `binding`: free, or already served by this nginx (after an agent restart). */
  async claim(port: number, binding: NginxBinding): Promise<void> {
    const taken = [...this.#bindings].some((b) => b !== binding && b.port === port) || this.#shared?.port === port;
    if (taken) throw addressInUse(port);
    if (!this.#owned.has(port) && (await freePort(port)) !== port) throw addressInUse(port);
    this.#bindings.add(binding);
  }

  unclaim(binding: NginxBinding): void {
    this.#bindings.delete(binding);
  }

  async openShared(port: number, find: BindingLookup): Promise<number> {
    const wanted = port || (await freePort());
    if ([...this.#bindings].some((b) => b.port === wanted) || (!this.#owned.has(wanted) && (await freePort(wanted)) !== wanted)) throw addressInUse(wanted);
    this.#shared = { port: wanted, find };
    this.changed();
    await this.settle();
    return wanted;
  }

  /** Something to route changed: one reload for every change made in the same tick. */
  changed(): void {
    if (this.#closed) return;
    this.#dirty = true;
    this.#pending ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#loop())
      .finally(() => (this.#pending = null));
  }

  async #loop(): Promise<void> {
    while (this.#dirty && !this.#closed) {
      this.#dirty = false;
      try {
        await this.#apply();
        this.#lastError = null;
      } catch (err) {
        this.#lastError = err as Error;
        this.#logger.error({ err }, 'nginx did not take the new configuration');
      }
    }
  }

  async settle(): Promise<void> {
    while (this.#pending) await this.#pending;
    if (this.#lastError) throw this.#lastError;
  }

  async drain(_upstreams: readonly Upstream[], timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    // Old workers finish their requests and exit; past the drain timeout nginx closes what is left.
    this.#shutdownMs = Math.max(1000, timeoutMs);
    const waiting = [...this.#retired];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const pid of waiting) if (!isAlive(pid)) this.#retired.delete(pid);
      if (waiting.every((pid) => !this.#retired.has(pid))) return true;
      if (Date.now() >= deadline || signal?.aborted) return false;
      await sleep(25);
    }
  }

  cut(): void {
    // worker_shutdown_timeout does it in nginx.
  }

  async close(stopServing: boolean): Promise<void> {
    this.#closed = true;
    clearInterval(this.#watchdog);
    await this.#pending?.catch(() => {});
    const master = this.#master;
    if (!stopServing || master === null || !this.#masterAlive()) return;
    process.kill(master, 'SIGQUIT'); // graceful: workers finish their requests
    const deadline = Date.now() + 5000;
    while (isAlive(master) && Date.now() < deadline) await sleep(25);
    if (isAlive(master)) process.kill(master, 'SIGKILL');
    for (const pid of this.#retired) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }

  /** The master of a previous agent still runs: keep it, and the ports it serves. */
  #adoptMaster(): void {
    const pid = this.#readPid();
    if (pid === null || !this.#isOurMaster(pid)) return;
    this.#master = pid;
    try {
      this.#applied = readFileSync(this.paths.conf, 'utf8');
      this.#owned = new Set([...this.#applied.matchAll(/listen 127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])));
    } catch {
      /* no configuration: the first apply writes one */
    }
    this.#logger.info({ pid }, 're-adopted the running nginx master');
  }

  #readPid(): number | null {
    try {
      const pid = Number(readFileSync(this.paths.pid, 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  #isOurMaster(pid: number): boolean {
    return isAlive(pid) && commandLine(pid).includes('nginx: master process') && commandLine(pid).includes(this.paths.conf);
  }

  #masterAlive(): boolean {
    return this.#master !== null && this.#isOurMaster(this.#master);
  }

  /** Workers of the master that take new connections (not those shutting down). */
  #workers(): number[] {
    if (this.#master === null) return [];
    return childPids(this.#master).filter((pid) => !commandLine(pid).includes('shutting down') && commandLine(pid).includes('worker process'));
  }

  #model(): Parameters<typeof renderNginxConfig>[0] {
    const listenerOf = (b: NginxBinding): NginxListener => ({ port: b.port, app: b.app, env: b.env, upstreams: b.upstreams.map((u) => u.port), ...(b.notDeployed !== null ? { notDeployed: b.notDeployed } : {}) });
    const bound = [...this.#bindings].filter((b) => b.port > 0).sort((a, b) => a.port - b.port);
    const listeners = bound.map(listenerOf);
    let shared;
    if (this.#shared) {
      const apps = new Map<string, NginxListener>();
      for (const b of bound) {
        const main = this.#shared.find(b.app, b.env);
        if (main instanceof NginxBinding && main.port > 0) apps.set(`${b.app}/${b.env}`, listenerOf(main));
      }
      shared = { port: this.#shared.port, apps: [...apps.values()] };
    }
    return { paths: this.paths, listeners, ...(shared ? { shared } : {}), shutdownTimeoutMs: this.#shutdownMs };
  }

  async #apply(): Promise<void> {
    const model = this.#model();
    const text = renderNginxConfig(model);
    const alive = this.#masterAlive();
    if (alive && text === this.#applied) return;
    writeFileAtomic(this.paths.conf, text);
    if (!alive) await this.#startMaster();
    else await this.#reload();
    this.#applied = text;
    this.#owned = new Set([...model.listeners.map((l) => l.port), ...(model.shared ? [model.shared.port] : [])]);
  }

  async #startMaster(): Promise<void> {
    const [file, ...args] = nginxStartArgv(this.#bin, this.paths);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(file as string, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('error', (err) => reject(new Error(`cannot run ${this.#bin}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
      // With `daemon on` this process exits once the master runs in the background.
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`nginx did not start (exit code ${code}): ${stderr.trim() || this.#errorLogTail()}`))));
    });
    const deadline = Date.now() + RELOAD_TIMEOUT_MS;
    while (Date.now() < deadline) {
      const pid = this.#readPid();
      if (pid !== null && this.#isOurMaster(pid)) {
        this.#master = pid;
        while (this.#workers().length === 0 && Date.now() < deadline) await sleep(10);
        this.#logger.info({ pid, conf: this.paths.conf }, 'nginx master started');
        return;
      }
      await sleep(10);
    }
    throw new Error(`nginx did not write ${this.paths.pid}: ${this.#errorLogTail()}`);
  }

  /** SIGHUP: new workers with the new configuration, old ones finish gracefully. Resolves once only new workers take connections. */
  async #reload(): Promise<void> {
    const master = this.#master as number;
    const before = this.#workers();
    const logSize = this.#errorLogSize();
    process.kill(master, 'SIGHUP');
    const deadline = Date.now() + RELOAD_TIMEOUT_MS;
    while (Date.now() < deadline) {
      // A configuration the master refuses: it says why in its error log and keeps the old one.
      const refused = /\[emerg\][^\n]*/.exec(this.#errorLogSince(logSize));
      if (refused) throw new Error(`nginx refused the new configuration: ${refused[0]}`);
      const now = this.#workers();
      const fresh = now.filter((pid) => !before.includes(pid));
      if (fresh.length > 0 && before.every((pid) => !now.includes(pid))) {
        for (const pid of before) if (isAlive(pid)) this.#retired.add(pid);
        return;
      }
      await sleep(5);
    }
    throw new Error(`nginx did not reload within ${RELOAD_TIMEOUT_MS / 1000}s: ${this.#errorLogTail()}`);
  }

  #errorLogSize(): number {
    try {
      return statSync(this.paths.errorLog).size;
    } catch {
      return 0;
    }
  }

  #errorLogSince(offset: number): string {
    try {
      const fd = openSync(this.paths.errorLog, 'r');
      try {
        const size = fstatSync(fd).size;
        if (size <= offset) return '';
        const buf = Buffer.alloc(Math.min(size - offset, 64 * 1024));
        readSync(fd, buf, 0, buf.length, offset);
        return buf.toString('utf8');
      } finally {
        closeSync(fd);
      }
    } catch {
      return '';
    }
  }

  #errorLogTail(): string {
    try {
      return readFileSync(this.paths.errorLog, 'utf8').trim().split('\n').slice(-3).join(' | ');
    } catch {
      return 'no error log';
    }
  }
}

/** Checks that nginx runs here, then the plane (its master starts with the first configuration). */
export async function startNginxPlane(opts: NginxPlaneOptions): Promise<NginxPlane> {
  const bin = opts.bin ?? findNginx() ?? 'nginx';
  await new Promise<void>((resolve, reject) =>
    execFile(bin, ['-v'], (err) => (err ? reject(new Error(`--proxy nginx needs nginx, but "${bin} -v" failed (${(err as NodeJS.ErrnoException).code ?? err.message}); install nginx or run the agent without --proxy nginx`)) : resolve())),
  );
  return new NginxPlane({ ...opts, bin });
}

/** The nginx binary: on PATH, else in the sbin folders a non-root PATH often lacks; null when there is none. */
export function findNginx(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((d) => join(d, 'nginx')).find((path) => existsSync(path)) ?? null;
}

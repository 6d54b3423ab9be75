/**
 * The nginx data plane (`rewind agent --proxy nginx`): the agent runs its own nginx masters (files
 * and pids under DATA/agent/nginx, never the system's), renders their configuration from its
 * bindings and reloads them gracefully (SIGHUP to those masters) instead of proxying in Node. Two
 * tiers (see nginx-config.ts): a switch reloads only the back one, so no client connection is
 * ever closed under a request. The masters are daemons: like the instances, they keep serving
 * while the agent restarts.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentLogger } from './app-runtime.js';
import type { BindingLookup, DataPlane } from './data-plane.js';
import type { NginxListener, NginxModel, NginxPaths } from './nginx-config.js';
import { nginxPaths, nginxStartArgv, renderBackConfig, renderFrontConfig, socketDir, socketPath } from './nginx-config.js';
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

/** One nginx master the agent runs (daemonized: it outlives the agent), found again by its pid file. */
class NginxMaster {
  readonly paths: NginxPaths;
  readonly #bin: string;
  readonly #logger: AgentLogger;
  pid: number | null = null;
  /** The configuration it runs now. */
  applied = '';
  /** Workers that a reload told to finish and exit: a drain waits for them. */
  readonly retired = new Set<number>();

  constructor(paths: NginxPaths, bin: string, logger: AgentLogger) {
    this.paths = paths;
    this.#bin = bin;
    this.#logger = logger;
    mkdirSync(join(paths.prefix, 'tmp'), { recursive: true });
  }

  /** The master of a previous agent still runs: keep it. */
  adopt(): boolean {
    const pid = this.#readPid();
    if (pid === null || !this.#isOurs(pid)) return false;
    this.pid = pid;
    try {
      this.applied = readFileSync(this.paths.conf, 'utf8');
    } catch {
      /* no configuration: the first apply writes one */
    }
    this.#logger.info({ pid, conf: this.paths.conf }, 're-adopted a running nginx master');
    return true;
  }

  alive(): boolean {
    return this.pid !== null && this.#isOurs(this.pid);
  }

  /** Runs `text`: starts the master, or reloads it gracefully; a no-op when it runs that already. */
  async apply(text: string): Promise<void> {
    const alive = this.alive();
    if (alive && text === this.applied) return;
    writeFileAtomic(this.paths.conf, text);
    if (alive) await this.#reload();
    else await this.#start();
    this.applied = text;
  }

  async stop(): Promise<void> {
    const pid = this.pid;
    if (pid === null || !this.alive()) return;
    process.kill(pid, 'SIGQUIT'); // graceful: workers finish their requests
    const deadline = Date.now() + 5000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(25);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    for (const worker of this.retired) if (isAlive(worker)) process.kill(worker, 'SIGKILL');
  }

  #readPid(): number | null {
    try {
      const pid = Number(readFileSync(this.paths.pid, 'utf8').trim());
      return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
      return null;
    }
  }

  #isOurs(pid: number): boolean {
    const cmd = commandLine(pid);
    return isAlive(pid) && cmd.includes('nginx: master process') && cmd.includes(this.paths.conf);
  }

  /** Workers that take new connections (not those shutting down). */
  #workers(): number[] {
    if (this.pid === null) return [];
    return childPids(this.pid).filter((pid) => {
      const cmd = commandLine(pid);
      return cmd.includes('worker process') && !cmd.includes('shutting down');
    });
  }

  async #start(): Promise<void> {
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
      if (pid !== null && this.#isOurs(pid)) {
        this.pid = pid;
        while (this.#workers().length === 0 && Date.now() < deadline) await sleep(10);
        this.#logger.info({ pid, conf: this.paths.conf }, 'nginx master started');
        return;
      }
      await sleep(10);
    }
    throw new Error(`nginx did not write ${this.paths.pid}: ${this.#errorLogTail()}`);
  }

  /**
   * SIGHUP: new workers with the new configuration, old ones finish gracefully. Resolves once only
   * new workers take connections (nginx itself waits 100 ms before it retires the old ones).
   */
  async #reload(): Promise<void> {
    const master = this.pid as number;
    const before = this.#workers();
    const logSize = this.#errorLogSize();
    process.kill(master, 'SIGHUP');
    const deadline = Date.now() + RELOAD_TIMEOUT_MS;
    while (Date.now() < deadline) {
      // A configuration the master refuses: it says why in its error log and keeps the old one.
      const refused = /\[emerg\][^\n]*/.exec(this.#errorLogSince(logSize));
      if (refused) throw new Error(`nginx refused the new configuration: ${refused[0]}`);
      const now = this.#workers();
      if (now.some((pid) => !before.includes(pid)) && before.every((pid) => !now.includes(pid))) {
        for (const pid of before) if (isAlive(pid)) this.retired.add(pid);
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

export class NginxPlane implements DataPlane {
  readonly kind = 'nginx' as const;
  readonly #front: NginxMaster;
  readonly #back: NginxMaster;
  readonly #sockets: string;
  readonly #logger: AgentLogger;
  readonly #bindings = new Set<NginxBinding>();
  /** Ports of the configuration the front master runs now: ours even though they are bound (by nginx). */
  #owned = new Set<number>();
  #shared: { port: number; find: BindingLookup } | null = null;
  #shutdownMs = DEFAULT_SHUTDOWN_MS;
  #dirty = false;
  #pending: Promise<void> | null = null;
  #lastError: Error | null = null;
  #closed = false;
  readonly #watchdog: NodeJS.Timeout;

  constructor(opts: NginxPlaneOptions & { readonly bin: string }) {
    this.#logger = opts.logger;
    this.#front = new NginxMaster(nginxPaths(opts.dataDir, 'front'), opts.bin, opts.logger);
    this.#back = new NginxMaster(nginxPaths(opts.dataDir, 'back'), opts.bin, opts.logger);
    this.#sockets = socketDir(opts.dataDir);
    mkdirSync(this.#sockets, { recursive: true });
    if (socketPath(this.#sockets, 65535).length > 107) throw new Error(`the agent's data dir ${opts.dataDir} is too deep for nginx's unix sockets; use a shorter --data path`);
    this.#back.adopt();
    if (this.#front.adopt()) this.#owned = new Set([...this.#front.applied.matchAll(/listen 127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])));
    // A master that died (killed, OOM) is started again with the current configuration.
    this.#watchdog = setInterval(() => {
      if (this.#closed || this.#pending || (this.#front.alive() && this.#back.alive())) return;
      for (const m of [this.#front, this.#back]) if (m.pid !== null && !m.alive()) this.#logger.error({ pid: m.pid, conf: m.paths.conf }, 'an nginx master is gone; starting it again');
      this.changed();
    }, WATCHDOG_MS);
    this.#watchdog.unref();
  }

  get sharedPort(): number | null {
    return this.#shared?.port ?? null;
  }

  /** The pids of the two nginx masters, once they run. */
  get masters(): { front: number | null; back: number | null } {
    return { front: this.#front.pid, back: this.#back.pid };
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
    // Old back workers finish their requests and exit; past the drain timeout nginx closes what is left.
    this.#shutdownMs = Math.max(1000, timeoutMs);
    const retired = this.#back.retired;
    const waiting = [...retired];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const pid of waiting) if (!isAlive(pid)) retired.delete(pid);
      if (waiting.every((pid) => !retired.has(pid))) return true;
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
    if (stopServing) await Promise.all([this.#front.stop(), this.#back.stop()]);
  }

  #model(): NginxModel {
    const listenerOf = (b: NginxBinding): NginxListener => ({ port: b.port, app: b.app, env: b.env, upstreams: b.upstreams.map((u) => u.port), ...(b.notDeployed !== null ? { notDeployed: b.notDeployed } : {}) });
    const bound = [...this.#bindings].filter((b) => b.port > 0).sort((a, b) => a.port - b.port);
    let shared;
    if (this.#shared) {
      const apps = new Map<string, NginxListener>();
      for (const b of bound) {
        const main = this.#shared.find(b.app, b.env);
        if (main instanceof NginxBinding && main.port > 0) apps.set(`${b.app}/${b.env}`, listenerOf(main));
      }
      shared = { port: this.#shared.port, apps: [...apps.values()] };
    }
    const root = process.getuid?.() === 0;
    return { front: this.#front.paths, back: this.#back.paths, sockets: this.#sockets, listeners: bound.map(listenerOf), ...(shared ? { shared } : {}), shutdownTimeoutMs: this.#shutdownMs, ...(root ? { user: 'root' } : {}) };
  }

  /** The back first (it must serve a new port's socket before the front forwards to it), then the front. */
  async #apply(): Promise<void> {
    const model = this.#model();
    await this.#back.apply(renderBackConfig(model));
    await this.#front.apply(renderFrontConfig(model));
    this.#owned = new Set([...model.listeners.map((l) => l.port), ...(model.shared ? [model.shared.port] : [])]);
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

/**
 * The nginx data plane (`rewind agent --proxy nginx`): the agent runs its own nginx masters (files
 * and pids under DATA/agent/nginx, never the system's), renders their configuration from its
 * bindings and reloads them gracefully (SIGHUP to those masters) instead of proxying in Node. Two
 * tiers (see nginx-config.ts): a switch reloads only the back one, so no client connection is
 * ever closed under a request. The masters are daemons: like the instances, they keep serving
 * while the agent restarts.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentLogger } from './agent-context.js';
import type { BindingLookup, DataPlane } from './data-plane.js';
import type { NginxListener, NginxModel } from './nginx-config.js';
import { nginxPaths, renderBackConfig, renderFrontConfig, socketDir, socketPath } from './nginx-config.js';
import { NginxMaster } from './nginx-master.js';
import { freePort, isAlive } from './proc-info.js';
import type { ProxyBinding, Upstream } from './proxy.js';

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
    if (socketPath(this.#sockets, 65535).length > 107)
      throw new Error(`the agent's data dir ${opts.dataDir} is too deep for nginx's unix sockets; use a shorter --data path`);
    this.#back.adopt();
    if (this.#front.adopt()) this.#owned = new Set([...this.#front.applied.matchAll(/listen 127\.0\.0\.1:(\d+)/g)].map((m) => Number(m[1])));
    // A master that died (killed, OOM) is started again with the current configuration.
    this.#watchdog = setInterval(() => {
      if (this.#closed || this.#pending || (this.#front.alive() && this.#back.alive())) return;
      for (const m of [this.#front, this.#back])
        if (m.pid !== null && !m.alive()) this.#logger.error({ pid: m.pid, conf: m.paths.conf }, 'an nginx master is gone; starting it again');
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
    this.#pending ??= this.#loop();
  }

  /**
   * Applies until nothing is dirty. The last check of `#dirty` and the clearing of `#pending`
   * happen in one synchronous step: a change made while the loop ends either is seen by the check,
   * or finds `#pending` cleared and starts a new loop (no change is left unapplied, no settle() returns early).
   */
  async #loop(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (;;) {
      if (!this.#dirty || this.#closed) {
        this.#pending = null;
        return;
      }
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
    const listenerOf = (b: NginxBinding): NginxListener => ({
      port: b.port,
      app: b.app,
      env: b.env,
      upstreams: b.upstreams.map((u) => u.port),
      ...(b.notDeployed !== null ? { notDeployed: b.notDeployed } : {}),
    });
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
    return {
      front: this.#front.paths,
      back: this.#back.paths,
      sockets: this.#sockets,
      listeners: bound.map(listenerOf),
      ...(shared ? { shared } : {}),
      shutdownTimeoutMs: this.#shutdownMs,
      ...(root ? { user: 'root' } : {}),
    };
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
    execFile(bin, ['-v'], (err) =>
      err
        ? reject(
            new Error(
              `--proxy nginx needs nginx, but "${bin} -v" failed (${(err as NodeJS.ErrnoException).code ?? err.message}); install nginx or run the agent without --proxy nginx`,
            ),
          )
        : resolve(),
    ),
  );
  return new NginxPlane({ ...opts, bin });
}

/** The nginx binary: on PATH, else in the sbin folders a non-root PATH often lacks; null when there is none. */
export function findNginx(): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/local/sbin'];
  return dirs.map((d) => join(d, 'nginx')).find((path) => existsSync(path)) ?? null;
}

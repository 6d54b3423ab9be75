/**
 * Everything the agent runs for one app/env: its proxy, its instances (live, starting, draining),
 * its logs. Starts, supervises (restart with backoff) and stops instances; rollouts build on it.
 */
import { join } from 'node:path';
import type { DesiredState, ObservedApp } from '../protocol/agent-protocol.js';
import { waitHealthy } from './health-check.js';
import type { Instance } from './instance.js';
import { label, observeInstance, persistInstance } from './instance.js';
import { AppLog } from './log-files.js';
import { freePort, killLeftoverGroup } from './proc-info.js';
import { instancePlan, restartDelayMs, routedComponent, servesHttp } from './process-commands.js';
import { AppProxy, Upstream } from './proxy.js';
import type { SlugCache } from './slug-cache.js';
import type { PersistedApp } from './state-file.js';
import { serveStatic } from './static-server.js';
import type { ExitInfo, ProcessHandle } from './supervisor.js';
import { describeExit, spawnInstance } from './supervisor.js';

/** Minimal pino-compatible logger for the agent's own diagnostics. */
export interface AgentLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface AgentContext {
  readonly dataDir: string;
  readonly slugs: SlugCache;
  readonly agentEnv: Readonly<Record<string, string | undefined>>;
  readonly logger: AgentLogger;
  /** Grace between SIGTERM and SIGKILL when stopping an instance. */
  readonly stopGraceMs: number;
  persist(): void;
}

/** Uptime after which a restart counts as a fresh failure again (backoff back to 1s). */
const STABLE_MS = 30_000;

export class AppRuntime {
  readonly app: string;
  readonly env: string;
  readonly ctx: AgentContext;
  readonly log: AppLog;
  proxy: AppProxy;
  release: string | null = null;
  desired: DesiredState | null = null;
  instances: Instance[] = [];
  rollout: { release: string; deployment?: string; phase: string } | null = null;
  rolloutAbort: AbortController | null = null;
  rolloutDone: Promise<unknown> | null = null;
  closed = false;
  /** Set while DELETE stops everything: no new rollout may start. */
  removing = false;

  constructor(ctx: AgentContext, app: string, env: string, proxyPort: number) {
    this.ctx = ctx;
    this.app = app;
    this.env = env;
    this.log = new AppLog(ctx.dataDir, app, env);
    this.proxy = new AppProxy(app, env);
    this.wantedProxyPort = proxyPort;
  }

  /** The proxy port this app/env should listen on (the proxy may not have bound it yet). */
  wantedProxyPort: number;

  observe(): ObservedApp {
    return {
      app: this.app,
      env: this.env,
      release: this.release,
      proxyPort: this.proxy.port || this.wantedProxyPort,
      ...(this.rollout ? { rollout: { ...this.rollout } } : {}),
      instances: this.instances.map(observeInstance),
    };
  }

  toPersisted(): PersistedApp {
    return {
      app: this.app,
      env: this.env,
      release: this.release,
      proxyPort: this.proxy.port || this.wantedProxyPort,
      desired: this.desired,
      instances: this.instances.map((i) => persistInstance(i, this.log.offsetOf(i.id))),
    };
  }

  /** True when the proxy should route to `instance` once it is healthy. */
  isRouted(instance: Instance): boolean {
    return routedComponent(instance.desired.components)?.name === instance.component.name;
  }

  /** Rebuilds the proxy's upstream set from the live, healthy, routed instances: one assignment. */
  refreshUpstreams(): void {
    this.proxy.setUpstreams(this.instances.filter((i) => i.role === 'live' && i.upstream && i.state === 'healthy').map((i) => i.upstream as Upstream));
  }

  /** Starts the process (or static server) of `instance`, and watches it. */
  async start(instance: Instance, say: (message: string) => void = (m) => this.log.system(m)): Promise<ProcessHandle> {
    const c = instance.component;
    const logPath = this.log.rawPath(c.name, instance.id);
    let handle: ProcessHandle;
    if (c.command === undefined) {
      const root = join(instance.slugDir, c.static ?? '.');
      handle = await serveStatic(root, instance.port as number).catch((err: NodeJS.ErrnoException) => failedHandle(err.code ?? err.message));
    } else {
      const plan = instancePlan({ app: this.app, env: this.env, release: instance.desired.release, component: c, config: instance.desired.config, slugDir: instance.slugDir, port: servesHttp(c) ? instance.port : null, agentEnv: this.ctx.agentEnv });
      handle = await spawnInstance(plan, logPath);
    }
    instance.handle = handle;
    instance.startedAt = new Date().toISOString();
    instance.state = 'starting';
    this.log.track(c.name, instance.id, this.log.offsetOf(instance.id));
    const where = instance.port !== null ? ` on port ${instance.port}` : '';
    say(`starting ${label(instance)} (${handle.pid !== null ? `pid ${handle.pid}` : 'static files'})${where}`);
    this.watch(instance, handle);
    return handle;
  }

  /** Reacts to the exit of `handle` while it is still the instance's current process. */
  watch(instance: Instance, handle: ProcessHandle): void {
    void handle.exited.then((info) => {
      if (instance.handle !== handle || instance.stopping || this.closed) return;
      instance.state = 'crashed';
      if (instance.role === 'live') this.#crashed(instance, info);
    });
  }

  #crashed(instance: Instance, info: ExitInfo): void {
    const upSince = Date.parse(instance.startedAt);
    if (Date.now() - upSince > STABLE_MS) instance.failures = 0;
    const delay = restartDelayMs(instance.failures);
    instance.failures++;
    this.log.pump();
    this.log.system(`${label(instance)} ${describeExit(info)}, restarting in ${delay / 1000}s`);
    this.#unroute(instance);
    this.ctx.persist();
    instance.restartTimer = setTimeout(() => void this.restart(instance), delay);
  }

  /** Starts a live instance again (after a crash, or when it was found dead at agent start). */
  async restart(instance: Instance): Promise<void> {
    instance.restartTimer = null;
    if (instance.stopping || this.closed) return;
    instance.restarts++;
    if (instance.handle?.pid) killLeftoverGroup(instance.handle.pid);
    try {
      if (instance.port !== null) instance.port = await freePort(instance.port);
      await this.ctx.slugs.ensure(instance.component.artifact);
    } catch (err) {
      return this.#crashed(instance, { code: null, signal: null, error: (err as Error).message });
    }
    if (instance.stopping || this.closed) return;
    let handle: ProcessHandle;
    try {
      handle = await this.start(instance);
    } catch (err) {
      return this.#crashed(instance, { code: null, signal: null, error: (err as Error).message });
    }
    this.ctx.persist();
    const outcome = await waitHealthy({ port: servesHttp(instance.component) ? instance.port : null, spec: instance.component.health, exited: handle.exited, signal: instance.abort.signal });
    if (instance.handle !== handle || instance.stopping || this.closed) return;
    if (outcome.ok) return this.markHealthy(instance);
    if (outcome.reason === 'timeout') {
      this.log.system(`${label(instance)} is not healthy after ${instance.component.health.timeoutMs / 1000}s (${outcome.detail})`);
      instance.state = 'unhealthy';
      instance.handle = null; // its exit is ours, not a crash for watch() to react to
      await handle.stop(this.ctx.stopGraceMs);
      if (!instance.stopping && !this.closed) this.#crashed(instance, { code: null, signal: null, error: 'not healthy' });
    }
    // 'exited' is handled by watch(); 'aborted' means it is being stopped.
  }

  /** Records a started instance as healthy and, for the routed component of a live release, routes to it. */
  markHealthy(instance: Instance, say: (message: string) => void = (m) => this.log.system(m)): void {
    const routed = this.isRouted(instance) && instance.port !== null;
    instance.state = servesHttp(instance.component) ? 'healthy' : 'running';
    say(`${label(instance)} ${instance.state}`);
    if (routed && (!instance.upstream || instance.upstream.port !== instance.port)) {
      void instance.upstream?.close();
      instance.upstream = new Upstream(instance.id, instance.port as number);
    }
    if (instance.role === 'live') {
      this.refreshUpstreams();
      this.ctx.persist();
    }
  }

  #unroute(instance: Instance): void {
    const upstream = instance.upstream;
    if (!upstream) return;
    instance.upstream = null;
    this.refreshUpstreams();
    void upstream.close();
  }

  /** Stops an instance for good: no more traffic, SIGTERM to its group, SIGKILL after the grace. */
  async stop(instance: Instance, say: (message: string) => void = (m) => this.log.system(m)): Promise<void> {
    if (instance.stopping) return;
    instance.stopping = true;
    instance.abort.abort();
    if (instance.restartTimer) clearTimeout(instance.restartTimer);
    instance.state = 'stopping';
    this.#unroute(instance);
    const handle = instance.handle;
    if (handle) {
      say(`stopping ${label(instance)}${handle.pid !== null ? ` (pid ${handle.pid})` : ''}`);
      await handle.stop(this.ctx.stopGraceMs);
    }
    this.log.untrack(instance.id, true);
    this.instances = this.instances.filter((i) => i !== instance);
  }

  /** Stops everything, closes the proxy: the app/env is forgotten. */
  async remove(): Promise<void> {
    this.removing = true;
    this.rolloutAbort?.abort();
    await this.rolloutDone?.catch(() => {});
    this.closed = true;
    await this.proxy.close();
    await Promise.all(this.instances.map((i) => this.stop(i)));
    this.log.close();
  }

  /**
   * Agent shutdown: stop watching and serving; instances keep running and are re-adopted at the
   * next start. With `stopInstances` their processes are stopped too, but the live ones stay
   * recorded, so the next start brings the release back up.
   */
  async close(stopInstances: boolean): Promise<void> {
    this.rolloutAbort?.abort();
    await this.rolloutDone?.catch(() => {});
    this.closed = true;
    for (const instance of this.instances) {
      if (instance.restartTimer) clearTimeout(instance.restartTimer);
      instance.abort.abort();
      if (!stopInstances) instance.handle?.release();
    }
    await this.proxy.close();
    if (stopInstances) {
      await Promise.all(this.instances.map((i) => i.handle?.stop(this.ctx.stopGraceMs)));
      for (const instance of this.instances) if (instance.role !== 'live') this.log.untrack(instance.id, true);
      this.instances = this.instances.filter((i) => i.role === 'live');
    }
    this.log.close();
  }
}

function failedHandle(error: string): ProcessHandle {
  return { pid: null, exited: Promise.resolve({ code: null, signal: null, error }), stop: async () => {}, release: () => {} };
}

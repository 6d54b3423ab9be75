/**
 * Everything the agent runs for one app/env: its ports, its instances (live, starting, standby,
 * draining), its logs. Starts, supervises (health probes, restart with backoff) and stops
 * instances; retires replaced ones to the warm standby; watches a new release for an automatic
 * rollback. Rollouts (rollout.ts) build on it. Split out: the shared context (agent-context.ts),
 * starting an instance (instance-start.ts), standby claims (standby-claims.ts), the automatic-rollback
 * watch (release-watch.ts), and its observed/persisted views (app-view.ts).
 */
import type { AutoRollback, DesiredComponent, DesiredState, ObservedApp } from '../protocol/agent-protocol.js';
import type { AgentContext } from './agent-context.js';
import { observeApp, persistApp } from './app-view.js';
import { STEADY_PROBE_MS, monitorHealth } from './health-monitor.js';
import type { Instance } from './instance.js';
import { label } from './instance.js';
import { startInstance } from './instance-start.js';
import { instanceCrashed, instanceProbed, restartInstance } from './instance-restart.js';
import { AppLog } from './log-files.js';
import { routedComponent, servesHttp } from './process-commands.js';
import type { ProxyBinding } from './proxy.js';
import { Upstream } from './proxy.js';
import { RouteSet } from './routing.js';
import type { ReleaseWatch } from './release-watch.js';
import { isWatched } from './release-watch.js';
import { StandbyPool } from './standby.js';
import { stopStandby } from './standby-claims.js';
import type { PersistedApp } from './state-file.js';
import { removeWorkDir } from './work-copy.js';
import type { ProcessHandle } from './supervisor.js';
import { describeExit } from './supervisor.js';

export class AppRuntime {
  readonly app: string;
  readonly env: string;
  readonly ctx: AgentContext;
  readonly log: AppLog;
  readonly routing: RouteSet;
  readonly standby: StandbyPool;
  release: string | null = null;
  desired: DesiredState | null = null;
  /** The desired state that was live before `desired`: where an automatic rollback goes. */
  previous: DesiredState | null = null;
  instances: Instance[] = [];
  watch: ReleaseWatch | null = null;
  autoRollbacks: AutoRollback[] = [];
  rollout: { release: string; deployment?: string; phase: string } | null = null;
  rolloutAbort: AbortController | null = null;
  rolloutDone: Promise<unknown> | null = null;
  closed = false;
  /** Set while DELETE stops everything: no new rollout may start. */
  removing = false;
  /** Aborted when the runtime closes: background drains end early. */
  readonly #lifetime = new AbortController();

  get lifetime(): AbortSignal {
    return this.#lifetime.signal;
  }
  readonly #background = new Set<Promise<void>>();

  constructor(ctx: AgentContext, app: string, env: string, proxyPort: number) {
    this.ctx = ctx;
    this.app = app;
    this.env = env;
    this.log = new AppLog(ctx.dataDir, app, env);
    this.routing = new RouteSet(ctx.plane, app, env);
    this.standby = new StandbyPool((set) => this.track(stopStandby(this, set, 'its time on standby is over')));
    this.wantedProxyPort = proxyPort;
  }

  /** The proxy port this app/env should listen on (the proxy may not have bound it yet). */
  wantedProxyPort: number;

  /** The binding of the main port (the web component). */
  get proxy(): ProxyBinding {
    return this.routing.main;
  }

  observe(): ObservedApp {
    return observeApp(this);
  }

  toPersisted(): PersistedApp {
    return persistApp(this);
  }

  /** True when `instance` is of the component the main port routes to. */
  isRouted(instance: Instance): boolean {
    return routedComponent(instance.desired.components)?.name === instance.component.name;
  }

  /** Gives every port its healthy live instances: one assignment each, in one tick. */
  refreshUpstreams(): void {
    this.routing.refresh(this.instances, this.desired);
  }

  /** Starts the process (or static server) of `instance` in a fresh copy of its build's files, and watches it. */
  async start(instance: Instance, say: (message: string) => void = (m) => this.log.system(m)): Promise<ProcessHandle> {
    return startInstance(this, instance, say);
  }

  /** Reacts to the exit of `handle` while it is still the instance's current process. */
  watchExit(instance: Instance, handle: ProcessHandle): void {
    void handle.exited.then((info) => {
      if (instance.handle !== handle || instance.stopping || this.closed) return;
      instance.state = 'crashed';
      if (instance.role === 'live' || instance.role === 'standby') instanceCrashed(this, instance, describeExit(info));
    });
  }

  /** Starts a live or standby instance again (after a crash, or when it was found dead at agent start). */
  restart(instance: Instance): Promise<void> {
    return restartInstance(this, instance);
  }

  /** Records a started (or re-adopted) instance as up; live ones of a routed component get traffic. */
  markHealthy(instance: Instance, say: (message: string) => void = (m) => this.log.system(m)): void {
    const http = servesHttp(instance.component) && instance.port !== null;
    instance.state = instance.role === 'standby' ? 'standby' : http ? 'healthy' : 'running';
    say(`${label(instance)} ${instance.state === 'standby' ? 'healthy (standby)' : instance.state}`);
    if (http && (!instance.upstream || instance.upstream.port !== instance.port)) {
      void instance.upstream?.close();
      instance.upstream = new Upstream(instance.id, instance.port as number);
    }
    this.startProbes(instance);
    if (instance.role === 'live') this.refreshUpstreams();
    if (instance.role === 'live' || instance.role === 'standby') void this.ctx.persist();
  }

  /** (Re)starts the periodic health probes of an instance that serves HTTP. */
  startProbes(instance: Instance): void {
    instance.stopProbe?.();
    instance.stopProbe = null;
    instance.probeFailures = 0;
    if (!servesHttp(instance.component) || instance.port === null || instance.component.command === undefined) return;
    const spec = instance.component.health;
    instance.stopProbe = monitorHealth({
      port: instance.port,
      spec,
      interval: () => (isWatched(this, instance) ? spec.intervalMs : Math.max(spec.intervalMs, STEADY_PROBE_MS)),
      onResult: (result) => instanceProbed(this, instance, result),
    });
  }

  /** Takes `instance` out of the routed set (it crashed, or is being recycled or stopped). */
  unroute(instance: Instance): void {
    const upstream = instance.upstream;
    if (!upstream) return;
    instance.upstream = null;
    if (instance.role === 'live') this.refreshUpstreams();
    void upstream.close();
  }

  /** Stops an instance for good: no more traffic, SIGTERM to its group, SIGKILL after the grace. */
  async stop(instance: Instance, say: (message: string) => void = (m) => this.log.system(m)): Promise<void> {
    if (instance.stopping) return;
    instance.stopping = true;
    instance.abort.abort();
    if (instance.restartTimer) clearTimeout(instance.restartTimer);
    instance.stopProbe?.();
    instance.stopProbe = null;
    instance.state = 'stopping';
    this.unroute(instance);
    const handle = instance.handle;
    if (handle) {
      say(`stopping ${label(instance)}${handle.pid !== null ? ` (pid ${handle.pid})` : ''}`);
      await handle.stop(this.ctx.stopGraceMs);
    }
    this.log.untrack(instance.id, true);
    this.instances = this.instances.filter((i) => i !== instance);
    await removeWorkDir(this.ctx.dataDir, instance.workDir).catch((err: Error) =>
      this.ctx.logger.warn({ err, dir: instance.workDir }, 'cannot remove the working copy of a stopped instance'),
    );
  }

  /** Makes a running instance part of `desired` (a kept or reused one): same process, new labels. */
  relabel(instance: Instance, desired: DesiredState, component: DesiredComponent): void {
    instance.desired = desired;
    instance.component = component;
  }

  /** Work that goes on after a rollout returned; close() and remove() wait for it. */
  track(task: Promise<void>): void {
    const tracked = task.catch((err: unknown) => this.ctx.logger.error({ app: this.app, env: this.env, err }, 'background task failed'));
    this.#background.add(tracked);
    void tracked.finally(() => this.#background.delete(tracked));
  }

  #quiet(): void {
    this.#lifetime.abort();
    this.standby.clearTimers();
    if (this.watch) clearTimeout(this.watch.timer);
    for (const instance of this.instances) {
      if (instance.restartTimer) clearTimeout(instance.restartTimer);
      instance.stopProbe?.();
      instance.stopProbe = null;
      instance.abort.abort();
    }
  }

  /** Stops everything, closes the ports: the app/env is forgotten. */
  async remove(): Promise<void> {
    this.removing = true;
    this.rolloutAbort?.abort();
    await this.rolloutDone?.catch(() => {});
    this.closed = true;
    this.#quiet();
    await Promise.all(this.#background);
    await this.routing.close();
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
    this.#quiet();
    for (const instance of this.instances) if (!stopInstances) instance.handle?.release();
    await Promise.all(this.#background);
    await this.routing.close();
    // The proxy's keep-alive pools; the next agent opens its own.
    await Promise.all(this.instances.map((i) => i.upstream?.close()));
    if (stopInstances) {
      await Promise.all(this.instances.map((i) => i.handle?.stop(this.ctx.stopGraceMs)));
      for (const instance of this.instances) if (instance.role !== 'live') this.log.untrack(instance.id, true);
      this.instances = this.instances.filter((i) => i.role === 'live');
      this.standby.trim(0);
    }
    this.log.close();
  }
}

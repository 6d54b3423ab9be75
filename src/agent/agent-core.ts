/**
 * The agent's model: one AppRuntime per app/env, persisted on every change, re-adopted on start.
 * The HTTP API is a thin shell over this class.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { AgentEvent, AgentSnapshot, AgentState, DesiredState, ExecEvent, ExecRequest, ObservedApp } from '../protocol/agent-protocol.js';
import { adoptApp, runtimeKey, stopUnknownInstances } from './adoption.js';
import type { AgentContext, AgentLogger } from './agent-context.js';
import { AgentHttpError } from './agent-http-error.js';
import { AppRuntime } from './app-runtime.js';
import type { DataPlane } from './data-plane.js';
import { BuiltinPlane } from './data-plane.js';
import { EdgeSet } from './edge-set.js';
import { execInApp } from './exec-in-app.js';
import { label } from './instance.js';
import { disarmWatch, recordAutoRollback } from './release-watch.js';
import type { RolloutOptions, RolloutResult } from './rollout.js';
import { runRollout } from './rollout.js';
import type { SlugCache } from './slug-cache.js';
import type { PersistedState } from './state-file.js';
import { StateWriter } from './state-file.js';
import { takeSnapshot, type LiveComponent } from './snapshot.js';
import { sweepWorkDirs, workDirPath } from './work-copy.js';

export interface AgentCoreOptions {
  readonly dataDir: string;
  readonly slugs: SlugCache;
  readonly logger: AgentLogger;
  readonly version: string;
  readonly stopGraceMs?: number;
  /** Who serves the proxy ports; default: the agent itself. */
  readonly plane?: DataPlane;
  /** The address edge routes listen on; default 127.0.0.1. */
  readonly edgeHost?: string;
}

const key = runtimeKey;

export class AgentCore {
  readonly version: string;
  readonly plane: DataPlane;
  /** The edge routes: always served by the built-in proxy, whichever the data plane. */
  readonly edges: EdgeSet;
  readonly #ctx: AgentContext;
  readonly #runtimes = new Map<string, AppRuntime>();
  readonly #state: StateWriter;
  #closing = false;

  constructor(opts: AgentCoreOptions) {
    this.version = opts.version;
    this.plane = opts.plane ?? new BuiltinPlane();
    this.#state = new StateWriter(
      opts.dataDir,
      () => ({ version: 1, apps: [...this.#runtimes.values()].map((rt) => rt.toPersisted()), ...this.edges.persisted() }),
      (err) => opts.logger.error({ err }, 'cannot write the agent state file'),
    );
    this.edges = new EdgeSet({ host: opts.edgeHost ?? '127.0.0.1', logger: opts.logger, persist: () => this.persist() });
    this.#ctx = {
      dataDir: opts.dataDir,
      slugs: opts.slugs,
      agentEnv: process.env,
      logger: opts.logger,
      stopGraceMs: opts.stopGraceMs ?? 5000,
      plane: this.plane,
      persist: () => this.persist(),
      tripped: (rt, reason) => this.#autoRollback(rt, reason),
    };
  }

  /** Records the current state in the state file; resolves once that is durable (never rejects). */
  persist(): Promise<void> {
    return this.#state.write();
  }

  state(): AgentState {
    const shared = this.plane.sharedPort;
    return {
      pid: process.pid,
      version: this.version,
      proxy: this.plane.kind,
      ...(shared ? { sharedPort: shared } : {}),
      apps: [...this.#runtimes.values()].map((rt) => rt.observe()),
    };
  }

  observe(app: string, env: string): ObservedApp | null {
    return this.#runtimes.get(key(app, env))?.observe() ?? null;
  }

  /**
   * What is actually live for app/env: each live component's files (drift included) and the config
   * its processes run with. Nothing live: an empty snapshot.
   */
  async snapshot(app: string, env: string): Promise<AgentSnapshot> {
    const rt = this.#runtimes.get(key(app, env));
    const release = rt?.desired?.release ?? null;
    const live = rt ? rt.instances.filter((i) => i.role === 'live' && i.desired.release === release) : [];
    const components = new Map<string, LiveComponent>();
    for (const i of live) {
      const pid = i.handle?.pid ?? null;
      const seen = components.get(i.component.name);
      if (!seen || (seen.pid === null && pid !== null))
        components.set(i.component.name, { name: i.component.name, build: i.component.build, slugDir: i.workDir, pid });
    }
    return takeSnapshot({
      dir: join(this.#ctx.dataDir, 'snapshots'),
      app,
      env,
      release: live.length ? release : null,
      components: [...components.values()],
      declaredConfig: rt?.desired?.config ?? {},
      agentEnv: this.#ctx.agentEnv,
    });
  }

  /** Runs a one-off command in app/env's live release (`rewind exec`): see execInApp. */
  async exec(app: string, env: string, request: ExecRequest, onEvent: (event: ExecEvent) => void, signal: AbortSignal): Promise<void> {
    if (this.#closing) throw new AgentHttpError(503, 'AGENT_CLOSING', 'the agent is shutting down; retry in a moment');
    return execInApp(this.#ctx, this.#runtimes.get(key(app, env)), app, env, request, onEvent, signal);
  }

  /** Opens the shared port that routes by host name to each app/env's main port. */
  openShared(port: number): Promise<number> {
    return this.plane.openShared(port, (app, env) => this.#runtimes.get(key(app, env))?.proxy);
  }

  recentLogs(app: string, env: string, lines: number): { lines: string[]; follow(fn: (line: string) => void, onEnd: () => void): () => void } | null {
    const rt = this.#runtimes.get(key(app, env));
    if (!rt) return null;
    return { lines: rt.log.recent(lines), follow: (fn, onEnd) => rt.log.follow(fn, onEnd) };
  }

  /** Starts a rollout; throws a 409 while another one runs for the same app/env. */
  deploy(desired: DesiredState, onEvent: (event: AgentEvent) => void): Promise<RolloutResult> {
    if (this.#closing) throw new AgentHttpError(503, 'AGENT_CLOSING', 'the agent is shutting down; retry in a moment');
    const id = key(desired.app, desired.env);
    let rt = this.#runtimes.get(id);
    if (rt?.rollout) {
      throw new AgentHttpError(
        409,
        'ROLLOUT_IN_PROGRESS',
        `a rollout of ${rt.rollout.release} to ${desired.app} (${desired.env}) is in progress; wait for it to finish`,
      );
    }
    if (rt?.removing) throw new AgentHttpError(409, 'APP_BEING_REMOVED', `${desired.app} (${desired.env}) is being removed; deploy again once that is done`);
    if (!rt) {
      rt = new AppRuntime(this.#ctx, desired.app, desired.env, desired.proxyPort);
      this.#runtimes.set(id, rt);
    }
    const emit = (message: string) => onEvent({ type: 'log', at: new Date().toISOString(), message });
    return this.#run(rt, desired, emit);
  }

  #run(runtime: AppRuntime, desired: DesiredState, emit: (message: string) => void, options: RolloutOptions = {}): Promise<RolloutResult> {
    const id = key(runtime.app, runtime.env);
    const abort = new AbortController();
    runtime.rollout = { release: desired.release, ...(desired.deployment ? { deployment: desired.deployment } : {}), phase: 'queued' };
    runtime.rolloutAbort = abort;
    const done = runRollout(runtime, desired, emit, abort.signal, options)
      .finally(() => {
        runtime.rollout = null;
        runtime.rolloutAbort = null;
        runtime.rolloutDone = null;
        // A first deploy that could not even open its proxy leaves nothing behind.
        if (runtime.release === null && runtime.instances.length === 0 && runtime.proxy.port === 0 && !runtime.closed) {
          this.#runtimes.delete(id);
          runtime.log.close();
        }
      })
      .then(async (result) => {
        // The control plane hears of the result once the state file holds it.
        await this.persist();
        return result;
      });
    runtime.rolloutDone = done;
    return done;
  }

  /** The watched release of `rt` misbehaves: switch back to the release it replaced, and record it. */
  #autoRollback(rt: AppRuntime, reason: string): boolean {
    const watch = rt.watch;
    if (!watch || rt.rollout || rt.removing || rt.closed || this.#closing || rt.release !== watch.release) return false;
    disarmWatch(rt);
    const from = watch.release;
    const deployment = rt.desired?.deployment;
    // The previous release comes back as it was, minus what belonged to its own deployment.
    const { deployment: _deployment, autoRollback: _watch, ...target } = watch.previous;
    const at = new Date().toISOString();
    rt.log.system(`Automatic rollback of ${from} to ${target.release}: ${reason}`);
    this.#ctx.logger.warn({ app: rt.app, env: rt.env, from, to: target.release, reason }, 'automatic rollback');
    void this.#run(rt, target, () => {}, { automatic: true }).then((result) => {
      if (!result.ok) {
        // Nothing changed for the control plane to record: the app's log says why.
        rt.log.system(`Automatic rollback of ${from} failed; ${from} is still serving: ${result.error}`);
        this.#ctx.logger.error({ app: rt.app, env: rt.env, from, to: target.release, error: result.error }, 'automatic rollback failed');
        return;
      }
      recordAutoRollback(rt, { id: randomBytes(6).toString('hex'), from, to: target.release, ...(deployment ? { deployment } : {}), reason, at });
      rt.log.system(`Automatic rollback of ${from} done: ${target.release} is serving again`);
      void this.persist();
    });
    return true;
  }

  /** Stops and forgets app/env; a no-op for an unknown one. */
  async remove(app: string, env: string): Promise<void> {
    const rt = this.#runtimes.get(key(app, env));
    if (!rt) return;
    await rt.remove();
    this.#runtimes.delete(key(app, env));
    void this.persist();
  }

  /** Re-adopts what the persisted state says runs: living pids are kept, dead ones restarted, leftovers stopped. */
  async adopt(state: PersistedState): Promise<void> {
    for (const app of state.apps) await adoptApp(this.#ctx, this.#runtimes, app);
    stopUnknownInstances(this.#ctx, this.#runtimes);
    // The working copies of instances that are gone (stopped while no agent ran, or never recorded).
    const kept = new Set(
      [...this.#runtimes.values()].flatMap((rt) => rt.instances.flatMap((i) => [i.workDir, workDirPath(this.#ctx.dataDir, rt.app, rt.env, label(i))])),
    );
    await sweepWorkDirs(this.#ctx.dataDir, kept).catch((err: Error) => this.#ctx.logger.warn({ err }, 'cannot remove old working copies'));
    await this.edges.restore(state);
    await this.persist();
    await this.plane.settle().catch((err: Error) => this.#ctx.logger.error({ err }, 'the proxy did not take the re-adopted routes'));
  }

  /** Stops the proxies and supervision; instances keep running unless `stopInstances`. */
  async close(stopInstances: boolean): Promise<void> {
    this.#closing = true;
    this.#ctx.slugs.close();
    await Promise.all([...this.#runtimes.values()].map((rt) => rt.close(stopInstances)));
    await this.edges.close();
    await this.plane.close(stopInstances);
    await this.persist();
  }
}

/**
 * The `swarm` target (decision 0009): an environment's image components as Docker Swarm services
 * of a manager reached through the Engine API, one service per release and component. Which
 * release is current lives in the services' labels, so a new SwarmTarget on the same swarm knows
 * it; the replaced release stays running as warm standby, and a rollback to it starts nothing.
 */
import { Readable } from 'node:stream';
import { RewindError } from '../../domain/errors.js';
import { DEFAULT_STANDBY, type AgentEvent, type DesiredState, type ObservedApp } from '../../protocol/agent-protocol.js';
import type { ApplyResult, LogOptions, Target } from '../target.js';
import { DockerEngine } from './docker-engine.js';
import type { DockerTlsFiles } from './docker-host.js';
import type { Labels } from './docker-types.js';
import { lastLines, OwnLines, serviceLines } from './swarm-logs.js';
import { observeEnv, type RolloutNote } from './swarm-observe.js';
import type { EdgeAgent } from './swarm-edges.js';
import { type RolloutContext, runRollout } from './swarm-rollout.js';
import { unroute } from './swarm-routing.js';
import { readAll, readEnv } from './swarm-state.js';
import { nodeNames } from './swarm-tasks.js';
import { nextFence, removeServices, sweep } from './swarm-switch.js';
import { RouteWatch } from './swarm-watch.js';
import { type PinnedImage, pinImage } from './swarm-images.js';

export interface SwarmTargetOptions {
  /** A swarm manager's Docker host (`unix:///var/run/docker.sock`, `tcp://HOST:2376`), or a client to use; the target closes it. */
  readonly docker: string | DockerEngine;
  /** TLS files for a tcp:// host. */
  readonly tls?: Partial<DockerTlsFiles>;
  /** Labels that mark every service this target makes and select the ones it sees (several Rewinds, or test runs, on one swarm). */
  readonly labels?: Labels;
  /** How long a new service's tasks may take to run, pulling its image included; default 120 s. */
  readonly startTimeoutMs?: number;
  /**
   * The edges (the Rewind agent on each node, decision 0009): after each switch every one gets
   * app/env's route, `desired.proxyPort` to the current release's tasks. None: no routing.
   */
  readonly edges?: readonly EdgeAgent[];
  /** With edges: how often the current releases' tasks are read, to route around restarted or rescheduled ones; default 2000 ms, 0 never. */
  readonly watchMs?: number;
}

const keyOf = (app: string, env: string) => JSON.stringify([app, env]);

export class SwarmTarget implements Target {
  readonly #engine: DockerEngine;
  readonly #scope: Labels;
  readonly #options: SwarmTargetOptions;
  readonly #rollouts = new Map<string, RolloutNote>();
  readonly #own = new OwnLines();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #removing = new Set<string>();
  readonly #watch: RouteWatch | null = null;

  constructor(options: SwarmTargetOptions) {
    this.#engine = typeof options.docker === 'string' ? new DockerEngine(options.docker, { tls: options.tls }) : options.docker;
    this.#scope = options.labels ?? {};
    this.#options = options;
    const edges = options.edges ?? [];
    const intervalMs = options.watchMs ?? 2000;
    if (edges.length > 0 && intervalMs > 0) {
      this.#watch = new RouteWatch({
        engine: this.#engine,
        scope: this.#scope,
        edges,
        intervalMs,
        busy: (app, env) => this.#rollouts.has(keyOf(app, env)) || this.#removing.has(keyOf(app, env)),
        say: (app, env, message) => this.#own.add(keyOf(app, env), new Date().toISOString(), message),
      });
      this.#watch.start();
    }
  }

  #context(desired: DesiredState, say: (message: string) => void): RolloutContext {
    const watch = this.#watch;
    return {
      engine: this.#engine,
      scope: this.#scope,
      startTimeoutMs: this.#options.startTimeoutMs ?? 120_000,
      say,
      edges: this.#options.edges ?? [],
      fenceFloor: watch?.floor(desired.app, desired.env),
      routed: watch ? (fence, port, upstreams) => watch.sent(desired.app, desired.env, fence, port, upstreams) : undefined,
    };
  }

  async apply(desired: DesiredState, onEvent: (event: AgentEvent) => void): Promise<ApplyResult> {
    const key = keyOf(desired.app, desired.env);
    if (this.#rollouts.has(key)) {
      throw new RewindError('DEPLOYMENT_IN_PROGRESS', `a rollout of ${desired.app} (${desired.env}) is under way on this Swarm target`);
    }
    this.#rollouts.set(key, { release: desired.release, ...(desired.deployment ? { deployment: desired.deployment } : {}), phase: 'deploying' });
    const say = (message: string) => {
      const at = new Date().toISOString();
      this.#own.add(key, at, message);
      onEvent({ type: 'log', at, message });
    };
    let result: ApplyResult;
    try {
      await this.#watch?.idle(); // a route the watch is sending now must not cross this rollout's
      result = await runRollout(this.#context(desired, say), desired);
    } finally {
      this.#rollouts.delete(key);
    }
    const at = new Date().toISOString();
    onEvent(
      result.ok
        ? { type: 'result', at, ok: true, release: desired.release }
        : { type: 'result', at, ok: false, error: result.error ?? 'failed', release: result.release },
    );
    await this.#scheduleSweep(desired).catch((err: Error) => say(`Could not plan the standby's removal: ${err.message}`));
    return result;
  }

  /** Removes the standby services when their time is up (the next apply also sweeps, e.g. after a restart). */
  async #scheduleSweep(desired: DesiredState): Promise<void> {
    const key = keyOf(desired.app, desired.env);
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
    const state = await readEnv(this.#engine, this.#scope, desired.app, desired.env);
    const kept = [...state.releases.values()].filter((r) => r !== state.current);
    const until = Math.min(...kept.flatMap((r) => [r.standbyUntil, r.drainUntil]).map((t) => t ?? Number.POSITIVE_INFINITY));
    if (!Number.isFinite(until)) return; // nothing kept: nothing to remove later
    const count = (desired.standby ?? DEFAULT_STANDBY).count;
    const say = (message: string) => this.#own.add(key, new Date().toISOString(), message);
    const timer = setTimeout(
      () => {
        this.#timers.delete(key);
        if (this.#rollouts.has(key)) return; // that rollout sweeps when it ends
        void readEnv(this.#engine, this.#scope, desired.app, desired.env)
          .then((now) => sweep(this.#engine, now, count, new Set(), say))
          .catch((err: Error) => say(`Could not remove the standby services: ${err.message}`));
      },
      Math.max(0, until - Date.now()) + 50,
    );
    timer.unref();
    this.#timers.set(key, timer);
  }

  async observe(app: string, env: string): Promise<ObservedApp | null> {
    const [state, nodes] = await Promise.all([readEnv(this.#engine, this.#scope, app, env), nodeNames(this.#engine)]);
    return observeEnv(this.#engine, state, nodes, this.#rollouts.get(keyOf(app, env)));
  }

  async observeAll(): Promise<readonly ObservedApp[]> {
    // One look at the nodes for every environment.
    const [all, nodes] = await Promise.all([readAll(this.#engine, this.#scope), nodeNames(this.#engine)]);
    const observed = await Promise.all(all.map((state) => observeEnv(this.#engine, state, nodes, this.#rollouts.get(keyOf(state.app, state.env)))));
    return observed.filter((o): o is ObservedApp => o !== null);
  }

  async logs(app: string, env: string, options: LogOptions): Promise<Readable> {
    const state = await readEnv(this.#engine, this.#scope, app, env);
    const lines = [...(await serviceLines(this.#engine, state, options.lines)), ...this.#own.of(keyOf(app, env))];
    return Readable.from(lastLines(lines, options.lines));
  }

  /** An image component's reference pinned on the manager: the registry's digest when it names a registry, else the image id. */
  resolveImage(ref: string): Promise<PinnedImage> {
    return pinImage(this.#engine, ref);
  }

  async remove(app: string, env: string): Promise<void> {
    const key = keyOf(app, env);
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
    this.#removing.add(key);
    try {
      await this.#watch?.idle();
      await this.#remove(app, env, key);
    } finally {
      this.#removing.delete(key);
    }
  }

  async #remove(app: string, env: string, key: string): Promise<void> {
    const state = await readEnv(this.#engine, this.#scope, app, env);
    // The route first, so that no edge sends requests to tasks that are going.
    const say = (message: string) => this.#own.add(key, new Date().toISOString(), message);
    if (state.services.length > 0) await unroute({ engine: this.#engine, edges: this.#options.edges ?? [], say }, app, env, nextFence(state, Date.now()));
    await removeServices(
      this.#engine,
      state.services.map((s) => s.ID),
    );
    this.#own.drop(key);
  }

  async close(): Promise<void> {
    await this.#watch?.stop();
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await this.#engine.close();
  }
}

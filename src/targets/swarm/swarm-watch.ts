/**
 * Decision 0009's consequence: a task Swarm restarts or reschedules answers on a new address, so
 * the edges must learn it. Every `intervalMs` the watch reads the current release's running tasks
 * of each app/env in the target's scope and, when they differ from the route last sent, sends the
 * new route with a higher fence. Until then the edges' retries route around the dead upstream.
 */
import type { EdgeUpstream } from '../../protocol/edge-protocol.js';
import type { DockerEngine } from './docker-engine.js';
import type { Labels } from './docker-types.js';
import { type EdgeAgent, pushRoute, upstreamsOf } from './swarm-edges.js';
import { LABEL } from './swarm-names.js';
import { type EnvState, labelOf, readAll } from './swarm-state.js';
import { nextFence } from './swarm-switch.js';

export interface RouteWatchOptions {
  readonly engine: DockerEngine;
  readonly scope: Labels;
  readonly edges: readonly EdgeAgent[];
  readonly intervalMs: number;
  /** True while a rollout of app/env runs (it sends its own route). */
  readonly busy: (app: string, env: string) => boolean;
  readonly say: (app: string, env: string, message: string) => void;
}

const keyOf = (app: string, env: string) => JSON.stringify([app, env]);
const routeKey = (port: number, upstreams: readonly EdgeUpstream[]) => `${port} ${upstreams.map((u) => `${u.host}:${u.port}`).join(',')}`;

export class RouteWatch {
  readonly #o: RouteWatchOptions;
  readonly #sent = new Map<string, { fence: number; route: string }>();
  #timer: NodeJS.Timeout | null = null;
  #tick: Promise<void> | null = null;

  constructor(options: RouteWatchOptions) {
    this.#o = options;
  }

  start(): void {
    this.#timer ??= setInterval(() => {
      this.#tick ??= this.tick()
        .catch(() => {}) // the daemon or an edge did not answer: the next tick tries again
        .finally(() => (this.#tick = null));
    }, this.#o.intervalMs).unref();
  }

  /** A rollout sent this route. */
  sent(app: string, env: string, fence: number, port: number, upstreams: readonly EdgeUpstream[]): void {
    this.#sent.set(keyOf(app, env), { fence, route: routeKey(port, upstreams) });
  }

  /** The lowest fence the next route of app/env may have (above every one sent from here). */
  floor(app: string, env: string): number {
    return (this.#sent.get(keyOf(app, env))?.fence ?? 0) + 1;
  }

  /** One look at every app/env; sends the routes that changed. */
  async tick(): Promise<void> {
    const all = await readAll(this.#o.engine, this.#o.scope);
    for (const state of all) await this.#check(state);
  }

  async #check(state: EnvState): Promise<void> {
    const { app, env, current } = state;
    if (!current || this.#o.busy(app, env)) return;
    const port = Number(labelOf(current.services[0], LABEL.proxyPort) ?? 0);
    const upstreams = await upstreamsOf(this.#o.engine, current);
    const route = routeKey(port, upstreams);
    if (upstreams.length === 0 || port === 0 || this.#sent.get(keyOf(app, env))?.route === route || this.#o.busy(app, env)) return;
    const fence = Math.max(nextFence(state, Date.now()), this.floor(app, env));
    const outcomes = await pushRoute(this.#o.edges, app, env, { port, fence, upstreams });
    const took = outcomes.filter((o) => !o.error).length;
    for (const o of outcomes) if (o.error) this.#o.say(app, env, `Edge ${o.url} did not take the new route of ${current.release}: ${o.error}`);
    if (took === 0) return;
    this.#sent.set(keyOf(app, env), { fence, route });
    const where = upstreams.map((u) => `${u.host}:${u.port}`).join(', ');
    this.#o.say(
      app,
      env,
      `The tasks of ${current.release} changed: edges route port ${port} to ${where} (${took} of ${outcomes.length} edges, fence ${fence})`,
    );
  }

  /** Resolves once a look under way has ended (a rollout starts after it, so that their fences cannot cross). */
  async idle(): Promise<void> {
    await this.#tick;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#tick;
  }
}

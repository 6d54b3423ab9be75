/**
 * The agent's edge routes (decision 0009), one per app/env, fenced: a route with a lower fence
 * than the one in effect is refused, the same fence must say the same. A deleted route leaves its
 * fence behind, so that a late copy of an older route cannot bring it back. Changes of one app/env
 * run one at a time; each is in the state file before its caller hears of it.
 */
import type { EdgePutAnswer, EdgeView, ResolvedEdgeRoute } from '../protocol/edge-protocol.js';
import { sameEdgeRoute, validateEdgeRoute } from '../protocol/edge-protocol.js';
import type { AgentLogger } from './agent-context.js';
import { AgentHttpError } from './agent-http-error.js';
import { EdgeListener } from './edge-listener.js';

/** What the state file keeps of the edge. */
export interface PersistedEdges {
  readonly edges: readonly ResolvedEdgeRoute[];
  /** The fence of each deleted route: a new route of that app/env needs a higher one. */
  readonly deletedEdges: readonly { readonly app: string; readonly env: string; readonly fence: number }[];
}

export interface EdgeSetOptions {
  /** The address edge ports listen on. */
  readonly host: string;
  readonly logger: AgentLogger;
  /** Writes the state file; resolves once durable. */
  persist(): Promise<void>;
}

const keyOf = (app: string, env: string) => `${app}/${env}`;
const named = (r: { app: string; env: string }) => `${r.app} (${r.env})`;

export class EdgeSet {
  readonly #opts: EdgeSetOptions;
  readonly #listeners = new Map<string, EdgeListener>();
  readonly #deleted = new Map<string, number>();
  readonly #queues = new Map<string, Promise<unknown>>();

  constructor(opts: EdgeSetOptions) {
    this.#opts = opts;
  }

  list(): EdgeView[] {
    return [...this.#listeners.values()].map((l) => l.view());
  }

  get(app: string, env: string): EdgeView | null {
    return this.#listeners.get(keyOf(app, env))?.view() ?? null;
  }

  /** Sets the route of its app/env: 201 when new, 200 when changed or the same again; AgentHttpError 409 when refused. */
  put(route: ResolvedEdgeRoute): Promise<{ status: 200 | 201; answer: EdgePutAnswer }> {
    return this.#serial(keyOf(route.app, route.env), () => this.#put(route));
  }

  /** Deletes the route (refused when `fence` is lower than its own); resolves once its port is closed and drained. */
  delete(app: string, env: string, fence?: number): Promise<{ deleted: boolean; drained: boolean }> {
    return this.#serial(keyOf(app, env), () => this.#delete(app, env, fence));
  }

  /** What the state file keeps; nothing for an agent that never had an edge route (its state file stays as it was). */
  persisted(): Partial<PersistedEdges> {
    const edges = [...this.#listeners.values()].map((l) => l.route);
    const deletedEdges = [...this.#deleted].map(([key, fence]) => {
      const [app = '', env = ''] = key.split('/');
      return { app, env, fence };
    });
    return { ...(edges.length ? { edges } : {}), ...(deletedEdges.length ? { deletedEdges } : {}) };
  }

  /** Reopens the routes of the state file (after a restart); a port that cannot be opened is logged and shown in the route's view. */
  async restore(state: Partial<PersistedEdges>): Promise<void> {
    for (const d of state.deletedEdges ?? []) this.#deleted.set(keyOf(d.app, d.env), d.fence);
    for (const saved of state.edges ?? []) {
      // The file is ours, but a route that no longer validates is dropped rather than trusted.
      const route = validateEdgeRoute(saved, saved.app, saved.env);
      if (route instanceof Error) {
        this.#opts.logger.error({ app: saved.app, env: saved.env }, `dropping the edge route of the state file: ${route.message}`);
        continue;
      }
      const listener = new EdgeListener(route, this.#opts.host);
      this.#listeners.set(keyOf(route.app, route.env), listener);
      await listener.listen().catch((err: Error) => this.#opts.logger.error({ app: route.app, env: route.env }, err.message));
    }
  }

  /** Closes every port now (the agent stops); the routes stay, to be persisted and reopened by the next agent. */
  async close(): Promise<void> {
    await Promise.all([...this.#listeners.values()].map((l) => l.close(0)));
  }

  async #put(route: ResolvedEdgeRoute): Promise<{ status: 200 | 201; answer: EdgePutAnswer }> {
    const id = keyOf(route.app, route.env);
    const current = this.#listeners.get(id);
    if (current && this.#unchanged(current, route)) {
      if (!current.listening) await this.#listenOr409(current);
      return { status: 200, answer: { changed: false, edge: current.view() } };
    }
    const deletedAt = this.#deleted.get(id);
    if (!current && deletedAt !== undefined && route.fence <= deletedAt) {
      throw new AgentHttpError(
        409,
        'EDGE_FENCE_STALE',
        `the edge route of ${named(route)} was deleted at fence ${deletedAt}; a new route needs a higher fence than ${deletedAt} (this one has ${route.fence})`,
      );
    }
    const holder = [...this.#listeners.values()].find((l) => l !== current && l.route.port === route.port);
    if (holder) throw new AgentHttpError(409, 'EDGE_PORT_TAKEN', `edge port ${route.port} is the edge of ${named(holder.route)}; choose another port`);
    if (current?.listening && current.route.port === route.port) current.swap(route);
    else {
      const next = new EdgeListener(route, this.#opts.host);
      await this.#listenOr409(next).catch(async (err: Error) => {
        await next.close(0);
        throw err;
      });
      this.#listeners.set(id, next);
      this.#deleted.delete(id);
      // The old port (another one, or one that never opened) stops taking connections and drains.
      if (current) void current.close(current.route.drainMs);
    }
    await this.#opts.persist();
    const edge = (this.#listeners.get(id) as EdgeListener).view();
    return { status: current ? 200 : 201, answer: { changed: true, edge } };
  }

  /** True for the same route again; throws 409 for an older fence, or the same fence saying something else. */
  #unchanged(current: EdgeListener, route: ResolvedEdgeRoute): boolean {
    const fence = current.route.fence;
    if (route.fence < fence) {
      throw new AgentHttpError(
        409,
        'EDGE_FENCE_STALE',
        `the edge route of ${named(route)} has fence ${fence}; this one has fence ${route.fence}, older routes are refused`,
      );
    }
    if (route.fence > fence) return false;
    if (sameEdgeRoute(current.route, route)) return true;
    throw new AgentHttpError(
      409,
      'EDGE_FENCE_CONFLICT',
      `the edge route of ${named(route)} with fence ${fence} says something else; a change needs a higher fence than ${fence}`,
    );
  }

  async #listenOr409(listener: EdgeListener): Promise<void> {
    try {
      await listener.listen();
    } catch (err) {
      throw new AgentHttpError(409, 'EDGE_PORT_BUSY', `${(err as Error).message}; free the port or choose another one`);
    }
  }

  async #delete(app: string, env: string, fence?: number): Promise<{ deleted: boolean; drained: boolean }> {
    const id = keyOf(app, env);
    const current = this.#listeners.get(id);
    const own = current?.route.fence ?? this.#deleted.get(id) ?? 0;
    if (current && fence !== undefined && fence < own) {
      throw new AgentHttpError(409, 'EDGE_FENCE_STALE', `the edge route of ${app} (${env}) has fence ${own}; this delete has fence ${fence}, older: refused`);
    }
    if (!current) {
      if (fence !== undefined && fence > own) {
        this.#deleted.set(id, fence);
        await this.#opts.persist();
      }
      return { deleted: false, drained: true };
    }
    current.stopAccepting();
    this.#listeners.delete(id);
    this.#deleted.set(id, Math.max(own, fence ?? 0));
    await this.#opts.persist();
    return { deleted: true, drained: await current.close(current.route.drainMs) };
  }

  /** Runs `fn` after every earlier change of the same app/env. */
  #serial<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.#queues.get(id) ?? Promise.resolve()).then(fn);
    const tail = run.catch(() => {});
    this.#queues.set(id, tail);
    void tail.then(() => {
      if (this.#queues.get(id) === tail) this.#queues.delete(id);
    });
    return run;
  }
}

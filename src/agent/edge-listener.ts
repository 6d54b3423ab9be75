/**
 * One edge route at work: the built-in proxy (proxy.ts) listening on the route's port, with the
 * route's upstreams. A change of upstreams is one swap: new requests go to the new set at once,
 * what is in flight on a replaced upstream finishes (drain, at most `drainMs`), then is cut. An
 * upstream in both sets is kept, with its pool and what is in flight on it.
 */
import type { EdgeUpstreamView, EdgeView, ResolvedEdgeRoute } from '../protocol/edge-protocol.js';
import { AppProxy } from './proxy.js';
import { drain, Upstream } from './upstream.js';

const keyOf = (u: { readonly host: string; readonly port: number }) => `${u.host}:${u.port}`;

export class EdgeListener {
  route: ResolvedEdgeRoute;
  /** Why the port is not open (it could not be reopened after a restart); null while it listens or before listen(). */
  error: string | null = null;
  updatedAt = new Date().toISOString();
  readonly #proxy: AppProxy;
  readonly #host: string;
  #current = new Map<string, Upstream>();
  readonly #draining = new Set<Upstream>();
  #stopped = false;

  /** `host` is the address the edge listens on (the agent's edge host). */
  constructor(route: ResolvedEdgeRoute, host: string) {
    this.route = route;
    this.#host = host;
    this.#proxy = new AppProxy(route.app, route.env, route.retry);
    this.#use(route);
  }

  get listening(): boolean {
    return this.#proxy.port > 0 && this.error === null && !this.#stopped;
  }

  /** Opens the route's port; rejects with `cannot listen on edge port P: CODE` (and keeps that as `error`). */
  async listen(): Promise<void> {
    try {
      await this.#proxy.listen(this.route.port, this.#host);
      this.error = null;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.error = `cannot listen on edge port ${this.#host}:${this.route.port}: ${e.code ?? e.message}`;
      throw new Error(this.error);
    }
  }

  /** Routes to `next` (the same port) from now on; replaced upstreams drain, then are cut and closed. */
  swap(next: ResolvedEdgeRoute): void {
    const previous = [...this.#current.values()];
    this.#use(next);
    this.route = next;
    this.updatedAt = new Date().toISOString();
    const kept = new Set(this.#current.values());
    this.#retire(previous.filter((u) => !kept.has(u)));
  }

  /** Takes no new connection from now on; what is in flight goes on until close(). */
  stopAccepting(): void {
    this.#stopped = true;
    this.#proxy.stopAccepting();
  }

  /** Stops taking connections, lets what is in flight finish for at most `drainMs`, then ends the rest. True when it drained. */
  async close(drainMs: number): Promise<boolean> {
    this.stopAccepting();
    const all = [...this.#current.values(), ...this.#draining];
    const drained = drainMs > 0 ? await drain(all, drainMs) : all.every((u) => u.inflight === 0);
    for (const u of all) u.cut();
    await this.#proxy.close();
    this.#draining.clear();
    await Promise.all(all.map((u) => u.close()));
    return drained;
  }

  view(): EdgeView {
    const now = Date.now();
    const of = (u: Upstream): EdgeUpstreamView => ({ host: u.host, port: u.port, weight: u.weight, inflight: u.inflight, failing: u.failedUntil > now });
    return {
      ...this.route,
      listening: this.listening,
      ...(this.error ? { error: this.error } : {}),
      upstreams: [...this.#current.values()].map(of),
      draining: [...this.#draining].map(of),
      updatedAt: this.updatedAt,
    };
  }

  /** Makes `route`'s upstreams the proxy's set, reusing the ones it has (current or still draining). */
  #use(route: ResolvedEdgeRoute): void {
    const next = new Map<string, Upstream>();
    for (const u of route.upstreams) {
      const key = keyOf(u);
      const upstream = this.#current.get(key) ?? this.#takeBack(key) ?? new Upstream(`${route.app}.${route.env}@${key}`, u.port, { host: u.host });
      upstream.weight = u.weight;
      next.set(key, upstream);
    }
    this.#current = next;
    this.#proxy.setRetry(route.retry);
    this.#proxy.setUpstreams([...next.values()]);
  }

  #takeBack(key: string): Upstream | undefined {
    const found = [...this.#draining].find((u) => keyOf(u) === key);
    if (found) this.#draining.delete(found);
    return found;
  }

  #retire(replaced: readonly Upstream[]): void {
    if (replaced.length === 0) return;
    for (const u of replaced) this.#draining.add(u);
    void drain(replaced, this.route.drainMs).then(() => {
      for (const u of replaced) {
        // Taken back by a later route meanwhile: it serves again.
        if (!this.#draining.delete(u)) continue;
        u.cut();
        void u.close();
      }
    });
  }
}

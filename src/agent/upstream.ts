/**
 * One upstream of the built-in proxy: a local instance (127.0.0.1:port) or, for an edge route, a
 * task on any host. Requests go through a keep-alive undici Pool; the upstream tracks what is in
 * flight on it (requests, streams, tunnels) so that a replaced set can be drained, and what is
 * still open after the drain timeout can be cut.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';

export const HEADERS_TIMEOUT_MS = 120_000;

export interface UpstreamOptions {
  /** An IPv4/IPv6 literal (no brackets) or a host name; default 127.0.0.1 (a local instance). */
  readonly host?: string;
  /** Its share of the requests relative to the other upstreams; default 1. */
  readonly weight?: number;
}

/** The host as it goes in a URL's authority: IPv6 literals in brackets. */
export const urlHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

/** One instance (or task) as the proxy sees it. */
export class Upstream {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly pool: Pool;
  /** Its share of the requests; changed in place when an edge route changes only the weight. */
  weight: number;
  /** Until when (epoch ms) the proxy prefers the others: a connection to it failed. 0: never failed. */
  failedUntil = 0;
  /** Cancels of the exchanges in flight: requests, streamed responses, upgraded tunnels. */
  readonly #active = new Set<() => void>();

  constructor(id: string, port: number, options: UpstreamOptions = {}) {
    this.id = id;
    this.host = options.host ?? '127.0.0.1';
    this.port = port;
    this.weight = options.weight ?? 1;
    this.pool = new Pool(`http://${urlHost(this.host)}:${port}`, {
      connections: 256,
      keepAliveTimeout: 4000,
      keepAliveMaxTimeout: 60_000,
      connect: { timeout: 5000 },
      headersTimeout: HEADERS_TIMEOUT_MS,
      // Streamed responses (SSE, long downloads) may pause for long; only connecting must be quick.
      bodyTimeout: 0,
    });
  }

  get inflight(): number {
    return this.#active.size;
  }

  /** Records an exchange in flight; call the returned function when it is over. */
  track(cancel: () => void): () => void {
    this.#active.add(cancel);
    return () => this.#active.delete(cancel);
  }

  /** Ends every exchange still in flight (the drain timeout passed). */
  cut(): void {
    for (const cancel of [...this.#active]) cancel();
    this.#active.clear();
  }

  /** Closes the pool once idle; destroys it if that takes more than a few seconds. */
  async close(): Promise<void> {
    const closed = this.pool.close().catch(() => {});
    const late = await Promise.race([closed.then(() => false), sleep(3000, true, { ref: false })]);
    if (late) await this.pool.destroy().catch(() => {});
  }
}

/** Waits until nothing is in flight on `upstreams`, or `timeoutMs`; true when they drained. */
export async function drain(upstreams: readonly Upstream[], timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (upstreams.some((u) => u.inflight > 0)) {
    if (Date.now() >= deadline || signal?.aborted) return false;
    await sleep(25);
  }
  return true;
}

/**
 * Picks from `candidates` by weight: `turn` is a counter the caller advances on every pick. With
 * every weight 1 it is plain round robin.
 */
export function pickWeighted(candidates: readonly Upstream[], turn: number): Upstream | undefined {
  if (candidates.every((u) => u.weight === 1)) return candidates[turn % candidates.length];
  const total = candidates.reduce((sum, u) => sum + u.weight, 0);
  let k = turn % total;
  for (const u of candidates) {
    if (k < u.weight) return u;
    k -= u.weight;
  }
  return candidates[0];
}

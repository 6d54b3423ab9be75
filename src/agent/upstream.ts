/**
 * One upstream of the built-in proxy: a local instance (127.0.0.1:port) or, for an edge route, a
 * task on any host. Requests go through a keep-alive `http.Agent`; the upstream tracks what is in
 * flight on it (requests, streams, tunnels) so that a replaced set can be drained, and what is
 * still open after the drain timeout can be cut.
 */
import { Agent, type IncomingMessage, request } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

export const HEADERS_TIMEOUT_MS = 120_000;
/** How long a connection to an upstream may take to open. */
const CONNECT_TIMEOUT_MS = 5000;
/** Idle kept-alive connections are closed before Node's servers close theirs (5 s), so none is reused as it closes. */
const IDLE_KEEPALIVE_MS = 4000;

/** A failed exchange with its cause as a code (`ECONNREFUSED`, `HEADERS_TIMEOUT`, …). */
const failure = (message: string, code: string) => Object.assign(new Error(message), { code });

/** One request to an upstream: its target and headers, the body to stream (or none), and what cancels it. */
export interface UpstreamRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  readonly body: Readable | null;
  readonly signal: AbortSignal;
}

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
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 256, timeout: IDLE_KEEPALIVE_MS });
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
  }

  /**
   * Sends `o` and resolves with the answer's head, its body unread. Connecting must be quick and
   * the head must come within HEADERS_TIMEOUT_MS; a streamed body (SSE, a long download) may pause
   * for as long as it likes.
   */
  send(o: UpstreamRequest): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.host, port: this.port, method: o.method, path: o.path, headers: o.headers, agent: this.#agent, signal: o.signal },
        (answer) => {
          clearTimeout(headers);
          resolve(answer);
        },
      );
      const headers = setTimeout(() => req.destroy(failure('no answer in time', 'HEADERS_TIMEOUT')), HEADERS_TIMEOUT_MS);
      req.once('error', (err) => {
        clearTimeout(headers);
        reject(err);
      });
      req.once('socket', (socket) => {
        if (!socket.connecting) return;
        const connect = setTimeout(() => req.destroy(failure('connect timed out', 'ECONNREFUSED')), CONNECT_TIMEOUT_MS);
        socket.once('connect', () => clearTimeout(connect));
        socket.once('close', () => clearTimeout(connect));
      });
      if (o.body) o.body.pipe(req);
      else req.end();
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

  /** Closes the kept-alive connections once nothing is in flight, or after a few seconds. */
  async close(): Promise<void> {
    for (const deadline = Date.now() + 3000; this.inflight > 0 && Date.now() < deadline; ) await sleep(25, undefined, { ref: false });
    this.#agent.destroy();
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

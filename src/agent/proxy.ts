/**
 * The built-in reverse proxy of one port of an app/env (or of an edge route). Requests go
 * round-robin (by weight) to the current upstream set over kept-alive connections (node:http)
 * (upstream.ts); the set is swapped with one reference assignment. Each upstream tracks what is in
 * flight on it so that a replaced set can be drained, and what is still open after the drain
 * timeout can be cut.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { clientResponseHeaders, upstreamRequestHeaders } from './proxy-headers.js';
import { errorPage } from './proxy-pages.js';
import { HEADERS_TIMEOUT_MS, pickWeighted, type Upstream } from './upstream.js';

export { drain, Upstream } from './upstream.js';

/** Methods that may be sent twice (RFC 9110 §9.2.2, as nginx reads it): retried once on another instance. */
const NON_IDEMPOTENT = new Set(['POST', 'PATCH', 'LOCK']);

/** One port of an app/env, whoever serves it (the agent itself, or nginx). */
export interface ProxyBinding {
  readonly app: string;
  readonly env: string;
  /** The bound port; 0 before listen(). */
  readonly port: number;
  readonly upstreams: readonly Upstream[];
  listen(port: number): Promise<void>;
  /** Routes to `next` from now on; requests that already picked an upstream keep it. */
  setUpstreams(next: readonly Upstream[]): void;
  /** From now on answers 404 "component COMPONENT of APP (ENV) is not deployed" (null: route again). */
  setNotDeployed(component: string | null): void;
  close(): Promise<void>;
}

/** How hard the proxy tries other upstreams; the defaults are the local routes'. */
export interface RetryPolicy {
  /** How many other upstreams an idempotent request without a body is tried on after an error before any answer; default 1. */
  readonly attempts: number;
  /** For how long an upstream whose connection failed is passed over while others remain; 0 (default): never. */
  readonly ejectMs: number;
}

export const LOCAL_RETRY: RetryPolicy = { attempts: 1, ejectMs: 0 };

export class AppProxy implements ProxyBinding {
  readonly app: string;
  readonly env: string;
  readonly #server: Server;
  #upstreams: readonly Upstream[] = [];
  #notDeployed: string | null = null;
  /** Upgraded connections: the HTTP server no longer tracks them, close() must end them. */
  readonly #tunnels = new Set<Socket>();
  #next = 0;
  #port = 0;
  #retry: RetryPolicy;
  /** Settles once the listener is closed and every connection ended. */
  #closed: Promise<void> | null = null;

  constructor(app: string, env: string, retry: RetryPolicy = LOCAL_RETRY) {
    this.app = app;
    this.env = env;
    this.#retry = retry;
    this.#server = createServer({ keepAliveTimeout: 5000 }, (req, res) => this.handle(req, res));
    this.#server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.upgrade(req, socket, head));
    this.#server.on('clientError', (_err, socket) => socket.destroy());
  }

  get port(): number {
    return this.#port;
  }

  get upstreams(): readonly Upstream[] {
    return this.#upstreams;
  }

  /** Listens on host:port (default 127.0.0.1; port 0: a free one). */
  async listen(port: number, host?: string): Promise<void> {
    this.#port = await listenLocal(this.#server, port, host);
    this.#closed = null;
  }

  setRetry(retry: RetryPolicy): void {
    this.#retry = retry;
  }

  setUpstreams(next: readonly Upstream[]): void {
    this.#upstreams = next;
  }

  setNotDeployed(component: string | null): void {
    this.#notDeployed = component;
  }

  /** Takes no new connection from now on (idle ones are closed); requests in flight go on until close(). */
  stopAccepting(): void {
    if (this.#port) this.#closed ??= new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async close(): Promise<void> {
    this.stopAccepting();
    const closed = this.#closed ?? Promise.resolve();
    this.#server.closeAllConnections();
    for (const socket of this.#tunnels) socket.destroy();
    await closed;
    this.#upstreams = [];
  }

  /** The next upstream, not one of `tried` (unless the only one was tried once: the set may have changed since). */
  #pick(tried: readonly Upstream[] = []): Upstream | undefined {
    const all = this.#upstreams;
    const fresh = tried.length ? all.filter((u) => !tried.includes(u)) : all;
    const pool = fresh.length ? fresh : tried.length === 1 ? all : [];
    if (pool.length === 0) return undefined;
    const now = Date.now();
    const working = this.#retry.ejectMs ? pool.filter((u) => u.failedUntil <= now) : pool;
    this.#next = (this.#next + 1) % 1_000_000_007;
    return pickWeighted(working.length ? working : pool, this.#next);
  }

  /** A connection to `upstream` failed: with ejection on, the others get the requests for a while. */
  #failed(upstream: Upstream): void {
    if (this.#retry.ejectMs) upstream.failedUntil = Date.now() + this.#retry.ejectMs;
  }

  /** Serves one request (also called by the shared host-name port). Never rejects. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#handle(req, res).catch(() => res.destroy());
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.#notDeployed !== null) return errorPage(req, res, 404, this.#notDeployedMessage());
    let upstream = this.#pick();
    if (!upstream) return errorPage(req, res, 503, this.#noReleaseMessage());
    const headers = upstreamRequestHeaders(req.headers, { remoteAddress: req.socket.remoteAddress, proto: 'http' });
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const method = req.method ?? 'GET';
    const retriable = !NON_IDEMPOTENT.has(method) && !hasBody;
    const tried: Upstream[] = [];
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#forward(upstream, req, res, method, headers, hasBody, abort);
        return;
      } catch (err) {
        if (abort.signal.aborted) {
          res.destroy();
          return;
        }
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const code = errorCode(err);
        if (code === 'HEADERS_TIMEOUT')
          return errorPage(req, res, 504, `the upstream of ${this.app} (${this.env}) did not answer within ${HEADERS_TIMEOUT_MS / 1000}s`);
        // An instance that died under the request (or was stopped): try another one, or the new set.
        this.#failed(upstream);
        tried.push(upstream);
        const next: Upstream | undefined = attempt < this.#retry.attempts && retriable ? this.#pick(tried) : undefined;
        if (!next) return errorPage(req, res, 502, `the upstream of ${this.app} (${this.env}) failed: ${code}`);
        upstream = next;
      }
    }
  }

  async #forward(
    upstream: Upstream,
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    headers: Record<string, string | string[]>,
    hasBody: boolean,
    abort: AbortController,
  ): Promise<void> {
    const done = upstream.track(() => abort.abort());
    try {
      const answer = await upstream.send({ method, path: req.url ?? '/', headers, body: hasBody ? req : null, signal: abort.signal });
      res.writeHead(answer.statusCode ?? 502, clientResponseHeaders(answer.headers));
      // A streamed answer (SSE, chunked) may send its first byte much later: the client gets its headers now.
      if (answer.headers['content-length'] === undefined) res.flushHeaders();
      await pipeline(answer, res);
    } finally {
      done();
    }
  }

  /** WebSocket and other upgrades: a raw TCP tunnel to one upstream, in flight while open (also called by the shared port). */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer, retried?: Upstream): void {
    socket.on('error', () => socket.destroy());
    if (this.#notDeployed !== null) return rawError(socket, 404, this.#notDeployedMessage());
    const upstream = this.#pick(retried ? [retried] : []);
    if (!upstream) return rawError(socket, 503, this.#noReleaseMessage());
    const forwarded = upstreamRequestHeaders(req.headers, { remoteAddress: req.socket.remoteAddress, proto: 'http' });
    forwarded.connection = 'Upgrade';
    if (req.headers.upgrade) forwarded.upgrade = req.headers.upgrade;
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (const [name, value] of Object.entries(forwarded)) for (const v of [value].flat()) lines.push(`${name}: ${v}`);
    let connected = false;
    const target = connect({ host: upstream.host, port: upstream.port }, () => {
      connected = true;
      target.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) target.write(head);
      target.pipe(socket).pipe(target);
    });
    const done = upstream.track(() => {
      target.destroy();
      socket.destroy();
    });
    this.#tunnels.add(socket);
    const release = () => {
      done();
      this.#tunnels.delete(socket);
    };
    target.on('error', () => {
      release();
      if (socket.destroyed) return;
      // Refused before anything was sent: the instance is gone, another one may take it.
      if (!connected) this.#failed(upstream);
      if (!connected && retried === undefined && this.#upstreams.length > 0) return this.upgrade(req, socket, head, upstream);
      rawError(socket, 502, `the upstream of ${this.app} (${this.env}) failed`);
    });
    target.on('close', () => {
      release();
      if (connected) socket.destroy();
    });
    socket.on('close', () => {
      release();
      target.destroy();
    });
  }

  #noReleaseMessage(): string {
    const envFlag = this.env === 'production' ? '' : ` -e ${this.env}`;
    return `no release of ${this.app} (${this.env}) is running; deploy one with \`rewind deploy -a ${this.app}${envFlag}\``;
  }

  #notDeployedMessage(): string {
    return `component ${this.#notDeployed} of ${this.app} (${this.env}) is not deployed`;
  }
}

function rawError(socket: Socket, status: 404 | 502 | 503, message: string): void {
  const reason = status === 404 ? 'Not Found' : status === 502 ? 'Bad Gateway' : 'Service Unavailable';
  if (!socket.writableEnded) socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n\r\n${message}\n`);
}

function errorCode(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ?? e.message ?? String(err);
}

/** Listens on host:port (default 127.0.0.1; port 0: a free one) and resolves with the port it got. */
export function listenLocal(server: Server, port: number, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/**
 * The built-in reverse proxy of one port of an app/env. Requests go round-robin to the current
 * upstream set through keep-alive undici Pools; the set is swapped with one reference assignment.
 * Each upstream tracks what is in flight on it (requests, streams, tunnels) so that a replaced set
 * can be drained, and what is still open after the drain timeout can be cut.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { clientResponseHeaders, upstreamRequestHeaders } from './proxy-headers.js';
import { errorPage } from './proxy-pages.js';

/** One instance as the proxy sees it. */
export class Upstream {
  readonly id: string;
  readonly port: number;
  readonly pool: Pool;
  /** Cancels of the exchanges in flight: requests, streamed responses, upgraded tunnels. */
  readonly #active = new Set<() => void>();

  constructor(id: string, port: number) {
    this.id = id;
    this.port = port;
    this.pool = new Pool(`http://127.0.0.1:${port}`, {
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

const HEADERS_TIMEOUT_MS = 120_000;

/** Waits until nothing is in flight on `upstreams`, or `timeoutMs`; true when they drained. */
export async function drain(upstreams: readonly Upstream[], timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (upstreams.some((u) => u.inflight > 0)) {
    if (Date.now() >= deadline || signal?.aborted) return false;
    await sleep(25);
  }
  return true;
}

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

  constructor(app: string, env: string) {
    this.app = app;
    this.env = env;
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

  async listen(port: number): Promise<void> {
    this.#port = await listenLocal(this.#server, port);
  }

  setUpstreams(next: readonly Upstream[]): void {
    this.#upstreams = next;
  }

  setNotDeployed(component: string | null): void {
    this.#notDeployed = component;
  }

  async close(): Promise<void> {
    const closed = this.#port ? new Promise<void>((resolve) => this.#server.close(() => resolve())) : Promise.resolve();
    this.#server.closeAllConnections();
    for (const socket of this.#tunnels) socket.destroy();
    await closed;
    this.#upstreams = [];
  }

  #pick(exclude?: Upstream): Upstream | undefined {
    const all = this.#upstreams;
    const pool = exclude && all.length > 1 ? all.filter((u) => u !== exclude) : all;
    if (pool.length === 0) return undefined;
    this.#next = (this.#next + 1) % 1_000_000_007;
    return pool[this.#next % pool.length];
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
        if (code === 'UND_ERR_HEADERS_TIMEOUT')
          return errorPage(req, res, 504, `the upstream of ${this.app} (${this.env}) did not answer within ${HEADERS_TIMEOUT_MS / 1000}s`);
        // An instance that died under the request (or was stopped): try another one, or the new set.
        const next: Upstream | undefined = attempt === 0 && retriable ? this.#pick(upstream) : undefined;
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
      const answer = await upstream.pool.request({
        method: method as 'GET',
        path: req.url ?? '/',
        headers,
        body: hasBody ? req : null,
        signal: abort.signal,
      });
      res.writeHead(answer.statusCode, clientResponseHeaders(answer.headers));
      // A streamed answer (SSE, chunked) may send its first byte much later: the client gets its headers now.
      if (answer.headers['content-length'] === undefined) res.flushHeaders();
      await pipeline(answer.body, res);
    } finally {
      done();
    }
  }

  /** WebSocket and other upgrades: a raw TCP tunnel to one upstream, in flight while open (also called by the shared port). */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer, retried?: Upstream): void {
    socket.on('error', () => socket.destroy());
    if (this.#notDeployed !== null) return rawError(socket, 404, this.#notDeployedMessage());
    const upstream = this.#pick(retried);
    if (!upstream) return rawError(socket, 503, this.#noReleaseMessage());
    const forwarded = upstreamRequestHeaders(req.headers, { remoteAddress: req.socket.remoteAddress, proto: 'http' });
    forwarded.connection = 'Upgrade';
    if (req.headers.upgrade) forwarded.upgrade = req.headers.upgrade;
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (const [name, value] of Object.entries(forwarded)) for (const v of [value].flat()) lines.push(`${name}: ${v}`);
    let connected = false;
    const target = connect({ host: '127.0.0.1', port: upstream.port }, () => {
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

/** Listens on 127.0.0.1:port (0: a free one) and resolves with the port it got. */
export function listenLocal(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host: '127.0.0.1' }, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

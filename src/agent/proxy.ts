/**
 * The per-app/env reverse proxy. Requests go round-robin to the current upstream set through
 * keep-alive undici Pools; the set is swapped with one reference assignment, and each upstream
 * counts its in-flight requests so the old set can be drained before its instances stop.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { clientResponseHeaders, upstreamRequestHeaders } from './proxy-headers.js';

/** One instance as the proxy sees it. */
export class Upstream {
  readonly id: string;
  readonly port: number;
  readonly pool: Pool;
  inflight = 0;

  constructor(id: string, port: number) {
    this.id = id;
    this.port = port;
    this.pool = new Pool(`http://127.0.0.1:${port}`, {
      connections: 256,
      keepAliveTimeout: 4000,
      keepAliveMaxTimeout: 60_000,
      connect: { timeout: 5000 },
      // Streamed responses (SSE, long downloads) may pause for long; only connecting must be quick.
      bodyTimeout: 0,
    });
  }

  /** Closes the pool once idle; destroys it if that takes more than a few seconds. */
  async close(): Promise<void> {
    const closed = this.pool.close().catch(() => {});
    const late = await Promise.race([closed.then(() => false), sleep(3000, true, { ref: false })]);
    if (late) await this.pool.destroy().catch(() => {});
  }
}

/** Waits until no request is in flight on `upstreams`, or `timeoutMs`; true when they drained. */
export async function drain(upstreams: readonly Upstream[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (upstreams.some((u) => u.inflight > 0)) {
    if (Date.now() >= deadline) return false;
    await sleep(25);
  }
  return true;
}

const RETRIABLE_METHODS = new Set(['GET', 'HEAD']);

export class AppProxy {
  readonly app: string;
  readonly env: string;
  readonly #server: Server;
  #upstreams: readonly Upstream[] = [];
  /** Upgraded connections: the HTTP server no longer tracks them, close() must end them. */
  readonly #tunnels = new Set<Socket>();
  #next = 0;
  #port = 0;

  constructor(app: string, env: string) {
    this.app = app;
    this.env = env;
    this.#server = createServer({ keepAliveTimeout: 5000 }, (req, res) => void this.#handle(req, res).catch(() => res.destroy()));
    this.#server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.#tunnel(req, socket, head));
    this.#server.on('clientError', (_err, socket) => socket.destroy());
  }

  get port(): number {
    return this.#port;
  }

  get upstreams(): readonly Upstream[] {
    return this.#upstreams;
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ port, host: '127.0.0.1' }, () => {
        this.#server.off('error', reject);
        const address = this.#server.address();
        this.#port = typeof address === 'object' && address ? address.port : port;
        resolve();
      });
    });
  }

  /** Replaces the upstream set in one assignment: requests that already picked one keep it. */
  setUpstreams(next: readonly Upstream[]): void {
    this.#upstreams = next;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    for (const socket of this.#tunnels) socket.destroy();
    await closed;
    await Promise.all(this.#upstreams.map((u) => u.close()));
    this.#upstreams = [];
  }

  #pick(exclude?: Upstream): Upstream | undefined {
    const all = this.#upstreams;
    const pool = exclude && all.length > 1 ? all.filter((u) => u !== exclude) : all;
    if (pool.length === 0) return undefined;
    this.#next = (this.#next + 1) % 1_000_000_007;
    return pool[this.#next % pool.length];
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let upstream = this.#pick();
    if (!upstream) return this.#page(res, 503, this.#noReleaseMessage());
    const headers = upstreamRequestHeaders(req.headers, { remoteAddress: req.socket.remoteAddress, proto: 'http' });
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const method = req.method ?? 'GET';
    const retriable = RETRIABLE_METHODS.has(method) && !hasBody;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.#forward(upstream, req, res, method, headers, hasBody, abort.signal);
        return;
      } catch (err) {
        if (abort.signal.aborted) return;
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const next: Upstream | undefined = attempt === 0 && retriable ? this.#pick(upstream) : undefined;
        if (!next) return this.#page(res, 502, `the upstream of ${this.app} (${this.env}) failed: ${errorCode(err)}`);
        upstream = next;
      }
    }
  }

  async #forward(upstream: Upstream, req: IncomingMessage, res: ServerResponse, method: string, headers: Record<string, string | string[]>, hasBody: boolean, signal: AbortSignal): Promise<void> {
    upstream.inflight++;
    try {
      const answer = await upstream.pool.request({
        method: method as 'GET',
        path: req.url ?? '/',
        headers,
        body: hasBody ? req : null,
        signal,
      });
      res.writeHead(answer.statusCode, clientResponseHeaders(answer.headers));
      await pipeline(answer.body, res);
    } finally {
      upstream.inflight--;
    }
  }

  /** WebSocket and other upgrades: a raw TCP tunnel to one upstream, counted as in flight while open. */
  #tunnel(req: IncomingMessage, socket: Socket, head: Buffer): void {
    const upstream = this.#pick();
    if (!upstream) {
      socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${this.#noReleaseMessage()}\n`);
      return;
    }
    const forwarded = upstreamRequestHeaders(req.headers, { remoteAddress: req.socket.remoteAddress, proto: 'http' });
    forwarded.connection = 'Upgrade';
    if (req.headers.upgrade) forwarded.upgrade = req.headers.upgrade;
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (const [name, value] of Object.entries(forwarded)) for (const v of [value].flat()) lines.push(`${name}: ${v}`);
    upstream.inflight++;
    this.#tunnels.add(socket);
    let released = false;
    const release = () => {
      if (!released) upstream.inflight--;
      released = true;
      this.#tunnels.delete(socket);
    };
    const target = connect({ host: '127.0.0.1', port: upstream.port }, () => {
      target.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length) target.write(head);
      target.pipe(socket).pipe(target);
    });
    target.on('error', () => {
      if (!socket.writableEnded) socket.end('HTTP/1.1 502 Bad Gateway\r\nconnection: close\r\n\r\n');
      release();
    });
    socket.on('error', () => target.destroy());
    target.on('close', () => {
      socket.destroy();
      release();
    });
    socket.on('close', () => {
      target.destroy();
      release();
    });
  }

  #noReleaseMessage(): string {
    const envFlag = this.env === 'production' ? '' : ` -e ${this.env}`;
    return `no release of ${this.app} (${this.env}) is running; deploy one with \`rewind deploy -a ${this.app}${envFlag}\``;
  }

  #page(res: ServerResponse, status: 502 | 503, message: string): void {
    const title = status === 503 ? '503 Service Unavailable' : '502 Bad Gateway';
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', ...(status === 503 ? { 'retry-after': '2' } : {}) });
    res.end(`${title}\n\n${message}\n`);
  }
}

function errorCode(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return e.code ?? e.message ?? String(err);
}

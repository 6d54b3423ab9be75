/**
 * The HTTP transport under the CLI's API client: one request path (token, JSON or gzip body, timeouts),
 * failures as RewindErrors, and the streamed answers (text, SSE, NDJSON). It is Node's own `http`: a
 * CLI process makes a few calls and exits, and loading undici alone took longer than the whole rest
 * of `rewind releases` (`npm run bench`, CLI start).
 */
import * as http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readNdjson } from '../protocol/ndjson.js';
import { UnreachableError, errorFromResponse, networkCode } from './errors.js';
import { readSse } from '../contract/sse.js';
import type { SseEvent } from '../contract/sse.js';

export interface ClientOptions {
  /** Server URL, e.g. http://127.0.0.1:7070 */
  readonly host: string;
  /** Sent as `Authorization: Bearer`; the server records its name as the actor of each change. */
  readonly token?: string;
  /** Aborts streams (logs -f) when the CLI is told to stop. */
  readonly signal?: AbortSignal;
}

/** A source upload: the gzip tarball's bytes and their total length. */
export interface Upload {
  readonly body: AsyncIterable<Uint8Array>;
  readonly length: number;
}

type Query = Record<string, string | number | boolean | undefined>;

/** One request to the API: a path under the host, its query, and at most one body (JSON or an upload). */
export interface Call {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly query?: Query;
  readonly json?: unknown;
  readonly upload?: Upload;
  /** Streams: no body timeout, and the CLI's abort signal. */
  readonly stream?: boolean;
  readonly signal?: AbortSignal;
}

/** How long a connection may take to open, and a call without a stream or upload may stay silent. */
const CONNECT_TIMEOUT_MS = 10_000;
const IDLE_TIMEOUT_MS = 300_000;

/** An answer's body, unread: streamed by iterating it, or read whole. */
export type ResponseBody = AsyncIterable<Uint8Array> & { text(): Promise<string> };

/** Sends calls to one Rewind server over kept-alive connections; an error answer or a lost connection is thrown as a RewindError. */
export class ApiTransport {
  private readonly agents = new Map<string, http.Agent>();
  readonly host: string;

  constructor(private readonly opts: ClientOptions) {
    this.host = opts.host.replace(/\/+$/, '');
  }

  /** The answer's JSON (null for an empty body). */
  async json<T>(call: Call): Promise<T> {
    const body = await this.send(call);
    const text = await this.collect(body);
    return (text ? JSON.parse(text) : null) as T;
  }

  /** The answer as text, streamed as it arrives. */
  async text(call: Call): Promise<AsyncIterable<string>> {
    const body = await this.send({ ...call, stream: true });
    return decode(this.guard(body));
  }

  /** The answer as server-sent events, streamed. */
  async sse(call: Call): Promise<AsyncIterable<SseEvent>> {
    const body = await this.send({ ...call, stream: true });
    return readSse(this.guard(body));
  }

  /** The answer as one JSON value per line, streamed. */
  async ndjson<T>(call: Call): Promise<AsyncIterable<T>> {
    const body = await this.send({ ...call, stream: true });
    return readNdjson<T>(this.guard(body));
  }

  /** Sends the call; an answer of 400 or more is thrown as the error it carries, else its body is returned unread. */
  async send(call: Call): Promise<ResponseBody> {
    const url = new URL(this.host + call.path);
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    let body: string | Readable | undefined;
    if (call.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(call.json);
    } else if (call.upload) {
      headers['content-type'] = 'application/gzip';
      headers['content-length'] = String(call.upload.length);
      body = Readable.from(call.upload.body, { objectMode: false });
    }
    let res: IncomingMessage;
    try {
      res = await this.exchange(url, await this.client(url), call, headers, body);
    } catch (err) {
      throw this.wrap(err);
    }
    const answer = Object.assign(res, { text: () => readAll(res) });
    if ((res.statusCode ?? 0) >= 400) throw errorFromResponse(res.statusCode ?? 0, await this.collect(answer));
    return answer;
  }

  /** `http`, or `https` (loaded only for an https:// host), and its kept-alive agent. */
  private async client(url: URL): Promise<{ request: typeof http.request; agent: http.Agent }> {
    const mod = url.protocol === 'https:' ? await import('node:https') : http;
    let agent = this.agents.get(url.protocol);
    if (!agent) this.agents.set(url.protocol, (agent = new mod.Agent({ keepAlive: true })));
    return { request: mod.request, agent };
  }

  /** One request: resolves once the answer's head arrived, with its body unread. */
  private exchange(
    url: URL,
    client: { request: typeof http.request; agent: http.Agent },
    call: Call,
    headers: Record<string, string>,
    body: string | Readable | undefined,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const signal = call.signal ?? (call.stream ? this.opts.signal : undefined);
      const req = client.request(url, { method: call.method ?? 'GET', headers, agent: client.agent, signal }, resolve);
      req.once('error', reject);
      req.once('socket', (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(() => req.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
        socket.once('connect', () => clearTimeout(timer));
        socket.once('close', () => clearTimeout(timer));
      });
      // A plain call that goes silent is given up on; a stream or an upload may take as long as it takes.
      if (!call.stream && !call.upload) req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(Object.assign(new Error('no answer'), { code: 'ETIMEDOUT' })));
      if (body instanceof Readable) pipeline(body, req).catch((err) => req.destroy(err));
      else req.end(body);
    });
  }

  /** Closes the kept-alive connections, so the process can exit at once. */
  async close(): Promise<void> {
    for (const agent of this.agents.values()) agent.destroy();
  }

  private async collect(body: ResponseBody): Promise<string> {
    try {
      return await body.text();
    } catch (err) {
      throw this.wrap(err);
    }
  }

  /** Rethrows a connection lost in the middle of a stream as a clear error. */
  private async *guard(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    try {
      yield* body;
    } catch (err) {
      throw this.wrap(err);
    }
  }

  private wrap(err: unknown): unknown {
    const code = networkCode(err);
    return code ? new UnreachableError(this.host, code) : err;
  }
}

async function readAll(source: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

async function* decode(source: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of source) {
    const text = decoder.decode(chunk, { stream: true });
    if (text) yield text;
  }
  const tail = decoder.decode();
  if (tail) yield tail;
}

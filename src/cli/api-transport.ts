/** The HTTP transport under the CLI's API client: one request path (token, JSON or gzip body, timeouts), failures as RewindErrors, and the streamed answers (text, SSE, NDJSON). */
import { Readable } from 'node:stream';
import type { Agent, Dispatcher } from 'undici';
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
  readonly method?: Dispatcher.HttpMethod;
  readonly path: string;
  readonly query?: Query;
  readonly json?: unknown;
  readonly upload?: Upload;
  /** Streams: no body timeout, and the CLI's abort signal. */
  readonly stream?: boolean;
  readonly signal?: AbortSignal;
}

/** Sends calls to one Rewind server over one connection pool; an error answer or a lost connection is thrown as a RewindError. */
export class ApiTransport {
  // undici is loaded on the first call: `rewind --version` and `--help` never pay for it.
  private dispatcher: Promise<{ agent: Agent; request: typeof import('undici').request }> | undefined;
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
  async send(call: Call): Promise<Dispatcher.ResponseData['body']> {
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
    let res: Dispatcher.ResponseData;
    try {
      this.dispatcher ??= import('undici').then(({ Agent, request }) => ({ agent: new Agent({ connect: { timeout: 10_000 } }), request }));
      const { agent, request } = await this.dispatcher;
      res = await request(url, {
        method: call.method ?? 'GET',
        headers,
        body,
        dispatcher: agent,
        signal: call.signal ?? (call.stream ? this.opts.signal : undefined),
        bodyTimeout: call.stream ? 0 : undefined,
        headersTimeout: call.upload ? 0 : undefined,
      });
    } catch (err) {
      throw this.wrap(err);
    }
    if (res.statusCode >= 400) throw errorFromResponse(res.statusCode, await this.collect(res.body));
    return res.body;
  }

  /** Closes the connection pool, so the process can exit at once. */
  async close(): Promise<void> {
    if (this.dispatcher) await (await this.dispatcher).agent.close();
  }

  private async collect(body: Dispatcher.ResponseData['body']): Promise<string> {
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

async function* decode(source: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of source) {
    const text = decoder.decode(chunk, { stream: true });
    if (text) yield text;
  }
  const tail = decoder.decode();
  if (tail) yield tail;
}

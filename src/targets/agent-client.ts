/**
 * A small typed HTTP client for the agent's API (see src/agent/agent-server.ts), over undici. It
 * sends the agent's token with every request.
 */
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { RewindError } from '../domain/errors.js';
import type { AgentEvent, AgentSnapshot, AgentState, DesiredState, ExecEvent, ExecRequest, ObservedApp } from '../protocol/agent-protocol.js';

export type ResultEvent = Extract<AgentEvent, { type: 'result' }>;

export interface AgentHealth {
  readonly ok: true;
  readonly pid: number;
  readonly version: string;
}

/** The agent answered with an error: `{ error: { code, message } }` and an HTTP status. */
export class AgentRequestError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'AgentRequestError';
    this.status = status;
    this.code = code;
  }
}

export { NdjsonParser } from '../protocol/ndjson.js';
import { NdjsonParser, readNdjson } from '../protocol/ndjson.js';

function unavailable(url: string, err: unknown): RewindError {
  const code = (err as { code?: string }).code ?? (err as Error).message;
  return new RewindError('AGENT_UNAVAILABLE', `the Rewind agent at ${url} is not answering (${code}); restart "rewind server" or run "rewind agent"`);
}

/** Where an agent answers, and the token it wants. */
export interface AgentAddress {
  readonly url: string;
  readonly token: string;
}

export interface AgentClientOptions {
  /** The agent's bearer token (its agent.token file, or REWIND_AGENT_TOKEN). */
  readonly token: string;
}

export class AgentClient {
  readonly url: string;
  readonly #dispatcher: Dispatcher;
  readonly #authorization: string;

  constructor(url: string, options: AgentClientOptions) {
    this.url = url.replace(/\/+$/, '');
    this.#authorization = `Bearer ${options.token}`;
    this.#dispatcher = new Agent({ keepAliveTimeout: 4000, connect: { timeout: 5000 } });
  }

  /** True when this client was made for `url` with `token`. */
  isFor(url: string, token: string): boolean {
    return this.url === url.replace(/\/+$/, '') && this.#authorization === `Bearer ${token}`;
  }

  async #call(
    method: Dispatcher.HttpMethod,
    path: string,
    options: { body?: unknown; bodyTimeout?: number; headersTimeout?: number; signal?: AbortSignal } = {},
  ): Promise<Dispatcher.ResponseData> {
    let res: Dispatcher.ResponseData;
    // The agent takes every POST as JSON, a body-less one (a snapshot) too.
    const body = method === 'POST' ? JSON.stringify(options.body ?? {}) : undefined;
    try {
      res = await request(`${this.url}${path}`, {
        method,
        dispatcher: this.#dispatcher,
        headers: { authorization: this.#authorization, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body } : {}),
        headersTimeout: options.headersTimeout ?? 30_000,
        bodyTimeout: options.bodyTimeout ?? 60_000,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      if (options.signal?.aborted) throw err;
      throw unavailable(this.url, err);
    }
    if (res.statusCode >= 400) {
      const text = await res.body.text().catch(() => '');
      let code = `HTTP_${res.statusCode}`;
      let message = text || `the agent answered ${res.statusCode} to ${method} ${path}`;
      try {
        const parsed = JSON.parse(text) as { error?: { code?: string; message?: string } };
        code = parsed.error?.code ?? code;
        message = parsed.error?.message ?? message;
      } catch {
        /* not JSON */
      }
      throw new AgentRequestError(res.statusCode, code, message);
    }
    return res;
  }

  async #json<T>(method: Dispatcher.HttpMethod, path: string): Promise<T> {
    const res = await this.#call(method, path);
    return (await res.body.json()) as T;
  }

  health(): Promise<AgentHealth> {
    return this.#json('GET', '/v1/health');
  }

  state(): Promise<AgentState> {
    return this.#json('GET', '/v1/state');
  }

  /** What the agent runs for app/env; null when it knows nothing of it. */
  async observe(app: string, env: string): Promise<ObservedApp | null> {
    try {
      return await this.#json<ObservedApp>('GET', `/v1/apps/${encodeURIComponent(app)}/${encodeURIComponent(env)}`);
    } catch (err) {
      if (err instanceof AgentRequestError && err.status === 404) return null;
      throw err;
    }
  }

  /**
   * Starts a rollout and streams its events to `onEvent`. Resolves with the `result` event, or
   * null when the stream broke before it (the rollout goes on in the agent: observe it).
   */
  async deploy(desired: DesiredState, onEvent: (event: AgentEvent) => void): Promise<ResultEvent | null> {
    const res = await this.#call('POST', '/v1/deploy', { body: desired, bodyTimeout: 0 });
    const parser = new NdjsonParser();
    let result: ResultEvent | null = null;
    const handle = (values: unknown[]) => {
      for (const value of values) {
        const event = value as AgentEvent;
        if (event.type === 'result') result = event;
        onEvent(event);
      }
    };
    try {
      res.body.setEncoding('utf8');
      for await (const chunk of res.body) handle(parser.push(chunk as string));
      handle(parser.end());
    } catch {
      handle(parser.end());
    }
    return result;
  }

  /**
   * Runs a one-off command in app/env's live release. Resolves once it started (throws an
   * AgentRequestError when nothing runs there or the component is unknown) with its events;
   * `signal` stops the command.
   */
  async exec(app: string, env: string, request: ExecRequest, signal: AbortSignal): Promise<AsyncIterable<ExecEvent>> {
    const res = await this.#call('POST', `/v1/apps/${encodeURIComponent(app)}/${encodeURIComponent(env)}/exec`, {
      body: request,
      bodyTimeout: 0,
      headersTimeout: 60_000,
      signal,
    });
    return readNdjson<ExecEvent>(res.body);
  }

  /** Packs what is live for app/env (files and config in effect) for a backup. */
  snapshot(app: string, env: string): Promise<AgentSnapshot> {
    return this.#json('POST', `/v1/apps/${encodeURIComponent(app)}/${encodeURIComponent(env)}/snapshot`);
  }

  /** Stops everything of app/env on the agent. */
  async remove(app: string, env: string): Promise<void> {
    const res = await this.#call('DELETE', `/v1/apps/${encodeURIComponent(app)}/${encodeURIComponent(env)}`, { bodyTimeout: 0, headersTimeout: 120_000 });
    await res.body.dump();
  }

  /** `lines` past log lines, then (with follow) new ones until `signal` aborts or the stream is destroyed. */
  async logs(app: string, env: string, options: { lines: number; follow: boolean; signal?: AbortSignal }): Promise<Readable> {
    const query = `lines=${Math.max(0, Math.floor(options.lines))}${options.follow ? '&follow=1' : ''}`;
    const res = await this.#call('GET', `/v1/apps/${encodeURIComponent(app)}/${encodeURIComponent(env)}/logs?${query}`, {
      bodyTimeout: options.follow ? 0 : 60_000,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return res.body;
  }

  /** Closes idle connections; streams still open after a second (followed logs) are cut. */
  async close(): Promise<void> {
    const closed = this.#dispatcher.close().then(() => true);
    const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1000).unref());
    if (!(await Promise.race([closed, timer]))) await this.#dispatcher.destroy();
  }
}

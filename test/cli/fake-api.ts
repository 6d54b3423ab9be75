/** A tiny fake of the Rewind HTTP API on port 0, for in-process CLI tests. */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach } from 'vitest';
import { run } from '../../src/main/rewind.js';

export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  json<T = unknown>(): T;
}

export type Handler = (req: FakeRequest, res: ServerResponse) => unknown;

/** Routes are `METHOD /path` keys; a handler's return value is sent as JSON (200, or res.statusCode). */
export async function fakeApi(routes: Record<string, Handler>) {
  const requests: FakeRequest[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://x');
    const body = Buffer.concat(chunks);
    const r: FakeRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
      json: <T>() => JSON.parse(body.toString('utf8')) as T,
    };
    requests.push(r);
    const handler = routes[`${r.method} ${r.path}`];
    if (!handler) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ statusCode: 404, error: 'Not Found', message: `Route ${r.method}:${r.path} not found` }));
      return;
    }
    const out = await handler(r, res);
    if (res.writableEnded) return;
    if (out === undefined) {
      res.statusCode = res.statusCode === 200 ? 204 : res.statusCode;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(out));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** An API error reply. */
export type FakeApi = Awaited<ReturnType<typeof fakeApi>>;

/**
 * `serve(routes)` for the tests of a file: starts a fake API and returns it with the env that points
 * the CLI at it (plus `env`); an afterEach closes the last one started.
 */
export function useFakeApi(env: Record<string, string> = {}): (routes: Record<string, Handler>) => Promise<{ api: FakeApi; env: Record<string, string> }> {
  let api: FakeApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  return async (routes) => {
    api = await fakeApi(routes);
    return { api, env: { REWIND_HOST: api.url, ...env } };
  };
}

/** The JSON bodies of the requests the fake API got at `path`. */
export const bodies = (reqs: readonly FakeRequest[], path: string) => reqs.filter((r) => r.path === path).map((r) => r.json());

export function apiError(res: ServerResponse, status: number, code: string, message: string) {
  res.statusCode = status;
  return { error: { code, message } };
}

/** Writes chunks with a pause between them, so that the client sees them separately. */
export async function dribble(res: ServerResponse, contentType: string, chunks: readonly string[]) {
  res.writeHead(200, { 'content-type': contentType });
  for (const c of chunks) {
    res.write(c);
    await new Promise((r) => setTimeout(r, 5));
  }
  res.end();
}

/** `event: NAME\ndata: JSON\n\n` split in the middle, to cross chunk boundaries. */
export function sse(events: readonly [string, unknown][]): string[] {
  const text = events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join('');
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 37) chunks.push(text.slice(i, i + 37));
  return chunks;
}

/**
 * Runs `rewind ARGS` in-process, capturing stdout and stderr. `stdin` (text typed at a terminal)
 * makes stdin a TTY that answers questions with it.
 */
export async function rewind(args: string[], env: Record<string, string | undefined> = {}, isTTY = false, stdin?: string) {
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { USER: 'ann', ...env },
    isTTY,
    ...(stdin !== undefined && { stdin: Object.assign(Readable.from([stdin]), { isTTY: true }) }),
  });
  return { code, stdout, stderr };
}

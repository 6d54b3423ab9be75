/**
 * Helpers of the edge tests: upstream processes (fixtures/edge-upstream.mjs) stopped by pid, calls
 * of the agent's edge API, and a prober that opens a new connection for every request.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll } from 'vitest';
import { FIXTURES } from './helpers.js';

export interface UpstreamProcess {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  /** SIGKILLs it and waits until it is gone. */
  kill(): Promise<void>;
}

const children = new Set<ChildProcess>();

/** Stops every upstream process a test file started (by pid) after its tests. */
export function useUpstreams(): (name: string) => Promise<UpstreamProcess> {
  afterAll(async () => {
    await Promise.all([...children].map((child) => stop(child)));
  });
  return startUpstream;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid as number, 'SIGKILL');
    await exited;
  }
  children.delete(child);
}

export async function startUpstream(name: string): Promise<UpstreamProcess> {
  const child = spawn(process.execPath, [join(FIXTURES, 'edge-upstream.mjs'), name], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`upstream ${name} exited (${code}) before listening`)));
    child.stdout?.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
  });
  return { name, port, pid: child.pid as number, kill: () => stop(child) };
}

export interface Answer {
  readonly status: number;
  /** The JSON answer, read by the tests. */
  readonly body: any;
}

/** Calls the agent's API with its token (JSON in, JSON out). */
export async function call(agent: { url: string; token: string }, method: 'GET' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<Answer> {
  const res = await request(`${agent.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${agent.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? JSON.parse(text) : null };
}

/** The edge route body of `upstreams`. */
export function route(port: number, fence: number, upstreams: readonly { port: number }[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { port, fence, upstreams: upstreams.map((u) => ({ host: '127.0.0.1', port: u.port })), ...extra };
}

/** One GET on a new connection: status and body, or the error code. */
export function getFresh(port: number, path = '/'): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    req.end();
  });
}

export interface ProbeResult {
  ok: number;
  failed: string[];
  seen: Record<string, number>;
}

/** `loops` loops of GETs, each on a new connection, until stop(); what they got. */
export function probe(port: number, loops = 4): { stop(): Promise<ProbeResult> } {
  const result: ProbeResult = { ok: 0, failed: [], seen: {} };
  let running = true;
  const loop = async () => {
    while (running) {
      const answer = await getFresh(port);
      if ('error' in answer || answer.status !== 200) result.failed.push(JSON.stringify(answer));
      else {
        result.ok++;
        const name = answer.body.trim();
        result.seen[name] = (result.seen[name] ?? 0) + 1;
      }
    }
  };
  const all = Promise.all(Array.from({ length: loops }, loop));
  return {
    stop: async () => {
      running = false;
      await all;
      return result;
    },
  };
}

/**
 * Health of a Swarm task, probed as the agent probes an instance (src/agent/health-check.ts): GET
 * of the health path (2xx/3xx is healthy), else a TCP connect, polled every `intervalMs` until
 * `timeoutMs` has passed, but on the task's node address and its host-mode published port.
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { HealthSpec } from '../../protocol/agent-protocol.js';

export interface ProbeResult {
  readonly ok: boolean;
  readonly detail: string;
}

export function probeHttp(host: string, port: number, path: string, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = request(
      { host, port, path, method: 'GET', agent: false, timeout: timeoutMs, headers: { 'user-agent': 'rewind-swarm/health', connection: 'close' } },
      (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 400, detail: `GET ${path} answered ${status}` });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs}ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, detail: `GET ${path}: ${err.code ?? err.message}` }));
    req.end();
  });
}

export function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, detail: `port ${port} accepts connections` });
    });
    socket.once('timeout', () => socket.destroy(new Error('timeout')));
    socket.once('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, detail: `port ${port}: ${err.code ?? err.message}` }));
  });
}

/** Probes host:port until healthy; on the deadline, the last probe's detail. */
export async function waitHealthy(host: string, port: number, spec: HealthSpec): Promise<ProbeResult> {
  const deadline = Date.now() + spec.timeoutMs;
  for (;;) {
    const timeout = Math.max(100, Math.min(5000, deadline - Date.now()));
    const result = spec.path ? await probeHttp(host, port, spec.path, timeout) : await probeTcp(host, port, timeout);
    if (result.ok || Date.now() >= deadline) return result;
    await new Promise((r) => setTimeout(r, Math.max(10, Math.min(spec.intervalMs, deadline - Date.now()))));
  }
}

/** "GET /health within 5s", for log lines. */
export function describeHealth(spec: HealthSpec, hasPort: boolean): string {
  const how = !hasPort ? 'running' : spec.path ? `GET ${spec.path}` : 'TCP connect';
  return `${how} within ${spec.timeoutMs / 1000}s`;
}

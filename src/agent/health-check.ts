/**
 * Health of a starting instance: HTTP GET of the health path (2xx/3xx), else a TCP connect to its
 * port, else the process staying up for a moment. Polled until a deadline, like Kamal's boot.
 */
import type { HealthSpec } from '../protocol/agent-protocol.js';
import { probeHttp as probeOn, probeTcp as tcpOn } from '../protocol/health-probe.js';
import type { ExitInfo } from './supervisor.js';

export type { ProbeResult } from '../protocol/health-probe.js';

export type HealthOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'timeout'; readonly detail: string }
  | { readonly ok: false; readonly reason: 'exited'; readonly exit: ExitInfo }
  | { readonly ok: false; readonly reason: 'aborted' };

/** Human description of a health check, for log lines: "GET /health, 30s". */
export function describeHealth(spec: HealthSpec, hasPort: boolean): string {
  const how = !hasPort ? `up for ${Math.min(2000, spec.timeoutMs) / 1000}s` : spec.path ? `GET ${spec.path}` : 'TCP connect';
  return `${how} within ${spec.timeoutMs / 1000}s`;
}

/** Probes of an instance on this host. */
export const probeHttp = (port: number, path: string, timeoutMs: number) => probeOn('127.0.0.1', port, path, timeoutMs);
export const probeTcp = (port: number, timeoutMs: number) => tcpOn('127.0.0.1', port, timeoutMs);

export interface WaitHealthyOptions {
  readonly port: number | null;
  readonly spec: HealthSpec;
  readonly exited: Promise<ExitInfo>;
  readonly signal?: AbortSignal;
}

/** Polls until healthy, the process exits (fails at once), the deadline passes or `signal` aborts. */
export async function waitHealthy(opts: WaitHealthyOptions): Promise<HealthOutcome> {
  const started = Date.now();
  const deadline = started + opts.spec.timeoutMs;
  let exit: ExitInfo | null = null;
  void opts.exited.then((info) => (exit = info));
  let detail = 'no probe answered yet';
  for (;;) {
    if (opts.signal?.aborted) return { ok: false, reason: 'aborted' };
    if (exit) return { ok: false, reason: 'exited', exit };
    const now = Date.now();
    if (opts.port === null) {
      // No port: healthy once up for a moment (never longer than the timeout, so never a timeout).
      const upFor = Math.min(2000, opts.spec.timeoutMs);
      if (now - started >= upFor) return { ok: true };
      await pause(Math.max(1, Math.min(100, opts.spec.intervalMs, started + upFor - now)), opts.exited, opts.signal);
      continue;
    }
    const timeout = Math.max(100, Math.min(5000, deadline - now));
    const result = opts.spec.path ? await probeHttp(opts.port, opts.spec.path, timeout) : await probeTcp(opts.port, timeout);
    if (exit) return { ok: false, reason: 'exited', exit };
    if (result.ok) return { ok: true };
    detail = result.detail;
    if (Date.now() >= deadline) return { ok: false, reason: 'timeout', detail };
    await pause(Math.max(10, Math.min(opts.spec.intervalMs, deadline - Date.now())), opts.exited, opts.signal);
  }
}

/** Sleeps `ms`, waking early when the process exits or the signal aborts. */
function pause(ms: number, exited: Promise<ExitInfo>, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    void exited.then(done);
  });
}

/**
 * Health of a Swarm task, probed as the agent probes an instance (src/agent/health-check.ts): GET
 * of the health path (2xx/3xx is healthy), else a TCP connect, polled every `intervalMs` until
 * `timeoutMs` has passed, but on the task's node address and its host-mode published port.
 */
import type { HealthSpec } from '../../protocol/agent-protocol.js';
import { type ProbeResult, probeHttp, probeTcp } from '../../protocol/health-probe.js';

export type { ProbeResult };

/** Probes host:port until healthy; on the deadline, the last probe's detail. */
export async function waitHealthy(host: string, port: number, spec: HealthSpec): Promise<ProbeResult> {
  const deadline = Date.now() + spec.timeoutMs;
  for (;;) {
    const timeout = Math.max(100, Math.min(5000, deadline - Date.now()));
    const result = spec.path ? await probeHttp(host, port, spec.path, timeout, 'rewind-swarm') : await probeTcp(host, port, timeout);
    if (result.ok || Date.now() >= deadline) return result;
    await new Promise((r) => setTimeout(r, Math.max(10, Math.min(spec.intervalMs, deadline - Date.now()))));
  }
}

/** "GET /health within 5s", for log lines. */
export function describeHealth(spec: HealthSpec, hasPort: boolean): string {
  const how = !hasPort ? 'running' : spec.path ? `GET ${spec.path}` : 'TCP connect';
  return `${how} within ${spec.timeoutMs / 1000}s`;
}

/**
 * Health of instances that already run (live and standby): the same probe as at startup, repeated.
 * The runtime decides what failures mean (restart, or an automatic rollback of a watched release).
 */
import type { HealthSpec } from '../protocol/agent-protocol.js';
import type { ProbeResult } from './health-check.js';
import { probeHttp, probeTcp } from './health-check.js';

/** Consecutive failed probes after which a running instance is acted upon. */
export const FAILED_PROBES_TO_ACT = 3;
/** Probe interval of instances not under an automatic-rollback watch (at least their own interval). */
export const STEADY_PROBE_MS = 5000;

export interface MonitorOptions {
  readonly port: number;
  readonly spec: HealthSpec;
  /** Delay before the next probe, asked again before each one. */
  interval(): number;
  onResult(result: ProbeResult): void;
}

/** Probes until the returned function is called; one probe at a time. */
export function monitorHealth(opts: MonitorOptions): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  const schedule = () => {
    timer = setTimeout(() => void tick(), opts.interval());
    timer.unref();
  };
  const tick = async () => {
    const timeout = Math.max(100, Math.min(5000, opts.spec.timeoutMs));
    const result = opts.spec.path ? await probeHttp(opts.port, opts.spec.path, timeout) : await probeTcp(opts.port, timeout);
    if (stopped) return;
    opts.onResult(result);
    if (!stopped) schedule();
  };
  schedule();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}

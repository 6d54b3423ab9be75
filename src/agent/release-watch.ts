/**
 * The automatic-rollback watch of one app runtime: after a switch, the new release is watched for
 * a window; crashing or failing health checks within it rolls it back to the previous one.
 */
import type { AutoRollback, DesiredState } from '../protocol/agent-protocol.js';
import type { AppRuntime } from './app-runtime.js';
import type { Instance } from './instance.js';

/** Crashes of a watched release within its window that make it roll back. */
export const CRASHES_TO_ROLL_BACK = 3;
const MAX_AUTO_ROLLBACKS = 10;

/** A release under watch after its switch: crashing or failing health checks rolls it back to `previous`. */
export interface ReleaseWatch {
  readonly release: string;
  readonly previous: DesiredState;
  readonly windowMs: number;
  readonly until: number;
  crashes: number;
  timer: NodeJS.Timeout;
}

/** Watches `desired` (just switched to) for `windowMs`: see ReleaseWatch. */
export function armWatch(
  runtime: AppRuntime,
  desired: DesiredState,
  previous: DesiredState,
  windowMs: number,
  crashes = 0,
  until = Date.now() + windowMs,
): void {
  disarmWatch(runtime);
  const timer = setTimeout(
    () => {
      if (runtime.watch?.timer !== timer) return;
      runtime.watch = null;
      runtime.log.system(`${desired.release} stayed healthy for ${windowMs / 1000}s; automatic rollback disarmed`);
      reprobeLive(runtime);
      void runtime.ctx.persist();
    },
    Math.max(0, until - Date.now()),
  );
  timer.unref();
  runtime.watch = { release: desired.release, previous, windowMs, until, crashes, timer };
  // Probe the watched instances at their own interval from now on.
  reprobeLive(runtime);
}

export function disarmWatch(runtime: AppRuntime): void {
  if (runtime.watch) clearTimeout(runtime.watch.timer);
  runtime.watch = null;
}

/** True when `instance` belongs to the release under watch (it is probed at its own interval). */
export function isWatched(runtime: AppRuntime, instance: Instance): boolean {
  return runtime.watch !== null && instance.role === 'live' && instance.desired.release === runtime.watch.release;
}

export function recordAutoRollback(runtime: AppRuntime, record: AutoRollback): void {
  runtime.autoRollbacks = [...runtime.autoRollbacks, record].slice(-MAX_AUTO_ROLLBACKS);
}

/** Restarts the probes of the live instances that are probed, at the interval the watch now implies. */
function reprobeLive(runtime: AppRuntime): void {
  for (const i of runtime.instances) if (i.role === 'live' && i.stopProbe) runtime.startProbes(i);
}

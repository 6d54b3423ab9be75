/**
 * Crash recovery of one instance of an app/env: restart with backoff after a crash, recycle an
 * instance that stopped passing health checks, and what counts toward the automatic rollback.
 */
import type { AppRuntime } from './app-runtime.js';
import type { ProbeResult } from './health-check.js';
import { waitHealthy } from './health-check.js';
import { FAILED_PROBES_TO_ACT } from './health-monitor.js';
import type { Instance } from './instance.js';
import { label } from './instance.js';
import { freePort, killLeftoverGroup } from './proc-info.js';
import { restartDelayMs, servesHttp } from './process-commands.js';
import { CRASHES_TO_ROLL_BACK, isWatched } from './release-watch.js';
import type { ProcessHandle } from './supervisor.js';
import { describeExit } from './supervisor.js';

/** Uptime after which a restart counts as a fresh failure again (backoff back to 1s). */
const STABLE_MS = 30_000;

/** A live or standby instance crashed (or could not start): schedule its restart with backoff, and count it toward the release watch. */
export function instanceCrashed(runtime: AppRuntime, instance: Instance, what: string): void {
  instance.stopProbe?.();
  instance.stopProbe = null;
  const upSince = Date.parse(instance.startedAt);
  if (Date.now() - upSince > STABLE_MS) instance.failures = 0;
  const delay = restartDelayMs(instance.failures);
  instance.failures++;
  runtime.log.pump();
  runtime.log.system(`${label(instance)} ${what}, restarting in ${delay / 1000}s`);
  runtime.unroute(instance);
  void runtime.ctx.persist();
  instance.restartTimer = setTimeout(() => void runtime.restart(instance), delay);
  const watch = runtime.watch;
  if (watch && instance.role === 'live' && instance.desired.release === watch.release && ++watch.crashes >= CRASHES_TO_ROLL_BACK) {
    runtime.ctx.tripped(
      runtime,
      `its instances crashed ${watch.crashes} times within ${watch.windowMs / 1000}s of the switch (last: ${label(instance)} ${what})`,
    );
  }
}

/** Starts a live or standby instance again (after a crash, or when it was found dead at agent start). */
export async function restartInstance(runtime: AppRuntime, instance: Instance): Promise<void> {
  instance.restartTimer = null;
  if (instance.stopping || runtime.closed) return;
  instance.restarts++;
  if (instance.handle?.pid) killLeftoverGroup(instance.handle.pid);
  try {
    if (instance.port !== null) instance.port = await freePort(instance.port);
    await runtime.ctx.slugs.ensure(instance.component.artifact);
  } catch (err) {
    return instanceCrashed(runtime, instance, describeExit({ code: null, signal: null, error: (err as Error).message }));
  }
  if (instance.stopping || runtime.closed) return;
  let handle: ProcessHandle;
  try {
    handle = await runtime.start(instance);
  } catch (err) {
    return instanceCrashed(runtime, instance, describeExit({ code: null, signal: null, error: (err as Error).message }));
  }
  void runtime.ctx.persist();
  const outcome = await waitHealthy({
    port: servesHttp(instance.component) ? instance.port : null,
    spec: instance.component.health,
    exited: handle.exited,
    signal: instance.abort.signal,
  });
  if (instance.handle !== handle || instance.stopping || runtime.closed) return;
  if (outcome.ok) return runtime.markHealthy(instance);
  if (outcome.reason === 'timeout') {
    runtime.log.system(`${label(instance)} is not healthy after ${instance.component.health.timeoutMs / 1000}s (${outcome.detail})`);
    await recycleInstance(runtime, instance, 'was not healthy');
  }
  // 'exited' is handled by watchExit(); 'aborted' means it is being stopped.
}

/** Stops an instance that runs but is not healthy, then restarts it like a crashed one. */
async function recycleInstance(runtime: AppRuntime, instance: Instance, what: string): Promise<void> {
  instance.state = 'unhealthy';
  instance.stopProbe?.();
  instance.stopProbe = null;
  runtime.unroute(instance);
  const handle = instance.handle;
  instance.handle = null; // its exit is ours, not a crash for watchExit() to react to
  await handle?.stop(runtime.ctx.stopGraceMs);
  if (!instance.stopping && !runtime.closed) instanceCrashed(runtime, instance, what);
}

/** A periodic health probe answered: after FAILED_PROBES_TO_ACT failures in a row, trip the watch or recycle the instance. */
export function instanceProbed(runtime: AppRuntime, instance: Instance, result: ProbeResult): void {
  if (instance.stopping || runtime.closed || (instance.state !== 'healthy' && instance.state !== 'standby')) return;
  if (result.ok) {
    instance.probeFailures = 0;
    return;
  }
  if (++instance.probeFailures < FAILED_PROBES_TO_ACT) return;
  const failed = `failed ${instance.probeFailures} health checks in a row (${result.detail})`;
  if (isWatched(runtime, instance) && runtime.isRouted(instance) && runtime.ctx.tripped(runtime, `${label(instance)} ${failed}`)) return;
  if (instance.role !== 'live' && instance.role !== 'standby') return;
  runtime.log.system(`${label(instance)} ${failed}; restarting it`);
  void recycleInstance(runtime, instance, 'was unhealthy');
}

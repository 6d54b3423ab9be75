/**
 * What happens to the instances a switch replaced: those that serve HTTP go to the warm standby
 * (kept running without traffic), or are drained and stopped; workers (no port) are always
 * stopped, since one kept running would go on working beside its successor. Either way in-flight
 * requests, streams and WebSockets get the drain timeout to finish before they are cut.
 */
import type { DesiredState } from '../protocol/agent-protocol.js';
import type { AppRuntime } from './app-runtime.js';
import { stopStandby } from './standby-claims.js';
import type { Instance } from './instance.js';
import type { ProxyBinding, Upstream } from './proxy.js';
import { servesHttp } from './process-commands.js';
import { standbyPolicy } from './standby.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const duration = (ms: number) => (ms % 60_000 === 0 ? `${ms / 60_000} min` : `${ms / 1000}s`);

/**
 * Retires `old` (the live instances of `oldDesired` until the switch to `desired`): on standby when
 * `keep` and the policy of `desired` allows it, else drained and stopped. `unused` ports are closed
 * once drained. Returns at once; the drain goes on in the background of `runtime`.
 */
export function retire(
  runtime: AppRuntime,
  old: readonly Instance[],
  oldDesired: DesiredState | null,
  keep: boolean,
  desired: DesiredState,
  unused: readonly ProxyBinding[],
  say: (m: string) => void,
): void {
  const policy = standbyPolicy(desired);
  const standby = keep && oldDesired !== null && policy.count > 0 && policy.keepMs > 0;
  const upstreams = old.flatMap((i) => (i.upstream ? [i.upstream] : []));
  const inflight = upstreams.reduce((sum, u) => sum + u.inflight, 0);
  const from = oldDesired?.release ?? 'the old release';
  if (inflight > 0) say(`Draining ${plural(inflight, 'request')} in flight on ${from} (up to ${desired.drainTimeoutMs / 1000}s)`);
  // Standby is for what answers HTTP: a worker kept there would go on working beside its successor.
  const kept = standby ? old.filter((i) => servesHttp(i.component)) : [];
  const workers = old.filter((i) => !servesHttp(i.component));
  for (const instance of old) {
    const waits = kept.includes(instance);
    instance.role = waits ? 'standby' : 'draining';
    if (!waits) instance.state = 'stopping';
    else if (instance.state === 'healthy' || instance.state === 'running') instance.state = 'standby';
  }
  if (kept.length > 0 && oldDesired) {
    runtime.standby.add(oldDesired, Date.now() + policy.keepMs);
    const stopping = workers.length
      ? `; stopping ${plural(workers.length, 'instance')} of ${[...new Set(workers.map((i) => i.component.name))].join(', ')} (no port: only HTTP components wait on standby)`
      : '';
    say(`Keeping ${plural(kept.length, 'instance')} of ${from} on warm standby for ${duration(policy.keepMs)}${stopping}`);
    for (const set of runtime.standby.trim(policy.count)) runtime.track(stopStandby(runtime, set, `at most ${plural(policy.count, 'release')} on standby`));
  } else if (standby && workers.length > 0) {
    say(`Stopping ${plural(workers.length, 'instance')} of ${from} (no port: only HTTP components wait on standby)`);
  }
  // Workers serve no request to drain: they stop now, not after the drain of the HTTP instances.
  runtime.track(Promise.all(workers.map((i) => runtime.stop(i))).then(() => void runtime.ctx.persist()));
  runtime.track(
    (async () => {
      const plane = runtime.ctx.plane;
      const drained = await plane.drain(upstreams, desired.drainTimeoutMs, runtime.lifetime);
      if (runtime.closed) return;
      if (!drained) {
        runtime.log.system(
          `Requests still in flight on ${from} after ${desired.drainTimeoutMs / 1000}s; ${kept.length ? 'cutting them' : 'stopping the old instances anyway'}`,
        );
        // A rollback may have made some of them live again meanwhile: only cut the others.
        plane.cut(old.filter((i) => i.role !== 'live' && i.upstream).map((i) => i.upstream as Upstream));
      }
      await Promise.all(unused.map((b) => b.close()));
      await Promise.all(old.filter((i) => !kept.includes(i) && !workers.includes(i)).map((i) => runtime.stop(i)));
      void runtime.ctx.persist();
    })(),
  );
}

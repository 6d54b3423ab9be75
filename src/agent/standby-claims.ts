/**
 * The standby instances of one app runtime as a rollout uses them: claimed for a release that runs
 * the same, given back when the rollout fails, stopped when their set leaves the pool.
 */
import type { DesiredComponent, DesiredState } from '../protocol/agent-protocol.js';
import type { AppRuntime } from './app-runtime.js';
import type { Instance } from './instance.js';
import { servesHttp } from './process-commands.js';
import type { StandbySet } from './standby.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A standby instance a rollout took, with what it was, to give it back if the rollout fails. */
export interface ClaimedStandby {
  readonly instance: Instance;
  readonly desired: DesiredState;
  readonly component: DesiredComponent;
}

/** Takes a standby instance for a rollout of `desired` (which runs the same as it): relabelled, it starts serving at the switch. */
export function claimStandby(runtime: AppRuntime, instance: Instance, desired: DesiredState, component: DesiredComponent): ClaimedStandby {
  const claimed = { instance, desired: instance.desired, component: instance.component };
  runtime.relabel(instance, desired, component);
  instance.role = 'starting';
  instance.state = servesHttp(component) && instance.port !== null ? 'healthy' : 'running';
  return claimed;
}

/** Gives a claimed instance back to the standby (its rollout failed); one that died meanwhile is stopped. */
export function unclaimStandby(runtime: AppRuntime, claimed: ClaimedStandby): void {
  const { instance } = claimed;
  if (instance.stopping) return;
  runtime.relabel(instance, claimed.desired, claimed.component);
  instance.role = 'standby';
  if (instance.state === 'healthy' || instance.state === 'running') instance.state = 'standby';
  else runtime.track(runtime.stop(instance));
}

/** Forgets the standby releases none of whose instances is on standby any more. */
export function pruneStandby(runtime: AppRuntime): void {
  for (const set of runtime.standby.sets) {
    if (!runtime.instances.some((i) => i.role === 'standby' && i.desired.release === set.release)) runtime.standby.take(set);
  }
}

/** Stops the instances of a standby set that left the pool (expired, or beyond the count). */
export async function stopStandby(runtime: AppRuntime, set: StandbySet, why: string): Promise<void> {
  const members = runtime.instances.filter((i) => i.role === 'standby' && i.desired.release === set.release);
  if (members.length) runtime.log.system(`Stopping ${plural(members.length, 'standby instance')} of ${set.release}: ${why}`);
  await Promise.all(members.map((i) => runtime.stop(i)));
  void runtime.ctx.persist();
}

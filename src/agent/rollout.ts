/**
 * A rollout, booted like Kamal: bind the ports, start the new instances, wait for their health with
 * a deadline, switch every port in one tick, then retire the old instances (warm standby, or drain
 * and stop). Per component (rollout-plan.ts): one that does not change keeps its instances; one
 * whose instances wait on warm standby is a route swap; only the others start. On failure only the
 * new instances are stopped, reused standby instances go back to the standby, and the old release
 * keeps serving. Split out: the rollout in progress (rollout-progress.ts), starting the new
 * instances until healthy (rollout-start.ts).
 */
import type { AgentEvent, DesiredState } from '../protocol/agent-protocol.js';
import type { AppRuntime } from './app-runtime.js';
import type { Instance } from './instance.js';
import { label } from './instance.js';
import { routedComponent } from './process-commands.js';
import type { ProxyBinding } from './proxy.js';
import { armWatch, disarmWatch } from './release-watch.js';
import { retire } from './retire.js';
import type { ComponentSource } from './rollout-plan.js';
import { planComponents } from './rollout-plan.js';
import type { Rollout } from './rollout-progress.js';
import { RolloutFailed, checkAborted, enterPhase } from './rollout-progress.js';
import { lastLines, startFresh } from './rollout-start.js';
import type { RoutePlan } from './routing.js';
import { claimStandby, pruneStandby, unclaimStandby } from './standby-claims.js';

export type RolloutResult = Extract<AgentEvent, { type: 'result' }>;

export interface RolloutOptions {
  /** An automatic rollback: the replaced (bad) instances are stopped, not kept warm, and no watch is armed. */
  readonly automatic?: boolean;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The rollout planned: its routes prepared, per component where its instances come from, and the instances kept. */
interface Planned {
  readonly routes: RoutePlan;
  readonly sources: readonly ComponentSource[];
  readonly kept: readonly Instance[];
}

/** What the switch replaced: the old live instances and the ports no component uses any more. */
interface Switched {
  readonly old: readonly Instance[];
  readonly unused: ProxyBinding[];
}

export async function runRollout(
  runtime: AppRuntime,
  desired: DesiredState,
  emit: (message: string) => void,
  signal: AbortSignal,
  options: RolloutOptions = {},
): Promise<RolloutResult> {
  const say = (message: string) => {
    runtime.log.system(message);
    emit(message);
  };
  const rollout: Rollout = {
    runtime,
    desired,
    signal,
    automatic: options.automatic === true,
    say,
    previous: runtime.release,
    previousDesired: runtime.desired,
    fresh: [],
    claimed: [],
    plan: null,
  };
  try {
    const planned = await prepare(rollout);
    await bringUpNew(rollout, planned);
    const switched = await switchTraffic(rollout, planned);
    retireReplaced(rollout, switched);
    return { type: 'result', at: new Date().toISOString(), ok: true, release: desired.release };
  } catch (err) {
    return await undo(rollout, err);
  }
}

/** Says what is deployed, prepares the routes and plans each component: keep, warm standby or start. */
async function prepare(rollout: Rollout): Promise<Planned> {
  const { runtime, desired, say } = rollout;
  const shape = desired.components.map((c) => `${c.name}×${c.scale}`).join(', ') || 'no components';
  say(`Deploying ${desired.release} to ${runtime.app} (${runtime.env}): ${shape}`);
  enterPhase(rollout, 'preparing');
  const routes = await runtime.routing.prepare(desired).catch((err: Error) => Promise.reject(new RolloutFailed(err.message)));
  rollout.plan = routes;
  checkAborted(rollout);
  const sources = planComponents(
    desired,
    runtime.instances,
    runtime.standby.sets.map((s) => s.release),
  );
  const kept = sources.flatMap((s) => (s.kind === 'keep' ? s.instances : []));
  return { routes, sources, kept };
}

/** Claims the warm standby instances, starts the others until healthy; fails if any instance to serve is gone. */
async function bringUpNew(rollout: Rollout, { sources, kept }: Planned): Promise<void> {
  const { runtime, desired } = rollout;
  const toStart = sources.flatMap((s) => (s.kind === 'start' ? [s.component] : []));
  // Taken out of the standby at once (its expiry skips them); given back if the rollout fails.
  rollout.claimed = sources.flatMap((s) => (s.kind === 'warm' ? s.instances.map((i) => claimStandby(runtime, i, desired, s.component)) : []));
  rollout.fresh = rollout.claimed.map((c) => c.instance);
  sayReuse(sources, toStart.length === 0, desired, rollout.say);
  if (toStart.length > 0) await startFresh(rollout, toStart);
  const lost = [...kept, ...rollout.fresh].find((i) => i.stopping || (i.role !== 'live' && i.state !== 'healthy' && i.state !== 'running'));
  if (lost) throw new RolloutFailed(`${label(lost)} stopped before traffic was switched${lastLines(runtime, lost)}`);
}

/** Every port to the new instances in one tick; the runtime records the new release (persisted behind). */
async function switchTraffic(rollout: Rollout, { routes, sources, kept }: Planned): Promise<Switched> {
  const { runtime, desired, fresh, say } = rollout;
  enterPhase(rollout, 'switching');
  const keptSet = new Set(kept);
  const old = runtime.instances.filter((i) => i.role === 'live' && !keptSet.has(i));
  for (const s of sources) if (s.kind === 'keep') for (const instance of s.instances) runtime.relabel(instance, desired, s.component);
  for (const instance of fresh) instance.role = 'live';
  rollout.claimed = [];
  pruneStandby(runtime);
  for (const instance of old) instance.role = 'draining'; // retire() below keeps them warm, or stops them
  const unused = runtime.routing.commit(routes, desired);
  rollout.plan = null;
  runtime.wantedProxyPort = desired.proxyPort;
  runtime.release = desired.release;
  runtime.desired = desired;
  runtime.previous = rollout.automatic ? null : rollout.previousDesired;
  runtime.refreshUpstreams();
  void runtime.ctx.persist(); // written behind: requests flow to the new release meanwhile
  const web = routedComponent(desired.components);
  const routed = fresh.filter((i) => i.upstream !== null && i.component.name === web?.name).length;
  await runtime.ctx.plane.settle().catch((err: Error) => say(`The proxy did not take the new routes: ${err.message}`));
  say(
    web
      ? `Switched traffic to ${desired.release} (${plural(routed, `${web.name} instance`)}) on port ${desired.proxyPort}`
      : `Switched to ${desired.release} (no component serves HTTP)`,
  );
  return { old, unused };
}

/** The old instances to the warm standby or stopped; the watch moves to the new release. */
function retireReplaced(rollout: Rollout, { old, unused }: Switched): void {
  const { runtime, desired, automatic, previousDesired, say } = rollout;
  enterPhase(rollout, 'draining');
  retire(runtime, old, previousDesired, !automatic, desired, unused, say);
  // The watch of the release just replaced ends with it (a rollout that fails keeps it).
  if (runtime.watch) say(`The automatic-rollback watch of ${runtime.watch.release} ends with it`);
  disarmWatch(runtime);
  const windowMs = desired.autoRollback?.windowMs ?? 0;
  if (!automatic && windowMs > 0 && previousDesired) {
    armWatch(runtime, desired, previousDesired, windowMs);
    say(`Watching ${desired.release} for ${windowMs / 1000}s: failing health checks or crashes roll it back to ${rollout.previous}`);
  }
  say(`Release ${desired.release} is live`); // persisted by the caller
}

/** A failed rollout: standby instances given back, the new ones stopped, the prepared routes abandoned. */
async function undo(rollout: Rollout, err: unknown): Promise<RolloutResult> {
  const { runtime, desired, claimed, previous, say } = rollout;
  const message = err instanceof RolloutFailed ? err.message : `agent error: ${(err as Error).stack ?? String(err)}`;
  say(`Rollout of ${desired.release} failed: ${message}`);
  // Reused standby instances go back to the standby, as they were.
  for (const c of claimed) unclaimStandby(runtime, c);
  const fresh = rollout.fresh.filter((i) => !claimed.some((c) => c.instance === i));
  // After an abort the caller (app removal, agent shutdown) decides what happens to the new instances.
  if (!rollout.signal.aborted && fresh.some((i) => i.role === 'starting')) {
    await Promise.all(fresh.filter((i) => i.role === 'starting').map((i) => runtime.stop(i, say)));
    say(previous ? `${previous} is still serving` : `Nothing runs for ${runtime.app} (${runtime.env})`);
  }
  if (rollout.plan) await runtime.routing.abandon(rollout.plan);
  void runtime.ctx.persist();
  return { type: 'result', at: new Date().toISOString(), ok: false, error: message, release: runtime.release };
}

/** What the plan reuses, said once: kept instances, warm standby instances. */
function sayReuse(sources: readonly ComponentSource[], nothingToStart: boolean, desired: DesiredState, say: (m: string) => void): void {
  const kept = sources.filter((s) => s.kind === 'keep' && s.instances.length > 0).map((s) => s.component.name);
  const warm = sources.flatMap((s) => (s.kind === 'warm' ? [s] : []));
  const tail = nothingToStart ? ': no process to start' : '';
  const froms = [...new Set(warm.map((s) => s.from))];
  if (kept.length === 0 && froms.length === 1 && nothingToStart) {
    const n = warm.reduce((sum, s) => sum + s.instances.length, 0);
    say(
      froms[0] === desired.release
        ? `Reusing ${plural(n, 'warm standby instance')} of ${froms[0]}${tail}`
        : `Reusing ${plural(n, 'warm standby instance')} of ${froms[0]} (same builds and config)${tail}`,
    );
    return;
  }
  if (kept.length > 0) say(`Keeping the running instances of ${kept.join(', ')} (unchanged): no restart`);
  for (const from of froms) {
    const of = warm.filter((s) => s.from === from);
    say(
      `Reusing ${plural(
        of.reduce((sum, s) => sum + s.instances.length, 0),
        'warm standby instance',
      )} of ${from} for ${of.map((s) => s.component.name).join(', ')}`,
    );
  }
}

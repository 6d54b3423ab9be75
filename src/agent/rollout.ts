/**
 * A rollout, booted like Kamal: bind the ports, start the new instances, wait for their health with
 * a deadline, switch every port in one tick, then retire the old instances (warm standby, or drain
 * and stop). Per component (rollout-plan.ts): one that does not change keeps its instances; one
 * whose instances wait on warm standby is a route swap; only the others start. On failure only the
 * new instances are stopped, reused standby instances go back to the standby, and the old release
 * keeps serving.
 */
import { stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { AgentEvent, DesiredComponent, DesiredState } from '../protocol/agent-protocol.js';
import type { AppRuntime } from './app-runtime.js';
import { armWatch, disarmWatch } from './release-watch.js';
import type { ClaimedStandby } from './standby-claims.js';
import { claimStandby, pruneStandby, unclaimStandby } from './standby-claims.js';
import type { HealthOutcome } from './health-check.js';
import { describeHealth, waitHealthy } from './health-check.js';
import type { Instance } from './instance.js';
import { createInstance, label, newInstanceId } from './instance.js';
import { freePort } from './proc-info.js';
import { retire } from './retire.js';
import { routedComponent, servesHttp } from './process-commands.js';
import type { RoutePlan } from './routing.js';
import type { ComponentSource } from './rollout-plan.js';
import { planComponents } from './rollout-plan.js';
import { describeExit } from './supervisor.js';
import { workDirPath } from './work-copy.js';

export type RolloutResult = Extract<AgentEvent, { type: 'result' }>;

export interface RolloutOptions {
  /** An automatic rollback: the replaced (bad) instances are stopped, not kept warm, and no watch is armed. */
  readonly automatic?: boolean;
}

class RolloutFailed extends Error {}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export async function runRollout(
  rt: AppRuntime,
  desired: DesiredState,
  emit: (message: string) => void,
  signal: AbortSignal,
  options: RolloutOptions = {},
): Promise<RolloutResult> {
  const say = (message: string) => {
    rt.log.system(message);
    emit(message);
  };
  const phase = (name: string) => {
    rt.rollout = { release: desired.release, ...(desired.deployment ? { deployment: desired.deployment } : {}), phase: name };
  };
  const previous = rt.release;
  const previousDesired = rt.desired;
  let fresh: Instance[] = [];
  let claimed: ClaimedStandby[] = [];
  let plan: RoutePlan | null = null;
  const checkAborted = () => {
    if (signal.aborted) throw new RolloutFailed('rollout aborted: the agent is shutting down or the app was removed');
  };
  try {
    const shape = desired.components.map((c) => `${c.name}×${c.scale}`).join(', ') || 'no components';
    say(`Deploying ${desired.release} to ${rt.app} (${rt.env}): ${shape}`);
    phase('preparing');
    const prepared = await rt.routing.prepare(desired).catch((err: Error) => Promise.reject(new RolloutFailed(err.message)));
    plan = prepared;
    checkAborted();
    const sources = planComponents(
      desired,
      rt.instances,
      rt.standby.sets.map((s) => s.release),
    );
    const kept = sources.flatMap((s) => (s.kind === 'keep' ? s.instances : []));
    const toStart = sources.flatMap((s) => (s.kind === 'start' ? [s.component] : []));
    // Taken out of the standby at once (its expiry skips them); given back if the rollout fails.
    claimed = sources.flatMap((s) => (s.kind === 'warm' ? s.instances.map((i) => claimStandby(rt, i, desired, s.component)) : []));
    fresh = claimed.map((c) => c.instance);
    sayReuse(sources, toStart.length === 0, desired, say);
    if (toStart.length > 0) await startFresh(rt, desired, toStart, fresh, say, phase, checkAborted, signal);
    const lost = [...kept, ...fresh].find((i) => i.stopping || (i.role !== 'live' && i.state !== 'healthy' && i.state !== 'running'));
    if (lost) throw new RolloutFailed(`${label(lost)} stopped before traffic was switched${lastLines(rt, lost)}`);

    phase('switching');
    const keptSet = new Set(kept);
    const old = rt.instances.filter((i) => i.role === 'live' && !keptSet.has(i));
    for (const s of sources) if (s.kind === 'keep') for (const instance of s.instances) rt.relabel(instance, desired, s.component);
    for (const instance of fresh) instance.role = 'live';
    claimed = [];
    pruneStandby(rt);
    for (const instance of old) instance.role = 'draining'; // retire() below keeps them warm, or stops them
    const unused = rt.routing.commit(prepared, desired);
    plan = null;
    rt.wantedProxyPort = desired.proxyPort;
    rt.release = desired.release;
    rt.desired = desired;
    rt.previous = options.automatic ? null : previousDesired;
    rt.refreshUpstreams();
    void rt.ctx.persist(); // written behind: requests flow to the new release meanwhile
    const web = routedComponent(desired.components);
    const routed = fresh.filter((i) => i.upstream !== null && i.component.name === web?.name).length;
    await rt.ctx.plane.settle().catch((err: Error) => say(`The proxy did not take the new routes: ${err.message}`));
    say(
      web
        ? `Switched traffic to ${desired.release} (${plural(routed, `${web.name} instance`)}) on port ${desired.proxyPort}`
        : `Switched to ${desired.release} (no component serves HTTP)`,
    );

    phase('draining');
    retire(rt, old, previousDesired, !options.automatic, desired, unused, say);
    // The watch of the release just replaced ends with it (a rollout that fails keeps it).
    if (rt.watch) say(`The automatic-rollback watch of ${rt.watch.release} ends with it`);
    disarmWatch(rt);
    const windowMs = desired.autoRollback?.windowMs ?? 0;
    if (!options.automatic && windowMs > 0 && previousDesired) {
      armWatch(rt, desired, previousDesired, windowMs);
      say(`Watching ${desired.release} for ${windowMs / 1000}s: failing health checks or crashes roll it back to ${previous}`);
    }
    say(`Release ${desired.release} is live`); // persisted by the caller
    return { type: 'result', at: new Date().toISOString(), ok: true, release: desired.release };
  } catch (err) {
    const message = err instanceof RolloutFailed ? err.message : `agent error: ${(err as Error).stack ?? String(err)}`;
    say(`Rollout of ${desired.release} failed: ${message}`);
    // Reused standby instances go back to the standby, as they were.
    for (const c of claimed) unclaimStandby(rt, c);
    fresh = fresh.filter((i) => !claimed.some((c) => c.instance === i));
    // After an abort the caller (app removal, agent shutdown) decides what happens to the new instances.
    if (!signal.aborted && fresh.some((i) => i.role === 'starting')) {
      await Promise.all(fresh.filter((i) => i.role === 'starting').map((i) => rt.stop(i, say)));
      say(previous ? `${previous} is still serving` : `Nothing runs for ${rt.app} (${rt.env})`);
    }
    if (plan) await rt.routing.abandon(plan);
    void rt.ctx.persist();
    return { type: 'result', at: new Date().toISOString(), ok: false, error: message, release: rt.release };
  }
}

/** `work`, or a rejection as soon as `signal` aborts (the work goes on, unawaited). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('rollout aborted: the agent is shutting down or the app was removed'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('rollout aborted: the agent is shutting down or the app was removed'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
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

/** Prepares the slugs, starts every instance of `components` (added to `fresh`) and waits until all are healthy. */
async function startFresh(
  rt: AppRuntime,
  desired: DesiredState,
  components: readonly DesiredComponent[],
  fresh: Instance[],
  say: (m: string) => void,
  phase: (name: string) => void,
  checkAborted: () => void,
  signal: AbortSignal,
): Promise<void> {
  const slugs = new Map<string, string>();
  for (const c of components) {
    if (slugs.has(c.artifact.sha256)) continue;
    say(`Preparing slug of ${c.build} (sha256 ${c.artifact.sha256.slice(0, 12)})`);
    // An app removal does not wait for a slug that is still being hashed or unpacked.
    const slug = untilAborted(rt.ctx.slugs.ensure(c.artifact), signal);
    slugs.set(c.artifact.sha256, await slug.catch((err: Error) => Promise.reject(new RolloutFailed(err.message))));
    checkAborted();
  }
  for (const c of components) {
    if (c.command === undefined) await checkStaticDir(slugs.get(c.artifact.sha256) as string, c.name, c.static);
  }

  phase('starting');
  const taken = new Set(rt.instances.map((i) => i.id));
  const starting: Instance[] = [];
  for (const component of components) {
    for (let n = 0; n < component.scale; n++) {
      const id = newInstanceId(taken);
      taken.add(id);
      let port = servesHttp(component) ? await freePort() : null;
      // The probe socket is closed at once, so the kernel may offer the same port twice.
      while (port !== null && (fresh.some((i) => i.port === port) || rt.instances.some((i) => i.port === port))) port = await freePort();
      const instance = createInstance({
        id,
        desired,
        component,
        workDir: workDirPath(rt.ctx.dataDir, rt.app, rt.env, `${component.name}.${id}`),
        role: 'starting',
        port,
      });
      rt.instances.push(instance);
      fresh.push(instance);
      starting.push(instance);
    }
  }
  for (const instance of starting) {
    await rt.start(instance, say).catch((err: Error) => Promise.reject(new RolloutFailed(`cannot start ${label(instance)}: ${err.message}`)));
  }
  // Durable before going on: an agent killed from here on re-adopts the new processes.
  await rt.ctx.persist();
  checkAborted();

  phase('health');
  if (starting.length > 0) {
    const specs = [...new Set(components.filter((c) => c.scale > 0).map((c) => `${c.name}: ${describeHealth(c.health, servesHttp(c))}`))];
    say(`Waiting for ${plural(starting.length, 'instance')} to be healthy (${specs.join('; ')})`);
  }
  const failure = await waitAllHealthy(rt, starting, say, signal);
  checkAborted();
  if (failure) throw new RolloutFailed(failure);
  const died = starting.find((i) => i.state !== 'healthy' && i.state !== 'running');
  if (died) throw new RolloutFailed(`${label(died)} stopped before traffic was switched${lastLines(rt, died)}`);
}

async function checkStaticDir(slugDir: string, component: string, dir: string | undefined): Promise<void> {
  const root = join(slugDir, dir ?? '.');
  const info = await stat(root).catch(() => null);
  if (relative(slugDir, root).startsWith('..') || !info?.isDirectory()) {
    throw new RolloutFailed(`component ${component}: static folder "${dir ?? '.'}" is not a folder of the build`);
  }
}

/** Waits for every new instance; the first failure aborts the others and is returned. */
async function waitAllHealthy(rt: AppRuntime, fresh: readonly Instance[], say: (m: string) => void, signal: AbortSignal): Promise<string | null> {
  const group = new AbortController();
  const onAbort = () => group.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  let failure: string | null = null;
  try {
    await Promise.all(
      fresh.map(async (instance) => {
        const handle = instance.handle;
        if (!handle) return;
        const port = servesHttp(instance.component) ? instance.port : null;
        const outcome = await waitHealthy({ port, spec: instance.component.health, exited: handle.exited, signal: group.signal });
        if (outcome.ok) return rt.markHealthy(instance, say);
        if (outcome.reason === 'aborted' || failure) return;
        if (outcome.reason === 'timeout') instance.state = 'unhealthy';
        failure = explain(rt, instance, outcome);
        group.abort();
      }),
    );
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
  return failure;
}

function explain(rt: AppRuntime, instance: Instance, outcome: Exclude<HealthOutcome, { ok: true }>): string {
  if (outcome.reason === 'exited') return `${label(instance)} ${describeExit(outcome.exit)} during startup${lastLines(rt, instance)}`;
  if (outcome.reason === 'timeout')
    return `${label(instance)} was not healthy within ${instance.component.health.timeoutMs / 1000}s (${outcome.detail}${portHint(instance, outcome.detail)})${lastLines(rt, instance)}`;
  return `${label(instance)} was aborted`;
}

/** Nothing listened where the probe knocked: most often an app on a port of its own (a manifest's `port: 3000`) instead of $PORT. */
function portHint(instance: Instance, detail: string): string {
  return instance.port !== null && /ECONNREFUSED/.test(detail) ? `; did ${instance.component.name} listen on $PORT=${instance.port}?` : '';
}

function lastLines(rt: AppRuntime, instance: Instance): string {
  rt.log.pump();
  const lines = rt.log.lastRawLines(instance.component.name, instance.id, 10);
  return lines.length ? `; its last log lines:\n${lines.map((l) => `  ${l}`).join('\n')}` : '; it wrote nothing to its log';
}

/**
 * One apply on a Swarm, as a story of named steps like the agent's rollout: read what runs, bring
 * up the release's services (reusing its warm ones), wait for every task to run and be healthy,
 * switch (the fence label), keep the replaced release as warm standby, sweep. On failure only the
 * services this apply created are removed; the previous release keeps serving.
 */
import { DEFAULT_STANDBY, type DesiredState } from '../../protocol/agent-protocol.js';
import type { EdgeUpstream } from '../../protocol/edge-protocol.js';
import type { ApplyResult } from '../target.js';
import type { DockerEngine } from './docker-engine.js';
import type { Labels, Service } from './docker-types.js';
import { bringUp, type Placed } from './swarm-bring-up.js';
import type { EdgeAgent } from './swarm-edges.js';
import { describeHealth, waitHealthy } from './swarm-health.js';
import { LABEL, refusalOf, specFingerprint } from './swarm-names.js';
import { restoreRoute, routeTo } from './swarm-routing.js';
import { type EnvState, labelOf, type ReleaseServices, readEnv } from './swarm-state.js';
import { componentOf, markCurrent, markStandby, nextFence, removeServices, sweep } from './swarm-switch.js';
import { endpointsOf, nodeAddresses, type TaskEndpoint, waitRunning } from './swarm-tasks.js';

export interface RolloutContext {
  readonly engine: DockerEngine;
  readonly scope: Labels;
  /** How long the tasks of a new service may take to run (pulling the image included). */
  readonly startTimeoutMs: number;
  readonly say: (message: string) => void;
  /** The edge agents that route app/env's port (decision 0009); none: no routing. */
  readonly edges: readonly EdgeAgent[];
  /** The lowest fence this switch may take (above the routes the target's watch sent). */
  readonly fenceFloor?: number;
  /** Told of the route a switch sent. */
  readonly routed?: (fence: number, port: number, upstreams: readonly EdgeUpstream[]) => void;
}

class RolloutFailed extends Error {}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export async function runRollout(ctx: RolloutContext, desired: DesiredState): Promise<ApplyResult> {
  const { say } = ctx;
  const state = await readEnv(ctx.engine, ctx.scope, desired.app, desired.env);
  const previous = state.current?.release ?? null;
  const refusal = refusalOf(desired) ?? refusalOfCurrent(state, desired);
  if (refusal) {
    say(`Refused ${desired.release}: ${refusal}`);
    return { ok: false, release: previous, error: refusal };
  }
  const shape = desired.components.map((c) => `${c.name}×${c.scale}`).join(', ') || 'no components';
  say(`Deploying ${desired.release} to ${desired.app} (${desired.env}) on Swarm: ${shape}`);
  if (previous === desired.release) return again(ctx, desired, state);
  const standby = desired.standby ?? DEFAULT_STANDBY;
  await sweep(ctx.engine, state, standby.count, new Set([desired.release]), say);
  const placed: Placed[] = [];
  try {
    await bringUp(ctx, desired, await readEnv(ctx.engine, ctx.scope, desired.app, desired.env), placed);
    await waitAllHealthy(ctx, placed);
    await switchTo(ctx, desired, previous, placed);
  } catch (err) {
    return undo(ctx, desired, previous, placed, err);
  }
  // The switch happened: what is left is housekeeping, and its failure does not undo the switch.
  await retire(ctx, desired, previous).catch((err: Error) => say(`Could not retire ${previous}: ${err.message}`));
  say(`Release ${desired.release} is live`);
  return { ok: true, release: desired.release };
}

/** The current release again: nothing starts; the edges get its route once more (one may have lost it). */
async function again(ctx: RolloutContext, desired: DesiredState, state: EnvState): Promise<ApplyResult> {
  ctx.say(`${desired.release} already runs with this spec: nothing to start`);
  if (ctx.edges.length === 0) return { ok: true, release: desired.release };
  const placed: Placed[] = [];
  try {
    await bringUp({ ...ctx, say: () => {} }, desired, state, placed);
    await switchTo(ctx, desired, desired.release, placed);
  } catch (err) {
    return undo(ctx, desired, desired.release, placed, err);
  }
  return { ok: true, release: desired.release };
}

/** The current release applied again with another spec cannot be changed under its name. */
function refusalOfCurrent(state: EnvState, desired: DesiredState): string | null {
  if (state.current?.release !== desired.release) return null;
  const running = new Map(state.current.services.map((s) => [componentOf(s), labelOf(s, LABEL.spec)]));
  const same = running.size === desired.components.length && desired.components.every((c) => running.get(c.name) === specFingerprint(desired, c));
  return same
    ? null
    : `release ${desired.release} already runs on this Swarm with other components, images, config or scale; deploy the change as a new release`;
}

/** Every task running, then healthy on its node's address and published port. */
async function waitAllHealthy(ctx: RolloutContext, placed: readonly Placed[]): Promise<void> {
  const started = Date.now();
  const nodes = await nodeAddresses(ctx.engine);
  const specs = placed.map((p) => `${p.component.name}: ${describeHealth(p.component.health, p.targetPort !== null)}`);
  ctx.say(
    `Waiting for ${plural(
      placed.reduce((n, p) => n + p.component.scale, 0),
      'task',
    )} to run and be healthy (${specs.join('; ')})`,
  );
  await Promise.all(
    placed.map(async (p) => {
      const deadline = Date.now() + ctx.startTimeoutMs;
      const tasks = await waitRunning(ctx.engine, { id: p.id, name: p.name, replicas: p.component.scale, targetPort: p.targetPort, fresh: p.fresh }, deadline);
      const endpoints = endpointsOf(tasks, nodes, p.targetPort);
      await Promise.all(endpoints.map((e) => checkHealth(p, e)));
      if (endpoints.length > 0) ctx.say(`${p.component.name} healthy after ${seconds(Date.now() - started)} (${plural(endpoints.length, 'task')})`);
    }),
  );
}

async function checkHealth(p: Placed, e: TaskEndpoint): Promise<void> {
  if (e.port === null) return; // no port: running is enough
  const result = await waitHealthy(e.host, e.port, p.component.health);
  if (!result.ok) {
    throw new RolloutFailed(
      `${p.component.name}.${e.task.ID} (${e.host}:${e.port}) was not healthy within ${p.component.health.timeoutMs / 1000}s: ${result.detail}`,
    );
  }
}

/**
 * The switch: the edges get the route (when there are edges), then the placed services the
 * release's labels and a fence above every earlier one. A refused label update sends the edges
 * the previous route back.
 */
async function switchTo(ctx: RolloutContext, desired: DesiredState, previous: string | null, placed: readonly Placed[]): Promise<void> {
  const state = await readEnv(ctx.engine, ctx.scope, desired.app, desired.env);
  const services = placed.map((p) => state.services.find((s) => s.ID === p.id) ?? p.name);
  const gone = services.find((s): s is string => typeof s === 'string');
  if (gone !== undefined) throw new RolloutFailed(`service ${gone} disappeared before the switch`);
  const release: ReleaseServices = { release: desired.release, services: services as Service[], fence: 0, standbyUntil: null, drainUntil: null };
  const fence = Math.max(nextFence(state, Date.now()), ctx.fenceFloor ?? 0);
  const routing = { engine: ctx.engine, edges: ctx.edges, say: ctx.say };
  const upstreams = ctx.edges.length > 0 ? await routeTo(routing, release, desired.app, desired.env, desired.proxyPort, fence, desired.drainTimeoutMs) : [];
  const builds = new Map(placed.map((p) => [p.id, p.component.build]));
  const identity = (s: Service) => ({ release: desired.release, build: builds.get(s.ID) ?? '', deployment: desired.deployment, proxyPort: desired.proxyPort });
  try {
    await markCurrent(ctx.engine, release.services, identity, fence, ctx.say);
  } catch (err) {
    if (ctx.edges.length > 0) await restoreRoute(routing, state, previous, desired.proxyPort, fence + 1).catch(() => {});
    throw err;
  }
  if (upstreams.length > 0) ctx.routed?.(fence, desired.proxyPort, upstreams);
  const tasks = desired.components.reduce((n, c) => n + c.scale, 0);
  ctx.say(`Switched to ${desired.release} (${plural(tasks, 'task')}, fence ${fence})`);
}

/** The replaced release stays warm per `desired.standby` (or goes at once), then what is no longer kept goes. */
async function retire(ctx: RolloutContext, desired: DesiredState, previous: string | null): Promise<void> {
  const standby = desired.standby ?? DEFAULT_STANDBY;
  const state = await readEnv(ctx.engine, ctx.scope, desired.app, desired.env);
  const replaced = previous === null || previous === desired.release ? undefined : state.releases.get(previous);
  if (replaced && standby.keepMs > 0 && standby.count > 0) {
    await markStandby(ctx.engine, replaced, LABEL.standbyUntil, Date.now() + standby.keepMs, ctx.say);
    ctx.say(`Keeping ${plural(replaced.services.length, 'service')} of ${previous} on warm standby for ${seconds(standby.keepMs)}`);
  } else if (replaced && ctx.edges.length > 0 && desired.drainTimeoutMs > 0) {
    // The edges drain the replaced upstreams for drainMs: their tasks go only after that.
    await markStandby(ctx.engine, replaced, LABEL.drainUntil, Date.now() + desired.drainTimeoutMs, ctx.say);
    ctx.say(`Removing the services of ${previous} once the edges drained them (${seconds(desired.drainTimeoutMs)})`);
  }
  await sweep(ctx.engine, await readEnv(ctx.engine, ctx.scope, desired.app, desired.env), standby.count, new Set(), ctx.say);
}

async function undo(ctx: RolloutContext, desired: DesiredState, previous: string | null, placed: readonly Placed[], err: unknown): Promise<ApplyResult> {
  const error = (err as Error).message.split('\n')[0];
  ctx.say(`Rollout of ${desired.release} failed: ${error}`);
  const created = placed.filter((p) => p.fresh);
  try {
    await removeServices(
      ctx.engine,
      created.map((p) => p.id),
    );
    if (created.length > 0) ctx.say(`Removed the new services: ${created.map((p) => p.name).join(', ')}`);
  } catch (cleanup) {
    ctx.say(`Could not remove the new services of ${desired.release}: ${(cleanup as Error).message}`);
  }
  ctx.say(previous ? `${previous} is still serving` : `Nothing runs for ${desired.app} (${desired.env})`);
  return { ok: false, release: previous, error };
}

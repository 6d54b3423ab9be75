/**
 * The switch's traffic part on a Swarm with edges: the new route goes to every edge before the
 * current-release labels change, so that a refusal by every edge switches nothing; when the label
 * update is then refused, the edges get the previous release's route back with a higher fence.
 */
import type { EdgeUpstream } from '../../protocol/edge-protocol.js';
import type { DockerEngine } from './docker-engine.js';
import { deleteRoute, type EdgeAgent, type EdgeOutcome, pushRoute, upstreamsOf } from './swarm-edges.js';
import type { EnvState, ReleaseServices } from './swarm-state.js';

export interface Routing {
  readonly engine: DockerEngine;
  readonly edges: readonly EdgeAgent[];
  readonly say: (message: string) => void;
}

/** The edges that took it, and a line for each that did not. */
function tally(r: Routing, outcomes: readonly EdgeOutcome[], what: string): number {
  for (const o of outcomes) if (o.error) r.say(`Edge ${o.url} did not take ${what}: ${o.error}`);
  return outcomes.filter((o) => !o.error).length;
}

/**
 * Routes app/env's port to the release's tasks on every edge, with `fence`. Throws when no edge
 * took it (nothing routes to the release then); an edge that missed it gets the next route.
 * Resolves with the upstreams sent (none when the release serves no HTTP).
 */
export async function routeTo(
  r: Routing,
  release: ReleaseServices,
  app: string,
  env: string,
  port: number,
  fence: number,
  drainMs: number,
): Promise<EdgeUpstream[]> {
  const upstreams = await upstreamsOf(r.engine, release);
  if (upstreams.length === 0) {
    r.say(`${release.release} has no running HTTP task: no edge route to send`);
    return upstreams;
  }
  const outcomes = await pushRoute(r.edges, app, env, { port, fence, upstreams, drainMs });
  const took = tally(r, outcomes, `the route of ${release.release}`);
  if (took === 0) throw new Error(`no edge took the route of ${release.release} (${outcomes[0].url} ${outcomes[0].error})`);
  const where = upstreams.map((u) => `${u.host}:${u.port}`).join(', ');
  r.say(`Edges route port ${port} to ${release.release} (${where}) on ${took} of ${r.edges.length} edges, fence ${fence}`);
  return upstreams;
}

/** After a failed switch: the previous release's route again (or none), with a fence above the failed one's. */
export async function restoreRoute(r: Routing, state: EnvState, previous: string | null, port: number, fence: number): Promise<void> {
  const release = previous === null ? undefined : state.releases.get(previous);
  if (!release) {
    tally(r, await deleteRoute(r.edges, state.app, state.env, fence), 'the removal of the route');
    return;
  }
  const upstreams = await upstreamsOf(r.engine, release);
  if (upstreams.length === 0) return;
  const took = tally(r, await pushRoute(r.edges, state.app, state.env, { port, fence, upstreams }), `the route of ${previous} back`);
  r.say(`Edges route port ${port} to ${previous} again on ${took} of ${r.edges.length} edges`);
}

/** When app/env is removed: its route goes from every edge. */
export async function unroute(r: Routing, app: string, env: string, fence: number): Promise<void> {
  if (r.edges.length === 0) return;
  tally(r, await deleteRoute(r.edges, app, env, fence), `the removal of the route of ${app} (${env})`);
}

/**
 * Routing on a Swarm (decision 0009): the Rewind agent on each node is the edge. After a switch
 * every edge gets the route of app/env (`PUT /v1/edge/:app/:env`): its port, the fence of the
 * switch (only increasing, so an edge refuses an older route) and the upstreams, the current
 * release's tasks as node address and published port.
 */
import { request } from 'undici';
import type { EdgeRoute, EdgeUpstream } from '../../protocol/edge-protocol.js';
import type { DockerEngine } from './docker-engine.js';
import type { Service } from './docker-types.js';
import { LABEL } from './swarm-names.js';
import { labelOf, type ReleaseServices } from './swarm-state.js';
import { nodeAddresses, publishedPort } from './swarm-tasks.js';

/** An edge agent: its URL and bearer token (never logged). */
export interface EdgeAgent {
  readonly url: string;
  readonly token: string;
}

export interface EdgeOutcome {
  readonly url: string;
  /** Why this edge did not take the route; absent when it did. */
  readonly error?: string;
}

const TIMEOUT_MS = 10_000;

const targetPortOf = (s: Service) => s.Spec.EndpointSpec?.Ports?.[0]?.TargetPort ?? null;

/** The service the edge routes to: the `web` component when it serves HTTP, else the first that does. */
export function routedService(release: ReleaseServices): Service | undefined {
  const http = release.services.filter((s) => targetPortOf(s) !== null);
  return http.find((s) => labelOf(s, LABEL.component) === 'web') ?? http[0];
}

/** The release's routed tasks that run, as edge upstreams (sorted, so the same tasks make the same route). */
export async function upstreamsOf(engine: DockerEngine, release: ReleaseServices): Promise<EdgeUpstream[]> {
  const service = routedService(release);
  if (!service) return [];
  const [tasks, nodes] = await Promise.all([engine.listTasks({ service: service.ID, desiredState: 'running' }), nodeAddresses(engine)]);
  const upstreams = tasks.flatMap((t) => {
    const host = t.NodeID ? nodes.get(t.NodeID) : undefined;
    const port = publishedPort(t, targetPortOf(service));
    return t.Status.State === 'running' && host && port ? [{ host, port }] : [];
  });
  return upstreams.sort((a, b) => (`${a.host}:${a.port}` < `${b.host}:${b.port}` ? -1 : 1));
}

async function messageOf(body: { text(): Promise<string> }): Promise<string> {
  const text = await body.text().catch(() => '');
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string } };
    if (parsed.error?.message) return parsed.error.message;
  } catch {
    /* not JSON */
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 300) || '(no message)';
}

async function call(edge: EdgeAgent, method: 'PUT' | 'DELETE', path: string, body?: unknown): Promise<EdgeOutcome> {
  const url = edge.url.replace(/\/+$/, '');
  try {
    const res = await request(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${edge.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    });
    if (res.statusCode < 300) {
      await res.body.dump();
      return { url };
    }
    return { url, error: `answered ${res.statusCode}: ${await messageOf(res.body)}` };
  } catch (err) {
    return { url, error: `cannot be reached (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
  }
}

const edgePath = (app: string, env: string) => `/v1/edge/${encodeURIComponent(app)}/${encodeURIComponent(env)}`;

/** Sends the route to every edge at once; says which did not take it. */
export function pushRoute(edges: readonly EdgeAgent[], app: string, env: string, route: EdgeRoute): Promise<EdgeOutcome[]> {
  return Promise.all(edges.map((e) => call(e, 'PUT', edgePath(app, env), route)));
}

/** Deletes the route of app/env on every edge (with `fence`, so that a newer route stays). */
export function deleteRoute(edges: readonly EdgeAgent[], app: string, env: string, fence: number): Promise<EdgeOutcome[]> {
  return Promise.all(edges.map((e) => call(e, 'DELETE', `${edgePath(app, env)}?fence=${fence}`)));
}

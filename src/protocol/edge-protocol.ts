/**
 * The edge route of an app/env (decision 0009): on a Swarm node the agent listens on `port` and
 * proxies to the tasks of the release that takes traffic. The control plane sends it with
 * `PUT /v1/edge/:app/:env`; `fence` only increases, so an agent refuses an older route.
 */
import { isIP } from 'node:net';
import { NAME } from './names.js';

export interface EdgeUpstream {
  /** An IPv4 or IPv6 literal (without brackets) or a host name. */
  readonly host: string;
  readonly port: number;
  /** Its share of the requests relative to the others, 1–100; default 1. */
  readonly weight?: number;
}

export interface EdgeRetry {
  /** How many other upstreams an idempotent request without a body (not POST, PATCH, LOCK) is tried on after a connection error, before any answer byte; 0–10, default 2. */
  readonly attempts?: number;
  /** For how long an upstream whose connection failed is passed over while others remain, in ms; 0–600000, default 5000. */
  readonly ejectMs?: number;
}

/** What the control plane sends. */
export interface EdgeRoute {
  /** Optional in the body; when present it must be the URL's. */
  readonly app?: string;
  readonly env?: string;
  /** The edge's listening port on this node. */
  readonly port: number;
  /** Only increases: a route with a lower fence than the agent's is refused. */
  readonly fence: number;
  /** The tasks of the release that takes traffic; 1 to MAX_EDGE_UPSTREAMS, each host:port once. */
  readonly upstreams: readonly EdgeUpstream[];
  /** How long requests in flight on replaced upstreams (or a deleted route) may finish before they are cut; default 30000. */
  readonly drainMs?: number;
  readonly retry?: EdgeRetry;
}

/** A route as the agent keeps it: the defaults filled in, host names in lower case. */
export interface ResolvedEdgeRoute {
  readonly app: string;
  readonly env: string;
  readonly port: number;
  readonly fence: number;
  readonly upstreams: readonly { readonly host: string; readonly port: number; readonly weight: number }[];
  readonly drainMs: number;
  readonly retry: { readonly attempts: number; readonly ejectMs: number };
}

export interface EdgeUpstreamView {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  /** Requests, streams and tunnels open on it now. */
  readonly inflight: number;
  /** A connection to it failed within the last `retry.ejectMs`: the others get its requests. */
  readonly failing: boolean;
}

/** GET /v1/edge/:app/:env, and each entry of GET /v1/edge's `edges`. */
export interface EdgeView extends Omit<ResolvedEdgeRoute, 'upstreams'> {
  /** False when the port could not be opened (after an agent restart); `error` says why. */
  readonly listening: boolean;
  readonly error?: string;
  readonly upstreams: readonly EdgeUpstreamView[];
  /** Upstreams a route change replaced, while what was in flight on them finishes. */
  readonly draining: readonly EdgeUpstreamView[];
  readonly updatedAt: string;
}

/** The answer of PUT /v1/edge/:app/:env: 201 for a new route, 200 for a change or the same route again (`changed: false`). */
export interface EdgePutAnswer {
  readonly changed: boolean;
  readonly edge: EdgeView;
}

export const MAX_EDGE_UPSTREAMS = 256;
export const EDGE_DEFAULTS = { drainMs: 30_000, attempts: 2, ejectMs: 5000, weight: 1 } as const;

const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const ROUTE_KEYS = new Set(['app', 'env', 'port', 'fence', 'upstreams', 'drainMs', 'retry']);
const UPSTREAM_KEYS = new Set(['host', 'port', 'weight']);
const RETRY_KEYS = new Set(['attempts', 'ejectMs']);
/** At most this many problems of single upstreams are named; the rest are counted. */
const NAMED_UPSTREAM_PROBLEMS = 5;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;
const unknownKeys = (o: Record<string, unknown>, known: ReadonlySet<string>, at: string): string[] =>
  Object.keys(o)
    .filter((k) => !known.has(k))
    .map((k) => `${at}${JSON.stringify(k.slice(0, 40))} is not a field of an edge route`);

/** An IPv4/IPv6 literal without brackets or zone, or a host name (a dotted name of digits only is neither). */
export function isEdgeHost(host: unknown): host is string {
  if (typeof host !== 'string' || host.includes('%')) return false;
  if (isIP(host) !== 0) return true;
  return HOSTNAME.test(host) && !/^[\d.]+$/.test(host);
}

function upstreamProblems(u: unknown, at: string): string[] {
  if (!isObject(u)) return [`${at} must be an object { host, port, weight? }`];
  const problems = unknownKeys(u, UPSTREAM_KEYS, `${at}.`);
  if (!isEdgeHost(u.host)) problems.push(`${at}.host must be an IPv4 or IPv6 address (without brackets) or a host name`);
  if (!isInt(u.port, 1, 65535)) problems.push(`${at}.port must be an integer from 1 to 65535`);
  if (u.weight !== undefined && !isInt(u.weight, 1, 100)) problems.push(`${at}.weight must be an integer from 1 to 100`);
  return problems;
}

function checkUpstreams(list: unknown, problems: string[]): void {
  if (!Array.isArray(list) || list.length === 0) return void problems.push('upstreams must be a non-empty array of { host, port, weight? }');
  if (list.length > MAX_EDGE_UPSTREAMS) return void problems.push(`upstreams must have at most ${MAX_EDGE_UPSTREAMS} entries (it has ${list.length})`);
  const found = list.flatMap((u, i) => upstreamProblems(u, `upstreams[${i}]`));
  const seen = new Map<string, number>();
  list.forEach((u: { host?: unknown; port?: unknown }, i) => {
    if (found.length || !isObject(u)) return;
    const key = `${String(u.host).toLowerCase()}:${String(u.port)}`;
    const first = seen.get(key);
    if (first !== undefined) found.push(`upstreams[${i}] is upstreams[${first}] again (${key})`);
    else seen.set(key, i);
  });
  problems.push(...found.slice(0, NAMED_UPSTREAM_PROBLEMS));
  if (found.length > NAMED_UPSTREAM_PROBLEMS) problems.push(`and ${found.length - NAMED_UPSTREAM_PROBLEMS} more problems of upstreams`);
}

function checkRetry(retry: unknown, problems: string[]): void {
  if (retry === undefined) return;
  if (!isObject(retry)) return void problems.push('retry must be an object { attempts?, ejectMs? }');
  problems.push(...unknownKeys(retry, RETRY_KEYS, 'retry.'));
  if (retry.attempts !== undefined && !isInt(retry.attempts, 0, 10)) problems.push('retry.attempts must be an integer from 0 to 10');
  if (retry.ejectMs !== undefined && !isInt(retry.ejectMs, 0, 600_000)) problems.push('retry.ejectMs must be an integer from 0 to 600000');
}

function resolve(body: EdgeRoute, app: string, env: string): ResolvedEdgeRoute {
  return {
    app,
    env,
    port: body.port,
    fence: body.fence,
    upstreams: body.upstreams.map((u) => ({ host: u.host.toLowerCase(), port: u.port, weight: u.weight ?? EDGE_DEFAULTS.weight })),
    drainMs: body.drainMs ?? EDGE_DEFAULTS.drainMs,
    retry: { attempts: body.retry?.attempts ?? EDGE_DEFAULTS.attempts, ejectMs: body.retry?.ejectMs ?? EDGE_DEFAULTS.ejectMs },
  };
}

/**
 * The body of PUT /v1/edge/:app/:env as the route in effect, or an Error whose one-line message
 * names every field that is wrong. `ports` are the listening ports the agent may take.
 */
export function validateEdgeRoute(body: unknown, app: string, env: string, ports = { lo: 1, hi: 65535 }): ResolvedEdgeRoute | Error {
  if (!isObject(body)) return new Error('invalid edge route: the body must be a JSON object { port, fence, upstreams, drainMs?, retry? }');
  const problems = unknownKeys(body, ROUTE_KEYS, '');
  if (typeof app !== 'string' || typeof env !== 'string' || !NAME.test(app) || !NAME.test(env)) problems.push(`app and env must match ${NAME.source}`);
  if (body.app !== undefined && body.app !== app) problems.push(`app ${JSON.stringify(body.app)} in the body is not the URL's ${app}`);
  if (body.env !== undefined && body.env !== env) problems.push(`env ${JSON.stringify(body.env)} in the body is not the URL's ${env}`);
  const range = ports.lo === 1 && ports.hi === 65535 ? '1 to 65535' : `${ports.lo} to ${ports.hi} (the agent's --port-range)`;
  if (!isInt(body.port, ports.lo, ports.hi)) problems.push(`port must be an integer from ${range}`);
  if (!isInt(body.fence, 0, Number.MAX_SAFE_INTEGER)) problems.push('fence must be an integer from 0 to 2^53-1');
  checkUpstreams(body.upstreams, problems);
  if (body.drainMs !== undefined && !isInt(body.drainMs, 0, 3_600_000)) problems.push('drainMs must be an integer from 0 to 3600000');
  checkRetry(body.retry, problems);
  if (problems.length) return new Error(`invalid edge route: ${problems.join('; ')}`);
  return resolve(body as unknown as EdgeRoute, app, env);
}

/** True when both say the same: every field counts (the fence too), the order of the upstreams does not. */
export function sameEdgeRoute(a: ResolvedEdgeRoute, b: ResolvedEdgeRoute): boolean {
  const canonical = (r: ResolvedEdgeRoute) =>
    JSON.stringify({
      ...r,
      upstreams: [...r.upstreams].map((u) => `${u.host}:${u.port}*${u.weight}`).sort(),
    });
  return canonical(a) === canonical(b);
}

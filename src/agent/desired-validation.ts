/**
 * Checks a POST /v1/deploy body before anything runs: names end up in file paths and process
 * environments, numbers in timers and ports. Collects every problem into one message.
 */
import { isAbsolute } from 'node:path';
import type { DesiredComponent, DesiredState } from '../protocol/agent-protocol.js';
import { NAME } from '../protocol/names.js';
import { routedComponent, servesHttp } from './process-commands.js';

/** App, environment and component names (same rule as the control plane's). */
export { NAME };
const CONFIG_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;
const SHA256 = /^[a-f0-9]{64}$/;
const RELEASE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Build and deployment ids: what the control plane makes, never a path. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Nothing the agent passes to a process, a file name or an HTTP request may hold control characters. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Bounds on the work one desired state asks for. */
export const MAX_COMPONENTS = 32;
export const MAX_INSTANCES = 256;
export const MAX_CONFIG_KEYS = 1000;
export const MAX_CONFIG_VALUE = 64 * 1024;
export const MAX_COMMAND = 16_384;
const MAX_PATH = 1024;

/** What the agent was told it may do: the ports it may listen on for apps. */
export interface DesiredLimits {
  readonly ports: { readonly lo: number; readonly hi: number };
}

/** Any TCP port; the agent passes its `--port-range` instead. */
export const ANY_PORT: DesiredLimits = { ports: { lo: 1, hi: 65535 } };

type Problems = string[];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown, min: number, max: number): v is number => Number.isInteger(v) && (v as number) >= min && (v as number) <= max;

function checkComponent(c: unknown, at: string, problems: Problems): void {
  if (!isObject(c)) {
    problems.push(`${at} must be an object`);
    return;
  }
  if (typeof c.name !== 'string' || !NAME.test(c.name)) problems.push(`${at}.name must match ${NAME.source}`);
  const hasCommand = typeof c.command === 'string' && c.command.trim() !== '';
  if (c.command !== undefined && !hasCommand) problems.push(`${at}.command must be a non-empty string`);
  else if (hasCommand && ((c.command as string).length > MAX_COMMAND || (c.command as string).includes('\0')))
    problems.push(`${at}.command must be at most ${MAX_COMMAND} characters, without NUL`);
  if (
    c.static !== undefined &&
    (typeof c.static !== 'string' || c.static.length > MAX_PATH || CONTROL.test(c.static) || isAbsolute(c.static) || c.static.split(/[\\/]/).includes('..'))
  ) {
    problems.push(`${at}.static must be a folder inside the build`);
  }
  if (!hasCommand && c.static === undefined) problems.push(`${at} needs a command or a static folder`);
  if (typeof c.port !== 'boolean') problems.push(`${at}.port must be a boolean`);
  if (!isInt(c.scale, 0, 64)) problems.push(`${at}.scale must be an integer from 0 to 64`);
  if (typeof c.build !== 'string' || !ID.test(c.build)) problems.push(`${at}.build must be a build id (${ID.source})`);
  const health = c.health;
  if (!isObject(health)) problems.push(`${at}.health must be an object`);
  else {
    if (
      health.path !== undefined &&
      (typeof health.path !== 'string' || !health.path.startsWith('/') || health.path.length > MAX_PATH || /[\s\u0000-\u001f\u007f]/.test(health.path))
    ) {
      problems.push(`${at}.health.path must start with / and be at most ${MAX_PATH} characters without spaces or control characters`);
    }
    if (!isInt(health.timeoutMs, 100, 3_600_000)) problems.push(`${at}.health.timeoutMs must be an integer from 100 to 3600000`);
    if (!isInt(health.intervalMs, 10, 600_000)) problems.push(`${at}.health.intervalMs must be an integer from 10 to 600000`);
  }
  const artifact = c.artifact;
  if (
    !isObject(artifact) ||
    typeof artifact.sha256 !== 'string' ||
    !SHA256.test(artifact.sha256) ||
    typeof artifact.path !== 'string' ||
    !isAbsolute(artifact.path) ||
    artifact.path.length > MAX_PATH ||
    CONTROL.test(artifact.path)
  ) {
    problems.push(`${at}.artifact must be { sha256: 64 hex digits, path: an absolute path }`);
  }
}

/** Routes: other HTTP components of this release, each on its own port, distinct from the main one. */
function checkRoutes(body: Record<string, unknown>, components: readonly DesiredComponent[], limits: DesiredLimits, problems: Problems): void {
  if (body.routes === undefined) return;
  if (!isObject(body.routes)) {
    problems.push('routes must be an object of component name → port');
    return;
  }
  if (Object.keys(body.routes).length > MAX_COMPONENTS) {
    problems.push(`routes must have at most ${MAX_COMPONENTS} entries`);
    return;
  }
  const routed = routedComponent(components)?.name;
  const ports = new Map<number, string>([[body.proxyPort as number, 'proxyPort']]);
  for (const [name, port] of Object.entries(body.routes)) {
    const component = components.find((c) => c.name === name);
    if (!component) problems.push(`routes.${name}: there is no component ${name}`);
    else if (!servesHttp(component)) problems.push(`routes.${name}: component ${name} does not serve HTTP`);
    else if (name === routed) problems.push(`routes.${name}: ${name} is served on proxyPort already`);
    if (!isInt(port, limits.ports.lo, limits.ports.hi)) problems.push(`routes.${name} must be a port from ${portRange(limits)}`);
    else if (ports.has(port)) problems.push(`routes.${name}: port ${port} is used by ${ports.get(port)} too`);
    else ports.set(port, `routes.${name}`);
  }
}

const portRange = (limits: DesiredLimits) => `${limits.ports.lo} to ${limits.ports.hi}${limits === ANY_PORT ? '' : " (the agent's --port-range)"}`;

/** The body as a DesiredState, or an Error listing everything wrong with it. */
export function validateDesiredState(body: unknown, limits: DesiredLimits = ANY_PORT): DesiredState | Error {
  const problems: Problems = [];
  if (!isObject(body)) return new Error('the body must be a JSON DesiredState object');
  if (typeof body.app !== 'string' || !NAME.test(body.app)) problems.push(`app must match ${NAME.source}`);
  if (typeof body.env !== 'string' || !NAME.test(body.env)) problems.push(`env must match ${NAME.source}`);
  if (typeof body.release !== 'string' || !RELEASE.test(body.release)) problems.push('release must be a release id');
  if (body.deployment !== undefined && (typeof body.deployment !== 'string' || !ID.test(body.deployment)))
    problems.push(`deployment must be a deployment id (${ID.source})`);
  if (!isInt(body.proxyPort, limits.ports.lo, limits.ports.hi)) problems.push(`proxyPort must be an integer from ${portRange(limits)}`);
  if (!isInt(body.drainTimeoutMs, 0, 3_600_000)) problems.push('drainTimeoutMs must be an integer from 0 to 3600000');
  if (!isObject(body.config)) problems.push('config must be an object of strings');
  else if (Object.keys(body.config).length > MAX_CONFIG_KEYS) problems.push(`config must have at most ${MAX_CONFIG_KEYS} keys`);
  else {
    for (const [k, v] of Object.entries(body.config)) {
      if (!CONFIG_KEY.test(k) || typeof v !== 'string') problems.push(`config.${k.slice(0, 64)} must be a string under a valid variable name`);
      else if (v.length > MAX_CONFIG_VALUE || v.includes('\0')) problems.push(`config.${k} must be at most ${MAX_CONFIG_VALUE} characters, without NUL`);
    }
  }
  if (!Array.isArray(body.components)) problems.push('components must be an array');
  else if (body.components.length > MAX_COMPONENTS) problems.push(`components must have at most ${MAX_COMPONENTS} entries`);
  else {
    body.components.forEach((c, i) => {
      checkComponent(c, `components[${i}]`, problems);
    });
    const names = (body.components as DesiredComponent[]).map((c) => c?.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) problems.push(`component ${String(dup)} appears twice`);
    const instances = body.components.reduce((n: number, c) => n + (isObject(c) && isInt(c.scale, 0, 64) ? c.scale : 0), 0);
    if (instances > MAX_INSTANCES) problems.push(`the components' scales add up to ${instances} instances, more than ${MAX_INSTANCES}`);
    if (problems.length === 0) checkRoutes(body, body.components as DesiredComponent[], limits, problems);
  }
  if (body.standby !== undefined) {
    const standby = body.standby;
    if (!isObject(standby) || !isInt(standby.keepMs, 0, 7 * 24 * 3_600_000) || !isInt(standby.count, 0, 10)) {
      problems.push('standby must be { keepMs: an integer from 0 to 604800000, count: an integer from 0 to 10 }');
    }
  }
  if (body.autoRollback !== undefined && (!isObject(body.autoRollback) || !isInt(body.autoRollback.windowMs, 0, 24 * 3_600_000))) {
    problems.push('autoRollback must be { windowMs: an integer from 0 to 86400000 }');
  }
  return problems.length ? new Error(`invalid desired state: ${problems.join('; ')}`) : (body as unknown as DesiredState);
}

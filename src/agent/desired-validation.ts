/**
 * Checks a POST /v1/deploy body before anything runs: names end up in file paths and process
 * environments, numbers in timers and ports. Collects every problem into one message.
 */
import { isAbsolute } from 'node:path';
import type { DesiredComponent, DesiredState } from '../protocol/agent-protocol.js';
import { routedComponent, servesHttp } from './process-commands.js';

/** App, environment and component names (same rule as the control plane's). */
export const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const CONFIG_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SHA256 = /^[a-f0-9]{64}$/;
const RELEASE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

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
  if (c.static !== undefined && (typeof c.static !== 'string' || isAbsolute(c.static) || c.static.split(/[\\/]/).includes('..'))) {
    problems.push(`${at}.static must be a folder inside the build`);
  }
  if (!hasCommand && c.static === undefined) problems.push(`${at} needs a command or a static folder`);
  if (typeof c.port !== 'boolean') problems.push(`${at}.port must be a boolean`);
  if (!isInt(c.scale, 0, 64)) problems.push(`${at}.scale must be an integer from 0 to 64`);
  if (typeof c.build !== 'string' || c.build === '') problems.push(`${at}.build must be a build id`);
  const health = c.health;
  if (!isObject(health)) problems.push(`${at}.health must be an object`);
  else {
    if (health.path !== undefined && (typeof health.path !== 'string' || !health.path.startsWith('/'))) problems.push(`${at}.health.path must start with /`);
    if (!isInt(health.timeoutMs, 100, 3_600_000)) problems.push(`${at}.health.timeoutMs must be an integer from 100 to 3600000`);
    if (!isInt(health.intervalMs, 10, 600_000)) problems.push(`${at}.health.intervalMs must be an integer from 10 to 600000`);
  }
  const artifact = c.artifact;
  if (!isObject(artifact) || typeof artifact.sha256 !== 'string' || !SHA256.test(artifact.sha256) || typeof artifact.path !== 'string' || !isAbsolute(artifact.path)) {
    problems.push(`${at}.artifact must be { sha256: 64 hex digits, path: an absolute path }`);
  }
}

/** Routes: other HTTP components of this release, each on its own port, distinct from the main one. */
function checkRoutes(body: Record<string, unknown>, components: readonly DesiredComponent[], problems: Problems): void {
  if (body.routes === undefined) return;
  if (!isObject(body.routes)) {
    problems.push('routes must be an object of component name → port');
    return;
  }
  const routed = routedComponent(components)?.name;
  const ports = new Map<number, string>([[body.proxyPort as number, 'proxyPort']]);
  for (const [name, port] of Object.entries(body.routes)) {
    const component = components.find((c) => c.name === name);
    if (!component) problems.push(`routes.${name}: there is no component ${name}`);
    else if (!servesHttp(component)) problems.push(`routes.${name}: component ${name} does not serve HTTP`);
    else if (name === routed) problems.push(`routes.${name}: ${name} is served on proxyPort already`);
    if (!isInt(port, 1, 65535)) problems.push(`routes.${name} must be a port from 1 to 65535`);
    else if (ports.has(port)) problems.push(`routes.${name}: port ${port} is used by ${ports.get(port)} too`);
    else ports.set(port, `routes.${name}`);
  }
}

/** The body as a DesiredState, or an Error listing everything wrong with it. */
export function validateDesiredState(body: unknown): DesiredState | Error {
  const problems: Problems = [];
  if (!isObject(body)) return new Error('the body must be a JSON DesiredState object');
  if (typeof body.app !== 'string' || !NAME.test(body.app)) problems.push(`app must match ${NAME.source}`);
  if (typeof body.env !== 'string' || !NAME.test(body.env)) problems.push(`env must match ${NAME.source}`);
  if (typeof body.release !== 'string' || !RELEASE.test(body.release)) problems.push('release must be a release id');
  if (body.deployment !== undefined && typeof body.deployment !== 'string') problems.push('deployment must be a string');
  if (!isInt(body.proxyPort, 1, 65535)) problems.push('proxyPort must be an integer from 1 to 65535');
  if (!isInt(body.drainTimeoutMs, 0, 3_600_000)) problems.push('drainTimeoutMs must be an integer from 0 to 3600000');
  if (!isObject(body.config)) problems.push('config must be an object of strings');
  else {
    for (const [k, v] of Object.entries(body.config)) {
      if (!CONFIG_KEY.test(k) || typeof v !== 'string') problems.push(`config.${k} must be a string under a valid variable name`);
    }
  }
  if (!Array.isArray(body.components)) problems.push('components must be an array');
  else {
    body.components.forEach((c, i) => checkComponent(c, `components[${i}]`, problems));
    const names = (body.components as DesiredComponent[]).map((c) => c?.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup !== undefined) problems.push(`component ${String(dup)} appears twice`);
    if (problems.length === 0) checkRoutes(body, body.components as DesiredComponent[], problems);
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

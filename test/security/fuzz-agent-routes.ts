/**
 * The agent's routes (src/agent/agent-server.ts) as operations for the fuzzer: it has no OpenAPI
 * document, so its bodies (a DesiredState, an exec request) are written here as JSON schemas.
 */
import type { Operation, Param, Pools, Schema } from './fuzz-lib.js';

const str: Schema = { type: 'string' };
const int = (minimum: number, maximum: number): Schema => ({ type: 'integer', minimum, maximum });
const appEnv: Param[] = [
  { name: 'app', in: 'path', required: true, schema: str },
  { name: 'env', in: 'path', required: true, schema: str },
];
const component: Schema = {
  type: 'object',
  required: ['name', 'port', 'health', 'scale', 'build', 'artifact'],
  properties: {
    name: str,
    command: str,
    static: str,
    port: { type: 'boolean' },
    health: { type: 'object', required: ['timeoutMs', 'intervalMs'], properties: { path: str, timeoutMs: int(100, 1500), intervalMs: int(10, 300) } },
    scale: int(0, 2),
    build: str,
    artifact: { type: 'object', required: ['sha256', 'path'], properties: { sha256: str, path: str } },
  },
};
/** A DesiredState (src/protocol/agent-protocol.ts) with small, cheap numbers when valid. */
export const DESIRED_STATE: Schema = {
  type: 'object',
  required: ['app', 'env', 'release', 'proxyPort', 'config', 'components', 'drainTimeoutMs'],
  properties: {
    app: str,
    env: str,
    release: str,
    deployment: str,
    proxyPort: int(1024, 65535),
    config: { type: 'object', additionalProperties: str },
    components: { type: 'array', items: component, maxItems: 3 },
    drainTimeoutMs: int(0, 500),
    routes: { type: 'object', additionalProperties: int(1024, 65535) },
    standby: { type: 'object', required: ['keepMs', 'count'], properties: { keepMs: int(0, 2000), count: int(0, 2) } },
    autoRollback: { type: 'object', required: ['windowMs'], properties: { windowMs: int(0, 2000) } },
  },
};
const EXEC: Schema = { type: 'object', required: ['command'], properties: { command: str, component: str, actor: str } };

/**
 * The agent's routes. `pools` (filled by the caller) keep the seeded app off the routes that
 * would change it behind the server's back (DELETE, deploy).
 */
/** An edge route (src/protocol/edge-protocol.ts): a port on this node and the tasks behind it. */
const EDGE: Schema = {
  type: 'object',
  required: ['port', 'fence', 'upstreams'],
  properties: {
    port: int(1024, 65535),
    fence: int(0, 100),
    upstreams: {
      type: 'array',
      maxItems: 3,
      items: { type: 'object', required: ['host', 'port'], properties: { host: str, port: int(1, 65535), weight: int(1, 100) } },
    },
    drainMs: int(0, 500),
    retry: { type: 'object', properties: { attempts: int(0, 10), ejectMs: int(0, 1000) } },
  },
};

export function agentOperations(o: { readonly readPools: Pools; readonly writePools: Pools }): Operation[] {
  const op = (method: string, path: string, extra: Partial<Operation> = {}): Operation => ({ target: 'agent', method, path, params: [], ...extra });
  return [
    op('GET', '/v1/health'),
    op('GET', '/v1/state'),
    op('GET', '/v1/apps/{app}/{env}', { params: appEnv, pools: o.readPools }),
    op('DELETE', '/v1/apps/{app}/{env}', { params: appEnv, pools: o.writePools }),
    op('POST', '/v1/apps/{app}/{env}/snapshot', { params: appEnv, body: { type: 'object' }, pools: o.readPools }),
    op('POST', '/v1/deploy', { body: DESIRED_STATE, pools: o.writePools }),
    op('POST', '/v1/apps/{app}/{env}/exec', { params: appEnv, body: EXEC, pools: o.readPools }),
    op('GET', '/v1/edge'),
    op('GET', '/v1/edge/{app}/{env}', { params: appEnv, pools: o.readPools }),
    op('PUT', '/v1/edge/{app}/{env}', { params: appEnv, body: EDGE, pools: o.writePools }),
    op('DELETE', '/v1/edge/{app}/{env}', { params: [...appEnv, { name: 'fence', in: 'query', schema: int(0, 100) }], pools: o.writePools }),
    op('GET', '/v1/apps/{app}/{env}/logs', {
      params: [...appEnv, { name: 'lines', in: 'query', schema: int(0, 10_000) }, { name: 'follow', in: 'query', schema: { type: 'boolean' } }],
      pools: o.readPools,
    }),
  ];
}

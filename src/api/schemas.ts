import { Type, type Static } from '@sinclair/typebox';
import type { PlanBasis } from '../domain/plan.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { ApiError } from './types.js';

/** Request schemas: one per operation, shared by the route, the OpenAPI document and the clients. */
export const AppParams = Type.Object({ app: Type.String({ description: 'app name' }) });
export const AppIdParams = Type.Object({ app: Type.String(), id: Type.String() });
export const IdParams = Type.Object({ id: Type.String() });
export const EnvQuery = Type.Object({ env: Type.String({ default: 'production', description: 'environment name' }) });
export const ListQuery = Type.Object({
  env: Type.String({ default: 'production' }),
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
});
export const BuildsQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
  component: Type.Optional(Type.String({ description: 'only builds that built this component (its version history)' })),
});
export const CreateAppBody = Type.Object({ name: Type.String({ description: 'app name: [a-z][a-z0-9-]{0,62}' }) }, { additionalProperties: false });
export const BuildQuery = Type.Object({
  env: Type.String({ default: 'production' }),
  description: Type.Optional(Type.String({ maxLength: 500 })),
});
export const FollowQuery = Type.Object({ follow: Type.Boolean({ default: false }) });
export const LogsQuery = Type.Object({
  env: Type.String({ default: 'production' }),
  follow: Type.Boolean({ default: false }),
  lines: Type.Integer({ minimum: 0, maximum: 10000, default: 100 }),
});
export const PromoteBody = Type.Object({ env: Type.String({ default: 'production' }) }, { additionalProperties: false });
const DryRun = Type.Boolean({ default: false, description: 'only compute and return the plan; change nothing' });
/** A type list, not anyOf: Ajv's coercion would turn a null into "" for a string branch of anyOf. */
const releaseOrNull = { type: ['string', 'null'], maxLength: 100 };
/** The basis of the plan the client confirmed (its dry run's `plan.basis`): applied only if it still holds, else 409 STALE_PLAN. */
export const Basis = Type.Optional(
  Type.Unsafe<PlanBasis>({
    type: 'array',
    maxItems: 100,
    items: { type: 'object', required: ['env', 'release'], additionalProperties: false, properties: { env: { type: 'string', maxLength: 100 }, release: releaseOrNull, config: releaseOrNull } },
    description: "the dry run's plan.basis: the change is made only if the environments are still as planned, else 409 STALE_PLAN with the new plan",
  }),
);
/** A request's basis as the engine takes it (the provider infers an Unsafe schema as unknown). */
export const basisIn = (body: { readonly basis?: unknown } | undefined): PlanBasis | undefined => body?.basis as PlanBasis | undefined;
export const RollbackBody = Type.Object(
  {
    env: Type.String({ default: 'production' }),
    release: Type.Optional(Type.String({ description: 'release to roll back to (a copy of it is made and promoted); default: the state before the current release' })),
    components: Type.Optional(
      Type.Record(Type.String(), Type.String(), { description: 'component rollback: component → an earlier succeeded build of that component' }),
    ),
    dryRun: DryRun,
    basis: Basis,
  },
  { additionalProperties: false },
);
export const RevertBody = Type.Object({ env: Type.String({ default: 'production' }), dryRun: DryRun, basis: Basis }, { additionalProperties: false });
export const PromoteEnvBody = Type.Object(
  {
    from: Type.String({ description: 'environment whose active release is promoted' }),
    to: Type.String({ description: 'environment that gets the new release' }),
    components: Type.Optional(Type.Array(Type.String(), { description: 'only these components (default: all of them)' })),
    dryRun: DryRun,
    basis: Basis,
  },
  { additionalProperties: false },
);
export const DiffQuery = Type.Object({ from: Type.String(), to: Type.String() });
export const CreateEnvBody = Type.Object({ name: Type.String(), after: Type.Optional(Type.String()), before: Type.Optional(Type.String()) }, { additionalProperties: false });
export const EnvParams = Type.Object({ app: Type.String(), env: Type.String() });
export const ForceQuery = Type.Object({ force: Type.Boolean({ default: false }) });
export const ConfigBody = Type.Object(
  {
    env: Type.String({ default: 'production' }),
    set: Type.Record(Type.String(), Type.String(), { default: {} }),
    unset: Type.Array(Type.String(), { default: [] }),
    promote: Type.Boolean({ default: true }),
  },
  { additionalProperties: false },
);
export const ExecBody = Type.Object(
  {
    env: Type.String({ default: 'production' }),
    command: Type.String({ minLength: 1, maxLength: 16_384, description: 'run through /bin/sh -c in the release\'s slug, with its config' }),
    component: Type.Optional(Type.String({ description: 'whose slug and environment; default: web, else the first component' })),
  },
  { additionalProperties: false },
);
export const PublishBody = Type.Object(
  {
    name: Type.String({ description: 'template name: [a-z][a-z0-9-]{0,62}' }),
    version: Type.String({ description: 'e.g. 1.0; never replaced' }),
    app: Type.String({ description: 'publish this app/env\'s active release' }),
    env: Type.String({ default: 'production' }),
    note: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);
export const TemplateParams = Type.Object({ name: Type.String() });
export const UpgradeBody = Type.Object(
  {
    env: Type.String({ default: 'production' }),
    template: Type.Optional(Type.String({ description: 'install this template (the app/env runs none yet)' })),
    version: Type.Optional(Type.String({ description: 'default: the newest' })),
    dryRun: Type.Boolean({ default: false, description: 'only the plan; change nothing' }),
    basis: Basis,
  },
  { additionalProperties: false },
);
export const UpgradeRollbackBody = Type.Object(
  {
    env: Type.String({ default: 'production' }),
    upgrade: Type.Optional(Type.String({ description: 'default: the newest not rolled back' })),
    dryRun: Type.Boolean({ default: false, description: 'only the plan; change nothing' }),
    basis: Basis,
  },
  { additionalProperties: false },
);
export const AuditQuery = Type.Object({ app: Type.Optional(Type.String()), limit: Type.Integer({ minimum: 1, maximum: 1000, default: 50 }) });

/**
 * A route's `preValidation`: query numbers must be finite. Ajv's coercion turns "Infinity" and
 * "1e400" into Infinity and then skips minimum/maximum for it (they only check finite numbers),
 * so the schema alone lets them through to SQLite.
 */
export async function finiteQueryNumbers(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const props = (req.routeOptions.schema?.querystring as { properties?: Record<string, { type?: string; minimum?: number; maximum?: number }> } | undefined)?.properties ?? {};
  const query = req.query as Record<string, unknown>;
  for (const [name, s] of Object.entries(props)) {
    if (s.type !== 'integer' && s.type !== 'number') continue;
    const raw = Object.hasOwn(query, name) ? query[name] : undefined;
    const v = Array.isArray(raw) ? raw[0] : raw;
    if (typeof v !== 'string' || Number.isFinite(Number(v))) continue;
    const range = s.minimum !== undefined && s.maximum !== undefined ? ` from ${s.minimum} to ${s.maximum}` : '';
    return reply.status(400).send({ error: { code: 'INVALID_INPUT', message: `invalid querystring field "${name}": must be ${s.type === 'integer' ? 'an integer' : 'a number'}${range}, got ${JSON.stringify(v.slice(0, 40))}; see /api/openapi.json` } });
  }
}

export type ConfigBodyT = Static<typeof ConfigBody>;

/** Response schemas: the API's bodies live in types.ts; these are the shared replies around them. */
type ErrorStatus = 400 | 404 | 409 | 413 | 415 | 422 | 503;
/**
 * The error replies of a route, each `{ error: { code, message, details? } }`: the statuses given,
 * and 401, which every documented route answers when the server has a token.
 */
export const errorReplies = <C extends ErrorStatus>(...codes: C[]) =>
  Object.fromEntries([401, ...codes].map((c) => [c, ApiError])) as { [K in C | 401]: typeof ApiError };
/** A reply that is not JSON: server-sent events, or text (logs). */
export const streamReply = (mediaType: 'text/event-stream' | 'text/plain' | 'application/x-ndjson', description: string) => ({
  description,
  content: { [mediaType]: { schema: Type.Unsafe<string | Readable>({ type: 'string' }) } },
});
/**
 * HEAD on a stream (Fastify answers HEAD with the GET handler): the headers, then the end, instead
 * of a body that never ends. Returns whether it answered; a streaming handler returns right after.
 */
export function answeredHead(req: FastifyRequest, reply: FastifyReply, mediaType: string): boolean {
  if (req.method !== 'HEAD') return false;
  void reply.status(200).type(mediaType).header('cache-control', 'no-cache').send();
  return true;
}
/** DELETE's empty success. */
export const NoContent = Type.Unsafe<void>({ type: 'null', description: 'done; no body' });

/** Who made a change: the name of the credential the request authenticated with (never a header the client chose). */
export function actorOf(req: FastifyRequest): string {
  return req.identity || 'anonymous';
}

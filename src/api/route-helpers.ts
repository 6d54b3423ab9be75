import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { ApiError, type PlanBasis } from '../contract/index.js';

/** What the routes share around the contract's schemas (src/contract/): error replies, streams, HEAD, the actor, query checks. */

/** A request's basis as the engine takes it (the provider infers an Unsafe schema as unknown). */
export const basisIn = (body: { readonly basis?: unknown } | undefined): PlanBasis | undefined => body?.basis as PlanBasis | undefined;

/**
 * A route's `preValidation`: query numbers must be finite. Ajv's coercion turns "Infinity" and
 * "1e400" into Infinity and then skips minimum/maximum for it (they only check finite numbers),
 * so the schema alone lets them through to SQLite.
 */
export async function finiteQueryNumbers(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  const props =
    (req.routeOptions.schema?.querystring as { properties?: Record<string, { type?: string; minimum?: number; maximum?: number }> } | undefined)?.properties ??
    {};
  const query = req.query as Record<string, unknown>;
  for (const [name, s] of Object.entries(props)) {
    if (s.type !== 'integer' && s.type !== 'number') continue;
    const raw = Object.hasOwn(query, name) ? query[name] : undefined;
    const v = Array.isArray(raw) ? raw[0] : raw;
    if (typeof v !== 'string' || Number.isFinite(Number(v))) continue;
    const range = s.minimum !== undefined && s.maximum !== undefined ? ` from ${s.minimum} to ${s.maximum}` : '';
    return reply.status(400).send({
      error: {
        code: 'INVALID_INPUT',
        message: `invalid querystring field "${name}": must be ${s.type === 'integer' ? 'an integer' : 'a number'}${range}, got ${JSON.stringify(v.slice(0, 40))}; see /api/openapi.json`,
      },
    });
  }
}

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

/** Who made a change: the name of the credential the request authenticated with (never a header the client chose). */
export function actorOf(req: FastifyRequest): string {
  return req.identity || 'anonymous';
}

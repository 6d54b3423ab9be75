import type { FastifyError, FastifyInstance } from 'fastify';
import { ERRORS, type ErrorCode, type ErrorSpec, isRewindError, messageOf } from '../domain/errors.js';

/** The one place errors become HTTP replies. RewindErrors and client mistakes are 4xx; anything else is a logged 500. */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if (isRewindError(err)) {
      return reply.status(err.status).send({ error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } });
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const where = fe.validationContext ?? 'request';
      // For a union (anyOf), the first branch's complaint ("must be null") misleads: name the union instead.
      const first = fe.validation.find((v) => v.keyword === 'anyOf') ?? fe.validation[0];
      const field = first?.instancePath
        ? first.instancePath.replace(/^\//, '').replace(/\//g, '.')
        : (first?.params as { missingProperty?: string })?.missingProperty;
      const extra = (first?.params as { additionalProperty?: string } | undefined)?.additionalProperty;
      const what = first?.keyword === 'anyOf' ? 'has the wrong type' : extra ? `has an unknown field "${extra}"` : (first?.message ?? fe.message);
      const message = `invalid ${where}${field ? ` field "${field}"` : ''}: ${what}; see /api/openapi.json`;
      return reply.status(400).send({ error: { code: 'INVALID_INPUT', message } });
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err instanceof SyntaxError) {
      return reply.status(400).send({ error: { code: 'INVALID_JSON', message: messageOf('INVALID_JSON', fe.message) } });
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send({ error: { code: 'UPLOAD_TOO_LARGE', message: 'the request body is too large' } });
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.status(415).send({
        error: {
          code: 'UNSUPPORTED_MEDIA_TYPE',
          message: `unsupported content type "${req.headers['content-type']}"; send application/json (or application/gzip for builds)`,
        },
      });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send({ error: { code: 'BAD_REQUEST', message: fe.message } });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: messageOf('INTERNAL') } });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: messageOf('NOT_FOUND', req.method, req.url.split('?')[0]) } });
  });
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/**
 * Every path under /api that no route serves: a JSON 405 naming the methods the path has, else a
 * 404, and either only after authentication (the route is not public). Add it after every route.
 */
export function registerUnmatched(app: FastifyInstance): void {
  app.all('/api/*', { schema: { hide: true } }, async (req, reply) => {
    const path = req.url.split('?')[0];
    const allowed = METHODS.filter((method) => {
      const found = app.findRoute({ method, url: path });
      return found !== null && !('*' in (found.params as Record<string, string>));
    });
    if (allowed.length === 0) return reply.callNotFound();
    return reply
      .status(405)
      .header('allow', allowed.join(', '))
      .send({ error: { code: 'METHOD_NOT_ALLOWED', message: messageOf('METHOD_NOT_ALLOWED', req.method, path, allowed.join(', ')) } });
  });
}

/** The catalog's codes the API answers with, as a Markdown table (the OpenAPI document's description; docs/errors.md has it too). */
export function errorCodesTable(codes: readonly ErrorCode[] = apiErrorCodes()): string {
  const rows = codes.map((code) => {
    const spec: ErrorSpec = ERRORS[code];
    return `| \`${code}\` | ${spec.cli ? '(CLI only)' : spec.status} | ${spec.exit} | ${spec.description} |`;
  });
  return ['| code | HTTP status | CLI exit code | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

/** Every code the API can answer with (the catalog less the CLI's own). */
export const apiErrorCodes = (): ErrorCode[] => (Object.keys(ERRORS) as ErrorCode[]).filter((code) => !(ERRORS[code] as ErrorSpec).cli);

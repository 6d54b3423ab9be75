import type { FastifyError, FastifyInstance } from 'fastify';
import { isRewindError } from '../domain/errors.js';

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
      return reply.status(400).send({ error: { code: 'INVALID_INPUT', message: `the request body is not valid JSON (${fe.message}); send a JSON object` } });
    }
    if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.status(413).send({ error: { code: 'UPLOAD_TOO_LARGE', message: 'the request body is too large' } });
    }
    if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.status(415).send({
        error: {
          code: 'INVALID_INPUT',
          message: `unsupported content type "${req.headers['content-type']}"; send application/json (or application/gzip for builds)`,
        },
      });
    }
    if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
      return reply.status(fe.statusCode).send({ error: { code: 'INVALID_INPUT', message: fe.message } });
    }
    req.log.error({ err }, 'unhandled error');
    return reply.status(500).send({ error: { code: 'INTERNAL', message: 'internal error (a bug in Rewind); the server log has the details' } });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no such route: ${req.method} ${req.url.split('?')[0]}; see /api/openapi.json` } });
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
      .send({ error: { code: 'METHOD_NOT_ALLOWED', message: `${req.method} is not allowed on ${path}; it answers ${allowed.join(', ')}` } });
  });
}

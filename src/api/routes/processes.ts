import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Engine } from '../../engine/engine.js';
import { AppParams, EnvQuery, LogsQuery, errorReplies, streamReply } from '../schemas.js';
import { List, ProcessView } from '../types.js';

export function processesRoutes(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/apps/:app/ps',
    {
      schema: {
        tags: ['processes'],
        summary: 'Running instances of an environment',
        params: AppParams,
        querystring: EnvQuery,
        response: { 200: List(ProcessView), ...errorReplies(404, 503) },
      },
    },
    (req) => engine.processes(req.params.app, req.query.env),
  );
  app.get(
    '/api/apps/:app/logs',
    {
      schema: {
        tags: ['processes'],
        summary: "Logs of an environment's instances (text); follow=true streams",
        params: AppParams,
        querystring: LogsQuery,
        response: { 200: streamReply('text/plain', 'lines of `TIMESTAMP component.instance message`'), ...errorReplies(400, 404, 503) },
      },
    },
    async (req, reply) => {
      const ac = new AbortController();
      const stream = await engine.logs(req.params.app, req.query.env, { follow: req.query.follow, lines: req.query.lines, signal: ac.signal });
      req.raw.on('close', () => ac.abort());
      return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-cache').header('x-accel-buffering', 'no').send(stream);
    },
  );
}

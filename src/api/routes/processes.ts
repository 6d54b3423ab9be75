import { finished } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Engine } from '../../engine/engine.js';
import { AppParams, EnvQuery, ExecBody, List, LogsQuery, ProcessView } from '../../contract/index.js';
import { actorOf, answeredHead, errorReplies, finiteQueryNumbers, streamReply } from '../route-helpers.js';

export function processesRoutes(fastify: FastifyInstance, engine: Engine): void {
  registerProcessList(fastify, engine);
  registerLogs(fastify, engine);
  registerExec(fastify, engine);
}

/** The running instances of an environment. */
function registerProcessList(fastify: FastifyInstance, engine: Engine): void {
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
}

/** An environment's logs: the last lines, or (follow=true) streamed until the caller leaves. */
function registerLogs(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
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
      preValidation: finiteQueryNumbers,
    },
    async (req, reply) => {
      // Checks the app and environment (a 404 for unknown ones), then answers HEAD without opening the logs.
      if (req.method === 'HEAD') await engine.apps.requireEnv(req.params.app, req.query.env);
      if (answeredHead(req, reply, 'text/plain; charset=utf-8')) return reply;
      const ac = new AbortController();
      const stream = await engine.logs(req.params.app, req.query.env, { follow: req.query.follow, lines: req.query.lines, signal: ac.signal });
      req.raw.on('close', () => ac.abort());
      if (!req.query.follow) return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-cache').header('x-accel-buffering', 'no').send(stream);
      // Following: the headers now. Fastify sends a stream's headers with its first chunk, and a
      // quiet app may print nothing for a long time (the client would see no answer at all).
      reply.hijack();
      const res = reply.raw;
      res.on('error', () => {});
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
      res.flushHeaders();
      // The caller left (perhaps already, while the agent was answering): stop following.
      finished(res, () => {
        ac.abort();
        stream.destroy();
      });
      stream.on('error', () => res.end()).pipe(res);
    },
  );
}

/** A one-off command, its events streamed as NDJSON; the caller hanging up stops it. */
function registerExec(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/apps/:app/exec',
    {
      schema: {
        tags: ['processes'],
        summary: "Run a one-off command in an environment's active release (like `heroku run`); the caller leaving stops it",
        params: AppParams,
        body: ExecBody,
        response: {
          200: streamReply(
            'application/x-ndjson',
            'one JSON event per line: `started` { release, component, pid }, `output` { stream, text } as it comes, then `exit` { code, signal }',
          ),
          ...errorReplies(400, 404, 409, 503),
        },
      },
    },
    async (req, reply) => {
      const stop = new AbortController();
      const events = await engine.exec(
        req.params.app,
        req.body.env,
        { command: req.body.command, component: req.body.component, actor: actorOf(req) },
        stop.signal,
      );
      reply.hijack();
      const res = reply.raw;
      res.on('error', () => {});
      // The caller hung up before the command ended: stop it.
      res.on('close', () => {
        if (!res.writableEnded) stop.abort();
      });
      res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
      try {
        for await (const event of events) if (!res.destroyed) res.write(`${JSON.stringify(event)}\n`);
      } catch {
        // The agent went away mid-command: the stream just ends, without an exit event.
      }
      res.end();
    },
  );
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Readable } from 'node:stream';
import type { Engine } from '../../engine/engine.js';
import { AppIdParams, AppParams, BuildQuery, BuildView, BuildsQuery, FollowQuery, List } from '../../contract/index.js';
import { actorOf, answeredHead, errorReplies, finiteQueryNumbers, streamReply } from '../route-helpers.js';
import { views } from '../views.js';
import { drain } from '../drain.js';

// Source uploads are streamed to disk (with their own size limit), never buffered.
const uploadTypes = ['application/gzip', 'application/x-gzip', 'application/octet-stream'];

export function buildsRoutes(fastify: FastifyInstance, engine: Engine): void {
  fastify.addContentTypeParser(uploadTypes, (_req, payload, done) => done(null, payload));
  registerBuildUpload(fastify, engine);
  registerBuildReads(fastify, engine);
  registerBuildLogs(fastify, engine);
}

/** POST a source tarball: the build starts; a refused upload is drained so the client gets the error reply. */
function registerBuildUpload(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/apps/:app/builds',
    {
      config: { uploadTypes },
      schema: {
        tags: ['builds'],
        summary: 'Upload a source tarball (application/gzip) and start a build; with deploy=true it then deploys its release',
        params: AppParams,
        querystring: BuildQuery,
        response: { 201: BuildView, ...errorReplies(400, 404, 413, 415, 422) },
      },
    },
    async (req, reply) => {
      const body = req.body as Readable | undefined;
      if (!body || typeof (body as Readable).pipe !== 'function') {
        return reply.status(415).send({
          error: {
            code: 'UNSUPPORTED_MEDIA_TYPE',
            message: 'send the source as a gzip tarball with content-type application/gzip (rewind build DIR does this)',
          },
        });
      }
      try {
        const build = await engine.createBuild(req.params.app, req.query.env, body, {
          description: req.query.description,
          deploy: req.query.deploy,
          actor: actorOf(req),
          declaredBytes: req.headers['content-length'] ? Number(req.headers['content-length']) : undefined,
        });
        return reply.status(201).send(views.build(build));
      } catch (e) {
        await drain(body);
        throw e;
      }
    },
  );
}

/** The builds of an app, and one build. */
function registerBuildReads(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/apps/:app/builds',
    {
      schema: {
        tags: ['builds'],
        summary: 'Builds, newest first; with component, the build history of that component',
        params: AppParams,
        querystring: BuildsQuery,
        response: { 200: List(BuildView), ...errorReplies(400, 404) },
      },
      preValidation: finiteQueryNumbers,
    },
    async (req) => {
      return (await engine.history.builds(req.params.app, req.query)).map(views.build);
    },
  );
  app.get(
    '/api/apps/:app/builds/:id',
    { schema: { tags: ['builds'], summary: 'One build', params: AppIdParams, response: { 200: BuildView, ...errorReplies(404) } } },
    async (req) => views.build(await engine.build(req.params.app, req.params.id)),
  );
}

/** A build's output: what it printed so far, or (follow=true) streamed until it ends. */
function registerBuildLogs(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/apps/:app/builds/:id/logs',
    {
      schema: {
        tags: ['builds'],
        summary: 'Build output (text); with follow=true streams until the build ends',
        params: AppIdParams,
        querystring: FollowQuery,
        response: { 200: streamReply('text/plain', 'the build output so far (follow=true: until the build ends)'), ...errorReplies(400, 404) },
      },
    },
    async (req, reply) => {
      const build = await engine.build(req.params.app, req.params.id);
      if (answeredHead(req, reply, 'text/plain; charset=utf-8')) return reply;
      const live = engine.builder.liveOutput(build.id);
      if (!req.query.follow || live === undefined) {
        return reply.type('text/plain; charset=utf-8').send(live ?? (await engine.builder.logs(build.id)));
      }
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
      const off = engine.buildOutput.subscribe(
        build.id,
        (text) => res.write(text),
        () => res.end(),
      );
      res.write(engine.builder.followedOutput(build.id) ?? live);
      req.raw.on('close', off);
      // The build may have ended between reading `live` and subscribing.
      if (engine.builder.liveOutput(build.id) === undefined) {
        off();
        res.end();
      }
    },
  );
}

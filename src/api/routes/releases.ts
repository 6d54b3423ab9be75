import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Engine, ReleaseChangeResult } from '../../engine/engine.js';
import type { ReleaseChange } from '../types.js';
import { AppIdParams, AppParams, ConfigBody, EnvQuery, ListQuery, PromoteBody, RollbackBody, actorOf } from '../schemas.js';
import { views } from '../views.js';

export function releasesRoutes(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const change = async (r: ReleaseChangeResult): Promise<ReleaseChange> => {
    const env = await engine.store.apps.environment(r.release.app, r.release.env);
    return { release: views.release(r.release, env?.activeRelease ?? null), deployment: r.deployment && views.deployment(r.deployment) };
  };

  app.get('/api/apps/:app/releases', { schema: { tags: ['releases'], summary: 'Releases of an environment, newest first', params: AppParams, querystring: ListQuery } }, async (req) => {
    const env = await engine.requireEnv(req.params.app, req.query.env);
    const list = await engine.store.releases.list(req.params.app, req.query.env, req.query.limit);
    return list.map((r) => views.release(r, env.activeRelease));
  });
  app.get('/api/apps/:app/releases/:id', { schema: { tags: ['releases'], summary: 'One release: builds, config, manifest', params: AppIdParams } }, async (req) => {
    const r = await engine.release(req.params.app, req.params.id);
    const env = await engine.store.apps.environment(r.app, r.env);
    return views.release(r, env?.activeRelease ?? null);
  });
  app.post(
    '/api/apps/:app/releases/:id/promote',
    { schema: { tags: ['releases'], summary: 'Make a release active (a zero-downtime deployment)', params: AppIdParams, body: PromoteBody } },
    async (req, reply) => reply.status(202).send(await change(await engine.promote(req.params.app, req.params.id, req.body.env, actorOf(req)))),
  );
  app.post(
    '/api/apps/:app/rollback',
    {
      schema: {
        tags: ['releases'],
        summary: 'Roll back: copy a release (default: the one active before the current one) into a new release and promote it',
        params: AppParams,
        body: RollbackBody,
      },
    },
    async (req, reply) => reply.status(202).send(await change(await engine.rollback(req.params.app, req.body.env, req.body.release, actorOf(req)))),
  );
  app.get('/api/apps/:app/env', { schema: { tags: ['config'], summary: 'Environment variables in effect (the newest release\'s)', params: AppParams, querystring: EnvQuery } }, (req) =>
    engine.config(req.params.app, req.query.env),
  );
  app.post(
    '/api/apps/:app/env',
    { schema: { tags: ['config'], summary: 'Set and unset variables: makes a release (env add:… change:… remove:…) and promotes it', params: AppParams, body: ConfigBody } },
    async (req, reply) => {
      const { env, set, unset, promote } = req.body;
      return reply.status(201).send(await change(await engine.changeConfig(req.params.app, env, { set, unset, promote }, actorOf(req))));
    },
  );
}

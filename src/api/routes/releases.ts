import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Engine, ReleaseChangeResult } from '../../engine/engine.js';
import type { Outcome } from '../../engine/release-ops.js';
import type { Release } from '../../domain/release.js';
import type { ReleaseChange, ReleaseView } from '../types.js';
import { AppIdParams, AppParams, ConfigBody, DiffQuery, EnvQuery, ListQuery, PromoteBody, PromoteEnvBody, RevertBody, RollbackBody, actorOf } from '../schemas.js';
import { views } from '../views.js';

export function releasesRoutes(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const view = async (releases: readonly Release[]): Promise<ReleaseView[]> => {
    const marks = await engine.store.releases.marks(releases.map((r) => r.id));
    const active = new Map<string, string | null>();
    for (const r of releases) {
      const key = `${r.app}/${r.env}`;
      if (!active.has(key)) active.set(key, (await engine.store.apps.environment(r.app, r.env))?.activeRelease ?? null);
    }
    return releases.map((r) => views.release(r, active.get(`${r.app}/${r.env}`) ?? null, marks.get(r.id)));
  };
  const change = async (r: ReleaseChangeResult | Outcome): Promise<ReleaseChange | { plan: Outcome['plan'] }> => {
    if (!r.release) return { plan: (r as Outcome).plan };
    const [release] = await view([r.release]);
    return { release, deployment: r.deployment ? views.deployment(r.deployment) : null, ...('plan' in r ? { plan: r.plan } : {}) };
  };
  const status = (r: { release?: unknown }) => (r.release ? 202 : 200);

  app.get('/api/apps/:app/releases', { schema: { tags: ['releases'], summary: 'Releases of an environment, newest first', params: AppParams, querystring: ListQuery } }, async (req) => {
    await engine.requireEnv(req.params.app, req.query.env);
    return view(await engine.store.releases.list(req.params.app, req.query.env, req.query.limit));
  });
  app.get('/api/apps/:app/releases/:id', { schema: { tags: ['releases'], summary: 'One release: builds, config, manifest', params: AppIdParams } }, async (req) =>
    (await view([await engine.release(req.params.app, req.params.id)]))[0],
  );
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
        summary:
          'Roll back: to a release (a copy of it is promoted), some components to earlier builds, or (neither) the environment to its state before the current release. dryRun: only the plan',
        params: AppParams,
        body: RollbackBody,
      },
    },
    async (req, reply) => {
      const { env, release, components, dryRun } = req.body;
      const r = await engine.releases.rollback(req.params.app, env, { release, components, dryRun, actor: actorOf(req) });
      return reply.status(status(r)).send(await change(r));
    },
  );
  app.post(
    '/api/apps/:app/releases/:id/revert',
    { schema: { tags: ['releases'], summary: 'Undo only what one release changed, keeping later changes. dryRun: only the plan', params: AppIdParams, body: RevertBody } },
    async (req, reply) => {
      const r = await engine.releases.revert(req.params.app, req.body.env, req.params.id, { dryRun: req.body.dryRun, actor: actorOf(req) });
      return reply.status(status(r)).send(await change(r));
    },
  );
  app.post(
    '/api/apps/:app/promote',
    {
      schema: {
        tags: ['releases'],
        summary: "Promote the active release of one environment (or some of its components) to another, with the target's own config. dryRun: only the plan",
        params: AppParams,
        body: PromoteEnvBody,
      },
    },
    async (req, reply) => {
      const r = await engine.releases.promote(req.params.app, { ...req.body, actor: actorOf(req) });
      return reply.status(status(r)).send(await change(r));
    },
  );
  app.get('/api/apps/:app/diff', { schema: { tags: ['releases'], summary: 'Compare two releases: per component keep/change/add/remove, config keys', params: AppParams, querystring: DiffQuery } }, async (req) => {
    await engine.requireApp(req.params.app);
    return engine.releases.diff(req.params.app, req.query.from, req.query.to);
  });
  app.get('/api/apps/:app/env', { schema: { tags: ['config'], summary: "Environment variables in effect (the newest release's)", params: AppParams, querystring: EnvQuery } }, (req) =>
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

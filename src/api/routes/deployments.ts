import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { notFound } from '../../domain/errors.js';
import type { Engine } from '../../engine/engine.js';
import type { DeploymentEvent } from '../../store/deployments-repo.js';
import { AppParams, IdParams, ListQuery } from '../schemas.js';
import { views } from '../views.js';

export function deploymentsRoutes(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const get = async (id: string) => {
    const d = await engine.store.deployments.get(id);
    if (!d) throw notFound.deployment(id);
    return d;
  };
  app.get('/api/apps/:app/deployments', { schema: { tags: ['deployments'], summary: 'Deployments, newest first', params: AppParams, querystring: ListQuery } }, async (req) => {
    await engine.requireEnv(req.params.app, req.query.env);
    return (await engine.store.deployments.list(req.params.app, req.query.env, req.query.limit)).map(views.deployment);
  });
  app.get('/api/deployments/:id', { schema: { tags: ['deployments'], summary: 'One deployment', params: IdParams } }, async (req) => views.deployment(await get(req.params.id)));
  app.get(
    '/api/deployments/:id/events',
    { schema: { tags: ['deployments'], summary: 'Server-sent events: `step` per step (past ones first), then `end` with the deployment', params: IdParams } },
    async (req, reply) => {
      const d = await get(req.params.id);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      let lastSeq = 0;
      const step = (e: DeploymentEvent) => {
        if (e.seq <= lastSeq) return;
        lastSeq = e.seq;
        res.write(`id: ${e.seq}\nevent: step\ndata: ${JSON.stringify(e)}\n\n`);
      };
      const end = async () => {
        const final = await engine.store.deployments.get(d.id);
        for (const e of await engine.store.deployments.events(d.id)) step(e);
        res.end(`event: end\ndata: ${JSON.stringify(final && views.deployment(final))}\n\n`);
      };
      const buffered: DeploymentEvent[] = [];
      let replaying = true;
      let ended = false;
      const off = engine.deploymentEvents.subscribe(
        d.id,
        (e) => (replaying ? buffered.push(e) : step(e)),
        () => {
          ended = true;
          if (!replaying) void end();
        },
      );
      req.raw.on('close', off);
      for (const e of await engine.store.deployments.events(d.id)) step(e);
      replaying = false;
      buffered.forEach(step);
      const now = await engine.store.deployments.get(d.id);
      if (ended || (now && now.state !== 'pending' && now.state !== 'running')) {
        off();
        await end();
      }
    },
  );
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Engine } from '../../engine/engine.js';
import { AppParams, DeploymentView, IdParams, List, ListQuery } from '../../contract/index.js';
import { answeredHead, errorReplies, finiteQueryNumbers, streamReply } from '../route-helpers.js';
import { replayStream } from '../sse.js';
import { views } from '../views.js';

export function deploymentsRoutes(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const get = (id: string) => engine.history.deployment(id);
  app.get(
    '/api/apps/:app/deployments',
    {
      schema: {
        tags: ['deployments'],
        summary: 'Deployments, newest first',
        params: AppParams,
        querystring: ListQuery,
        response: { 200: List(DeploymentView), ...errorReplies(400, 404) },
      },
      preValidation: finiteQueryNumbers,
    },
    async (req) => {
      return (await engine.history.deployments(req.params.app, req.query.env, req.query.limit)).map(views.deployment);
    },
  );
  app.get(
    '/api/deployments/:id',
    { schema: { tags: ['deployments'], summary: 'One deployment', params: IdParams, response: { 200: DeploymentView, ...errorReplies(404) } } },
    async (req) => views.deployment(await get(req.params.id)),
  );
  app.get(
    '/api/deployments/:id/events',
    {
      schema: {
        tags: ['deployments'],
        summary: 'Server-sent events: `step` per step (past ones first), then `end` with the deployment',
        params: IdParams,
        response: { 200: streamReply('text/event-stream', '`step` events ({seq, at, message}), then `end` with the deployment'), ...errorReplies(404) },
      },
    },
    async (req, reply) => {
      const d = await get(req.params.id);
      if (answeredHead(req, reply, 'text/event-stream')) return reply;
      await replayStream(req, reply, {
        event: 'step',
        hub: engine.deploymentEvents,
        key: d.id,
        history: () => engine.history.deploymentSteps(d.id),
        moving: async () => ['pending', 'running'].includes((await get(d.id)).state),
        final: async () => views.deployment(await get(d.id)),
      });
    },
  );
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Engine } from '../../engine/engine.js';
import { AppParams, AppView, AuditEntryView, AuditQuery, CreateAppBody, List, NoContent } from '../../contract/index.js';
import { actorOf, errorReplies, finiteQueryNumbers } from '../route-helpers.js';

export function appsRoutes(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/api/apps', { schema: { tags: ['apps'], summary: 'List apps with their environments', response: { 200: List(AppView), ...errorReplies() } } }, () =>
    engine.apps.list(),
  );
  app.post(
    '/api/apps',
    {
      schema: {
        tags: ['apps'],
        summary: 'Create an app (with a production environment)',
        body: CreateAppBody,
        response: { 201: AppView, ...errorReplies(400, 409) },
      },
    },
    async (req, reply) => reply.status(201).send(await engine.apps.create(req.body.name, actorOf(req))),
  );
  app.get(
    '/api/apps/:app',
    {
      schema: {
        tags: ['apps'],
        summary: 'An app, its environments, active releases and URLs',
        params: AppParams,
        response: { 200: AppView, ...errorReplies(404) },
      },
    },
    (req) => engine.apps.get(req.params.app),
  );
  app.delete(
    '/api/apps/:app',
    {
      schema: {
        tags: ['apps'],
        summary: 'Delete an app and stop everything it runs',
        params: AppParams,
        response: { 204: NoContent, ...errorReplies(404, 409, 503) },
      },
    },
    async (req, reply) => {
      await engine.apps.delete(req.params.app, actorOf(req));
      return reply.status(204).send();
    },
  );
  app.get(
    '/api/audit',
    {
      schema: { tags: ['audit'], summary: 'Audit log, newest first', querystring: AuditQuery, response: { 200: List(AuditEntryView), ...errorReplies(400) } },
      preValidation: finiteQueryNumbers,
    },
    (req) => engine.history.audit({ app: req.query.app, limit: req.query.limit }),
  );
}

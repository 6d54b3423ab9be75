import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Engine } from '../../engine/engine.js';
import { AppParams, AuditQuery, CreateAppBody, actorOf } from '../schemas.js';

export function appsRoutes(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/api/apps', { schema: { tags: ['apps'], summary: 'List apps with their environments' } }, () => engine.apps());
  app.post('/api/apps', { schema: { tags: ['apps'], summary: 'Create an app (with a production environment)', body: CreateAppBody } }, async (req, reply) =>
    reply.status(201).send(await engine.createApp(req.body.name, actorOf(req))),
  );
  app.get('/api/apps/:app', { schema: { tags: ['apps'], summary: 'An app, its environments, active releases and URLs', params: AppParams } }, (req) =>
    engine.app(req.params.app),
  );
  app.delete('/api/apps/:app', { schema: { tags: ['apps'], summary: 'Delete an app and stop everything it runs', params: AppParams } }, async (req, reply) => {
    await engine.deleteApp(req.params.app, actorOf(req));
    return reply.status(204).send();
  });
  app.get('/api/audit', { schema: { tags: ['audit'], summary: 'Audit log, newest first', querystring: AuditQuery } }, (req) =>
    engine.store.audit.list({ app: req.query.app, limit: req.query.limit }),
  );
}

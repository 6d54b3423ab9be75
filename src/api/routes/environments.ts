import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Engine } from '../../engine/engine.js';
import { AppParams, CreateEnvBody, EnvParams, EnvSettingsView, EnvironmentView, ForceQuery, List, NoContent } from '../../contract/index.js';
import { actorOf, errorReplies } from '../route-helpers.js';

export function environmentsRoutes(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/apps/:app/envs',
    {
      schema: {
        tags: ['environments'],
        summary: 'Environments in order: active release, URL, health',
        params: AppParams,
        response: { 200: List(EnvironmentView), ...errorReplies(404) },
      },
    },
    (req) => engine.apps.environments(req.params.app),
  );
  app.post(
    '/api/apps/:app/envs',
    {
      schema: {
        tags: ['environments'],
        summary: 'Create an environment (after or before another one, else last; on local unless a target is given)',
        params: AppParams,
        body: CreateEnvBody,
        response: { 201: EnvironmentView, ...errorReplies(400, 404, 409) },
      },
    },
    async (req, reply) => {
      const { name, ...place } = req.body;
      return reply.status(201).send(await engine.apps.createEnvironment(req.params.app, name, place, actorOf(req)));
    },
  );
  app.get(
    '/api/apps/:app/envs/:env/settings',
    {
      schema: {
        tags: ['environments'],
        summary: "An environment's data-plane settings (standby, automatic rollback, drain) and those in effect",
        params: EnvParams,
        response: { 200: EnvSettingsView, ...errorReplies(404) },
      },
    },
    (req) => engine.apps.settings(req.params.app, req.params.env),
  );
  app.patch(
    '/api/apps/:app/envs/:env/settings',
    {
      schema: {
        tags: ['environments'],
        summary:
          'Change settings (standbyMinutes, standbyCount, autoRollbackSeconds, drainSeconds; null = server default); they apply from the next deployment',
        params: EnvParams,
        body: Type.Record(Type.String(), Type.Union([Type.Null(), Type.Number()])),
        response: { 200: EnvSettingsView, ...errorReplies(400, 404) },
      },
    },
    (req) => engine.apps.changeSettings(req.params.app, req.params.env, req.body, actorOf(req)),
  );
  app.delete(
    '/api/apps/:app/envs/:env',
    {
      schema: {
        tags: ['environments'],
        summary: 'Delete an environment; refused while it runs something unless force=true',
        params: EnvParams,
        querystring: ForceQuery,
        response: { 204: NoContent, ...errorReplies(400, 404, 409, 503) },
      },
    },
    async (req, reply) => {
      await engine.apps.deleteEnvironment(req.params.app, req.params.env, req.query.force, actorOf(req));
      return reply.status(204).send();
    },
  );
}

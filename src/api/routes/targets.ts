import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Engine } from '../../engine/engine.js';
import { CreateTargetBody, List, NoContent, TargetParams, TargetView } from '../../contract/index.js';
import { actorOf, errorReplies } from '../route-helpers.js';

/** Where environments run besides local (issue 12 item 3): list, add (checked against the Docker host), remove. */
export function targetsRoutes(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/targets',
    {
      schema: {
        tags: ['targets'],
        summary: 'Targets: local, then those added, with the environments on each',
        response: { 200: List(TargetView), ...errorReplies() },
      },
    },
    () => engine.targets.list(),
  );
  app.post(
    '/api/targets',
    {
      schema: {
        tags: ['targets'],
        summary: 'Add a Swarm target; its Docker host must answer and be a swarm manager',
        body: CreateTargetBody,
        response: { 201: TargetView, ...errorReplies(400, 409) },
      },
    },
    async (req, reply) => reply.status(201).send(await engine.targets.add(req.body, actorOf(req))),
  );
  app.delete(
    '/api/targets/:name',
    {
      schema: {
        tags: ['targets'],
        summary: 'Remove a target; refused while an environment runs on it',
        params: TargetParams,
        response: { 204: NoContent, ...errorReplies(404, 409) },
      },
    },
    async (req, reply) => {
      await engine.targets.remove(req.params.name, actorOf(req));
      return reply.status(204).send();
    },
  );
}

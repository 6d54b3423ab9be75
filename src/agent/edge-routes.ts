/**
 * The agent's edge API (decision 0009): `PUT /v1/edge/:app/:env` sets the route of app/env,
 * `GET /v1/edge` lists what every route does, `GET` and `DELETE /v1/edge/:app/:env`. Authenticated
 * like every agent route (agent-auth.ts runs first); errors go through the server's error replies.
 */
import type { FastifyInstance } from 'fastify';
import { validateEdgeRoute } from '../protocol/edge-protocol.js';
import { AgentHttpError } from './agent-http-error.js';
import type { EdgeSet } from './edge-set.js';

interface EdgeParams {
  app: string;
  env: string;
}

export function registerEdgeRoutes(app: FastifyInstance, edges: EdgeSet, ports: { readonly lo: number; readonly hi: number }): void {
  app.get('/v1/edge', async () => ({ edges: edges.list() }));

  app.get<{ Params: EdgeParams }>('/v1/edge/:app/:env', async (req) => {
    const edge = edges.get(req.params.app, req.params.env);
    if (!edge) throw new AgentHttpError(404, 'EDGE_NOT_FOUND', `the agent has no edge route for ${req.params.app} (${req.params.env})`);
    return edge;
  });

  app.put<{ Params: EdgeParams }>('/v1/edge/:app/:env', async (req, reply) => {
    const route = validateEdgeRoute(req.body, req.params.app, req.params.env, ports);
    if (route instanceof Error) throw new AgentHttpError(400, 'INVALID_EDGE_ROUTE', route.message);
    const { status, answer } = await edges.put(route);
    return reply.code(status).send(answer);
  });

  app.delete<{ Params: EdgeParams; Querystring: { fence?: string } }>('/v1/edge/:app/:env', async (req) => {
    const raw = req.query.fence;
    if (raw !== undefined && (!/^\d{1,16}$/.test(raw) || !Number.isSafeInteger(Number(raw))))
      throw new AgentHttpError(400, 'INVALID_EDGE_ROUTE', 'fence must be an integer from 0 to 2^53-1');
    return edges.delete(req.params.app, req.params.env, raw === undefined ? undefined : Number(raw));
  });
}

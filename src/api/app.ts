import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import { registerErrorHandler } from './errors.js';
import { appsRoutes } from './routes/apps.js';
import { buildsRoutes } from './routes/builds.js';
import { consoleRoutes } from './routes/console.js';
import { deploymentsRoutes } from './routes/deployments.js';
import { environmentsRoutes } from './routes/environments.js';
import { eventsRoutes } from './routes/events.js';
import { pipelinesRoutes } from './routes/pipelines.js';
import { processesRoutes } from './routes/processes.js';
import { releasesRoutes } from './routes/releases.js';
import { templatesRoutes } from './routes/templates.js';

export const VERSION = '0.1.0';

export interface AppOptions {
  readonly engine: Engine;
  readonly logger?: Logger | false;
  /** When set, every /api request but /api/health needs `Authorization: Bearer <token>`. */
  readonly token?: string;
}

/** The HTTP API and the console, on one Fastify instance. Tests use it with inject(). */
export async function buildApp(o: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: o.logger || undefined,
    bodyLimit: 1 << 20,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { coerceTypes: true, useDefaults: true, removeAdditional: false } },
  }) as unknown as FastifyInstance;
  registerErrorHandler(app);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Rewind API', version: VERSION, description: 'Build, release, deploy and roll back apps. Errors are `{ error: { code, message } }`.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  if (o.token) {
    const expected = `Bearer ${o.token}`;
    app.addHook('onRequest', async (req, reply) => {
      if (!req.url.startsWith('/api/') || req.url.startsWith('/api/health') || req.url.startsWith('/api/openapi.json')) return;
      if (req.headers.authorization !== expected) {
        return reply.status(401).send({ error: { code: 'UNAUTHORIZED', message: 'missing or wrong token; set REWIND_TOKEN to the server\'s token' } });
      }
    });
  }
  app.get('/api/health', { schema: { hide: true } }, async () => ({ ok: true, version: VERSION }));
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  appsRoutes(app, o.engine);
  environmentsRoutes(app, o.engine);
  buildsRoutes(app, o.engine);
  releasesRoutes(app, o.engine);
  deploymentsRoutes(app, o.engine);
  processesRoutes(app, o.engine);
  eventsRoutes(app, o.engine);
  pipelinesRoutes(app, o.engine);
  templatesRoutes(app, o.engine);
  consoleRoutes(app, o.engine);
  return app;
}

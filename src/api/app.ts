import { createServer } from 'node:http';
import { Transform, type Readable } from 'node:stream';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import type { Logger } from 'pino';
import type { Engine } from '../engine/engine.js';
import { answerClientError } from '../protocol/client-error.js';
import type { AuthOptions } from './auth.js';
import { registerAuth } from './auth.js';
import { registerJsonParser } from '../protocol/json-body.js';
import { errorCodesTable, registerErrorHandler, registerUnmatched } from './errors.js';
import { authRoutes } from './routes/auth.js';
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
import { targetsRoutes } from './routes/targets.js';

export const VERSION = '0.1.0';

export interface AppOptions {
  readonly engine: Engine;
  readonly logger?: Logger | false;
  /** Who may call: every route but /api/health, the login and the console's files needs a credential. */
  readonly auth: AuthOptions;
  /** The URL people reach the server by, when it is not http://HOST:PORT (--public-url). */
  readonly publicUrl?: string;
  readonly limits?: Partial<ConnectionLimits>;
}

/** Bounds on what one client can hold open (slow or half-sent requests). */
export interface ConnectionLimits {
  /** Until a request's headers are all in. */
  readonly headersTimeoutMs: number;
  /** Until a request (headers and body) is all in; uploads included. Responses (streams) are not bounded. */
  readonly requestTimeoutMs: number;
  /** A request body that stops arriving for this long is answered 408 and its connection closed. */
  readonly bodyIdleTimeoutMs: number;
  readonly maxConnections: number;
}

export const DEFAULT_LIMITS: ConnectionLimits = { headersTimeoutMs: 10_000, requestTimeoutMs: 300_000, bodyIdleTimeoutMs: 30_000, maxConnections: 1000 };

/** The HTTP API and the console, on one Fastify instance. Tests use it with inject(). */
export async function buildApp(o: AppOptions): Promise<FastifyInstance> {
  const limits = { ...DEFAULT_LIMITS, ...o.limits };
  const app = Fastify({
    loggerInstance: o.logger || undefined,
    serverFactory: (handler) => {
      const server = createServer(
        {
          headersTimeout: limits.headersTimeoutMs,
          requestTimeout: limits.requestTimeoutMs,
          connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
          keepAliveTimeout: 5000,
        },
        handler,
      );
      server.maxConnections = limits.maxConnections;
      return server;
    },
    bodyLimit: 1 << 20,
    clientErrorHandler: answerClientError,
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { coerceTypes: true, useDefaults: true, removeAdditional: false } },
  }) as unknown as FastifyInstance;
  registerErrorHandler(app);
  registerJsonParser(app);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Rewind API',
        version: VERSION,
        description: `Build, release, deploy and roll back apps. Errors are \`{ error: { code, message } }\`:\n\n${errorCodesTable()}`,
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  registerAuth(app, o.auth);
  app.addHook('preParsing', async (req, _reply, payload) =>
    req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined
      ? payload
      : idleBounded(payload, limits.bodyIdleTimeoutMs, () => req.raw.socket.destroy()),
  );
  app.get('/api/health', { config: { public: true }, schema: { hide: true } }, async () => ({ ok: true, version: VERSION }));
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
  targetsRoutes(app, o.engine);
  authRoutes(app, o.auth, (req) => o.publicUrl?.replace(/\/+$/, '') ?? `http://${req.headers.host}`);
  consoleRoutes(app, o.engine);
  registerUnmatched(app);
  return app;
}

/** The body as it arrives; when nothing arrives for `ms` before its end, the request fails with a 408. */
function idleBounded(body: Readable, ms: number, hangUp: () => void): Readable {
  let timer: NodeJS.Timeout | undefined;
  const out = new Transform({
    transform(chunk, _enc, next) {
      timer?.refresh();
      next(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
  });
  timer = setTimeout(() => {
    out.destroy(Object.assign(new Error(`the request body stopped arriving for ${ms / 1000} s; send it whole`), { statusCode: 408 }));
    setTimeout(hangUp, 100).unref();
  }, ms);
  timer.unref();
  const clear = () => clearTimeout(timer);
  body.on('error', (err) => out.destroy(err)).on('close', clear);
  // A body nobody reads any more (refused with a 413, or answered without it) is failed by the
  // timer with no reader listening: without this listener that error would kill the server.
  out.on('error', () => {}).on('close', clear);
  return body.pipe(out);
}

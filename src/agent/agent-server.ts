/**
 * The agent's small HTTP API (JSON, NDJSON for rollouts, text for logs). Every request is checked
 * first (agent-auth.ts: token, Host, Origin, content type); handlers validate, call AgentCore,
 * shape the reply.
 */
import type { ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import Fastify from 'fastify';
import { answerClientError } from '../protocol/client-error.js';
import { registerJsonParser } from '../protocol/json-body.js';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { AgentEvent, DesiredState, ExecEvent } from '../protocol/agent-protocol.js';
import type { AgentCore } from './agent-core.js';
import { AgentHttpError } from './agent-http-error.js';
import { installGuard } from './agent-auth.js';
import type { AgentLogger } from './agent-context.js';
import type { ArtifactPolicy } from './artifact-policy.js';
import { artifactProblem } from './artifact-policy.js';
import type { DesiredLimits } from './desired-validation.js';
import { registerEdgeRoutes } from './edge-routes.js';
import { NAME, validateDesiredState } from './desired-validation.js';
import { validateExecRequest } from './exec.js';

interface AppParams {
  app: string;
  env: string;
}

function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).type('application/json').send({ error: { code, message } });
}

function writable(res: ServerResponse): boolean {
  return !res.destroyed && !res.writableEnded;
}

export interface AgentServerOptions {
  /** The bearer token every request must carry. */
  readonly token: string;
  /** The ports apps may be given. */
  readonly limits: DesiredLimits;
  /** Which files may be artifacts. */
  readonly artifacts: ArtifactPolicy;
}

/** Every artifact path of `desired` that breaks the policy, as `components[i].artifact.path …`. */
async function artifactProblems(desired: DesiredState, policy: ArtifactPolicy): Promise<string[]> {
  const problems = await Promise.all(
    desired.components.map(async (c, i) => {
      const problem = await artifactProblem(c.artifact.path, policy);
      return problem ? `components[${i}].artifact.path ${problem}` : null;
    }),
  );
  return problems.filter((p): p is string => p !== null);
}

export function buildAgentServer(core: AgentCore, logger: AgentLogger, options: AgentServerOptions): FastifyInstance {
  const app = createBoundedServer();
  installGuard(app, options.token, logger);
  registerJsonParser(app);
  checkUrlNames(app);
  installErrorReplies(app, logger);
  registerStateRoutes(app, core);
  registerDeployRoute(app, core, options);
  registerExecRoute(app, core);
  registerLogsRoute(app, core);
  registerEdgeRoutes(app, core.edges, options.limits.ports);
  return app;
}

/**
 * A caller that never finishes its request (or opens connections without end) cannot hold the
 * agent: headers within 10 s, a whole request within 60 s, at most 256 connections. Responses
 * (rollouts, exec, logs -f) are streams and are not bounded.
 */
function createBoundedServer(): FastifyInstance {
  return Fastify({
    logger: false,
    forceCloseConnections: true,
    bodyLimit: 1024 * 1024,
    clientErrorHandler: answerClientError,
    serverFactory: (handler) => {
      const server = createServer({ headersTimeout: 10_000, requestTimeout: 60_000, connectionsCheckingInterval: 1000 }, handler);
      server.maxConnections = 256;
      return server;
    },
  });
}

/** App and env names come from the URL: the same rule as in a desired state, before any lookup. */
function checkUrlNames(app: FastifyInstance): void {
  app.addHook('preHandler', async (req, reply) => {
    const params = req.params as Partial<AppParams> | undefined;
    for (const name of ['app', 'env'] as const) {
      const value = params?.[name];
      if (value !== undefined && !NAME.test(value)) return sendError(reply, 400, 'INVALID_NAME', `${name} must match ${NAME.source}`);
    }
  });
}

/** Errors as `{ error: { code, message } }`: the agent's own, invalid input, unknown routes; anything else is a logged 500. */
function installErrorReplies(app: FastifyInstance, logger: AgentLogger): void {
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof AgentHttpError) return sendError(reply, err.status, err.code, err.message);
    const status = err.statusCode ?? 500;
    if (status < 500) return sendError(reply, status, 'INVALID_INPUT', err.message);
    logger.error({ err }, 'agent API error');
    return sendError(reply, 500, 'INTERNAL', `agent error: ${err.message}`);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'NOT_FOUND', `no route ${req.method} ${req.url} on the agent`));
}

/** The plain JSON routes: the agent's health and state, one app/env observed, removed or snapshotted. */
function registerStateRoutes(app: FastifyInstance, core: AgentCore): void {
  app.get('/v1/health', async () => ({ ok: true, pid: process.pid, version: core.version }));

  app.get('/v1/state', async () => core.state());

  app.get<{ Params: AppParams }>('/v1/apps/:app/:env', async (req, reply) => {
    const observed = core.observe(req.params.app, req.params.env);
    if (!observed) return sendError(reply, 404, 'APP_NOT_FOUND', `the agent runs nothing for ${req.params.app} (${req.params.env})`);
    return observed;
  });

  app.delete<{ Params: AppParams }>('/v1/apps/:app/:env', async (req) => {
    await core.remove(req.params.app, req.params.env);
    return { ok: true };
  });

  app.post<{ Params: AppParams }>('/v1/apps/:app/:env/snapshot', async (req) => core.snapshot(req.params.app, req.params.env));
}

/** POST /v1/deploy: a validated desired state, rolled out, its events streamed as NDJSON. */
function registerDeployRoute(app: FastifyInstance, core: AgentCore, options: AgentServerOptions): void {
  app.post('/v1/deploy', async (req, reply) => {
    const desired = validateDesiredState(req.body, options.limits);
    if (desired instanceof Error) return sendError(reply, 400, 'INVALID_DESIRED_STATE', desired.message);
    const refused = await artifactProblems(desired, options.artifacts);
    if (refused.length) return sendError(reply, 400, 'INVALID_DESIRED_STATE', `invalid desired state: ${refused.join('; ')}`);
    // Events emitted before the response starts are queued; the rollout never waits for the client.
    let out: ServerResponse | null = null;
    const queued: AgentEvent[] = [];
    const send = (event: AgentEvent) => {
      if (!out) queued.push(event);
      else if (writable(out)) out.write(`${JSON.stringify(event)}\n`);
    };
    const done = core.deploy(desired, send);
    reply.hijack();
    out = reply.raw;
    out.on('error', () => {});
    out.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
    queued.splice(0).forEach(send);
    send(await done);
    if (writable(out)) out.end();
  });
}

/** POST /v1/apps/:app/:env/exec: a command run in an app, its output streamed as NDJSON once it started. */
function registerExecRoute(app: FastifyInstance, core: AgentCore): void {
  app.post<{ Params: AppParams }>('/v1/apps/:app/:env/exec', async (req, reply) => {
    const request = validateExecRequest(req.body);
    if (request instanceof Error) return sendError(reply, 400, 'INVALID_EXEC_REQUEST', request.message);
    // Like a rollout's, the events before the response starts are queued; errors before the
    // command starts (nothing runs there, no such component) are plain JSON errors.
    const caller = new AbortController();
    let out: ServerResponse | null = null;
    const queued: ExecEvent[] = [];
    const send = (event: ExecEvent) => {
      if (!out) return void queued.push(event);
      if (writable(out)) out.write(`${JSON.stringify(event)}\n`);
    };
    const done = core.exec(
      req.params.app,
      req.params.env,
      request,
      (event) => {
        if (event.type === 'started' && !out) {
          reply.hijack();
          out = reply.raw;
          out.on('error', () => {});
          // The caller hung up before the command ended: stop it.
          out.on('close', () => {
            if (!(out as ServerResponse).writableEnded) caller.abort();
          });
          out.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
        }
        if (out) queued.splice(0).forEach(send);
        send(event);
      },
      caller.signal,
    );
    await done;
    if (!out)
      return sendError(reply, 500, 'EXEC_FAILED', `the command did not start: ${queued.map((e) => (e.type === 'output' ? e.text.trim() : '')).join(' ')}`);
    if (writable(out)) (out as ServerResponse).end();
  });
}

/** GET /v1/apps/:app/:env/logs: the last lines as text, then (with follow) new lines until the caller or the agent goes. */
function registerLogsRoute(app: FastifyInstance, core: AgentCore): void {
  const followers = new Set<ServerResponse>();
  app.addHook('onClose', async () => {
    for (const res of followers) res.end();
  });

  app.get<{ Params: AppParams; Querystring: { lines?: string; follow?: string } }>('/v1/apps/:app/:env/logs', async (req, reply) => {
    const lines = Math.max(0, Math.min(10_000, Number.parseInt(req.query.lines ?? '100', 10) || 0));
    const follow = req.query.follow === '1' || req.query.follow === 'true';
    const logs = core.recentLogs(req.params.app, req.params.env, lines);
    if (!logs) return sendError(reply, 404, 'APP_NOT_FOUND', `the agent runs nothing for ${req.params.app} (${req.params.env})`);
    if (!follow) return reply.type('text/plain; charset=utf-8').send(logs.lines.map((l) => `${l}\n`).join(''));
    // HEAD runs this handler too: the headers, then the end, not a stream that never ends.
    if (req.method === 'HEAD') return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send();
    reply.hijack();
    const res = reply.raw;
    res.on('error', () => {});
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.write(logs.lines.map((l) => `${l}\n`).join(''));
    followers.add(res);
    const stop = logs.follow(
      (line) => {
        if (writable(res)) res.write(`${line}\n`);
      },
      () => res.end(), // the app/env was removed, or the agent is closing
    );
    res.on('close', () => {
      stop();
      followers.delete(res);
    });
  });
}

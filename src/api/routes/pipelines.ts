import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Readable } from 'node:stream';
import { RewindError } from '../../domain/errors.js';
import type { Engine } from '../../engine/engine.js';
import {
  ActivityQuery,
  AppParams,
  DefineBody,
  IdParams,
  List,
  PipelineLogView,
  PipelineRunView,
  PipelineView,
  RunParams,
  RunQuery,
  RunRollbackBody,
  RunRollbackPlanView,
  StoryParams,
  StoryRunsView,
  StoryView,
} from '../../contract/index.js';
import { actorOf, answeredHead, basisIn, errorReplies, finiteQueryNumbers, streamReply } from '../route-helpers.js';
import { drain } from '../drain.js';
import { replayStream } from '../sse.js';

/** The JSON form of a run request: `{ stories?: string[], build?: "B…" }`. (A gzip body is a source upload instead.) */
function checkRunBody(body: unknown): { stories: string[]; build?: string } {
  if (body === undefined || body === null) return { stories: [] };
  const o = body as Record<string, unknown>;
  const bad = (m: string) =>
    new RewindError('INVALID_RUN_REQUEST', `invalid run request: ${m}; send {"stories": ["ID"], "build": "B…"} or a gzip source tarball`);
  if (typeof body !== 'object' || Array.isArray(body)) throw bad('the body must be a JSON object');
  for (const k of Object.keys(o)) if (k !== 'stories' && k !== 'build') throw bad(`unknown field "${k}"`);
  if (o.stories !== undefined && !(Array.isArray(o.stories) && o.stories.every((s) => typeof s === 'string'))) throw bad('stories must be a list of ids');
  if (o.build !== undefined && typeof o.build !== 'string') throw bad('build must be a build id');
  return { stories: (o.stories as string[] | undefined) ?? [], ...(o.build ? { build: o.build as string } : {}) };
}

const asList = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean);

const pipelineViews = async (engine: Engine, name: string): Promise<PipelineView[]> =>
  (await engine.history.pipelines(name)).map((d) => ({
    app: name,
    name: d.def.name,
    source: d.source,
    tasks: d.def.tasks,
    updatedAt: d.updatedAt,
  }));

export function pipelinesRoutes(fastify: FastifyInstance, engine: Engine): void {
  registerDefinitions(fastify, engine);
  registerRunStart(fastify, engine);
  registerRunReads(fastify, engine);
  registerRunEvents(fastify, engine);
  registerRunDecisions(fastify, engine);
  registerStories(fastify, engine);
}

/** An app's pipeline definitions: read them, or define them. */
function registerDefinitions(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const runner = engine.pipelines;
  app.get(
    '/api/apps/:app/pipelines',
    { schema: { tags: ['pipelines'], summary: 'Pipeline definitions', params: AppParams, response: { 200: List(PipelineView), ...errorReplies(404) } } },
    (req) => pipelineViews(engine, req.params.app),
  );
  app.put(
    '/api/apps/:app/pipelines',
    {
      schema: {
        tags: ['pipelines'],
        summary: 'Define (or redefine) pipelines, in the same format as rewind.yml',
        params: AppParams,
        body: DefineBody,
        response: { 200: List(PipelineView), ...errorReplies(400, 404) },
      },
    },
    async (req) => {
      await engine.apps.requireApp(req.params.app);
      await runner.define(req.params.app, req.body.pipelines, 'api', actorOf(req));
      return pipelineViews(engine, req.params.app);
    },
  );
}

/** Start a run, from a source upload or a JSON request; a refused upload is drained so the client gets the error reply. */
function registerRunStart(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const runner = engine.pipelines;
  app.post(
    '/api/apps/:app/pipelines/:name/runs',
    {
      config: { uploadTypes: ['application/gzip', 'application/x-gzip', 'application/octet-stream'] },
      schema: {
        tags: ['pipelines'],
        summary: 'Start a run: with a gzip source tarball as the body (its rewind.yml pipelines apply), or JSON {stories, build}',
        params: RunParams,
        querystring: RunQuery,
        response: { 201: PipelineRunView, ...errorReplies(400, 404, 413, 415, 422) },
      },
    },
    async (req, reply) => {
      const body = req.body as unknown;
      const upload = body && typeof (body as Readable).pipe === 'function' ? (body as Readable) : undefined;
      const json = upload ? undefined : checkRunBody(body);
      try {
        const run = await runner.start(req.params.app, req.params.name, {
          source: upload,
          declaredBytes: upload && req.headers['content-length'] ? Number(req.headers['content-length']) : undefined,
          build: json?.build,
          stories: [...asList(req.query.story), ...(json?.stories ?? [])],
          description: req.query.description,
          actor: actorOf(req),
        });
        return reply.status(201).send(await runner.view(run.id));
      } catch (e) {
        if (upload) await drain(upload);
        throw e;
      }
    },
  );
}

/** Runs: an app's activity, one run, and its log lines. */
function registerRunReads(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const runner = engine.pipelines;
  app.get(
    '/api/apps/:app/pipelines/runs',
    {
      schema: {
        tags: ['pipelines'],
        summary: 'Pipeline activity: runs, newest first',
        params: AppParams,
        querystring: ActivityQuery,
        response: { 200: List(PipelineRunView), ...errorReplies(400, 404) },
      },
      preValidation: finiteQueryNumbers,
    },
    async (req) => {
      const runs = await engine.history.pipelineRuns(req.params.app, { story: req.query.story, limit: req.query.limit });
      return Promise.all(runs.map((r) => runner.view(r.id)));
    },
  );
  app.get(
    '/api/pipelines/runs/:id',
    {
      schema: {
        tags: ['pipelines'],
        summary: 'A run: tasks with status, deployment, backup and rollback status; its rollback section if one was triggered',
        params: IdParams,
        response: { 200: PipelineRunView, ...errorReplies(404) },
      },
    },
    (req) => runner.view(req.params.id),
  );
  app.get(
    '/api/pipelines/runs/:id/logs',
    {
      schema: {
        tags: ['pipelines'],
        summary: "A run's log lines (run and rollback sections)",
        params: IdParams,
        response: { 200: List(PipelineLogView), ...errorReplies(404) },
      },
    },
    async (req) => {
      await runner.requireRun(req.params.id);
      return engine.history.runLogs(req.params.id);
    },
  );
}

/** A run's log as server-sent events, until the run stops moving. */
function registerRunEvents(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const runner = engine.pipelines;
  const eventsSchema = {
    tags: ['pipelines'],
    summary: 'Server-sent events: `log` per line (past ones first), `end` with the run once it stops moving',
    params: IdParams,
    response: { 200: streamReply('text/event-stream', '`log` events (PipelineLogView), then `end` with the run'), ...errorReplies(404) },
  };
  app.get('/api/pipelines/runs/:id/events', { schema: eventsSchema }, async (req, reply) => {
    const id = req.params.id;
    await runner.requireRun(id);
    if (answeredHead(req, reply, 'text/event-stream')) return reply;
    await replayStream(req, reply, {
      event: 'log',
      hub: engine.pipelineLogs,
      key: id,
      history: () => engine.history.runLogs(id),
      moving: async () => {
        const run = await runner.requireRun(id);
        return run.status === 'running' || run.status === 'waiting' || run.rollbackStatus === 'running';
      },
      final: () => runner.view(id),
    });
  });
}

/** Decide a run's approval task, or roll the run back. */
function registerRunDecisions(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const runner = engine.pipelines;
  for (const [verb, approved] of [
    ['approve', true],
    ['reject', false],
  ] as const) {
    app.post(
      `/api/pipelines/runs/:id/${verb}`,
      {
        schema: {
          tags: ['pipelines'],
          summary: `${verb === 'approve' ? 'Approve' : 'Reject'} the approval task a run waits on`,
          params: IdParams,
          response: { 200: PipelineRunView, ...errorReplies(400, 404) },
        },
      },
      async (req) => {
        await runner.decide(req.params.id, approved, actorOf(req));
        return runner.view(req.params.id);
      },
    );
  }
  app.post(
    '/api/pipelines/runs/:id/rollback',
    {
      schema: {
        tags: ['pipelines'],
        summary:
          'Roll a run back (during or after it): cancel pending tasks, restore each backup in reverse order. dryRun: only the plan; basis: only if the environments are still as planned (else 409 STALE_PLAN)',
        params: IdParams,
        body: RunRollbackBody,
        response: { 200: Type.Object({ plan: RunRollbackPlanView }), 202: PipelineRunView, ...errorReplies(400, 404, 409) },
      },
    },
    async (req, reply) => {
      if (req.body?.dryRun) return reply.status(200).send({ plan: await runner.planRollback(req.params.id) });
      const reason = req.body?.reason ? `${req.body.reason} (by ${actorOf(req)})` : undefined;
      return reply.status(202).send(await runner.rollback(req.params.id, actorOf(req), reason, basisIn(req.body)));
    },
  );
}

/** Stories (work-item ids) and the runs that carried each one. */
function registerStories(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const runner = engine.pipelines;
  app.get(
    '/api/apps/:app/stories',
    { schema: { tags: ['stories'], summary: 'Work-item ids seen on runs', params: AppParams, response: { 200: List(StoryView), ...errorReplies(404) } } },
    async (req) => {
      return engine.history.stories(req.params.app);
    },
  );
  app.get(
    '/api/apps/:app/stories/:id',
    { schema: { tags: ['stories'], summary: "A story's pipeline activity", params: StoryParams, response: { 200: StoryRunsView, ...errorReplies(404) } } },
    async (req) => {
      const runs = await engine.history.pipelineRuns(req.params.app, { story: req.params.id });
      return { id: req.params.id, runs: await Promise.all(runs.map((r) => runner.view(r.id))) };
    },
  );
}

import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Engine, ReleaseChangeResult } from '../../engine/engine.js';
import type { ReleaseWithState } from '../../engine/history.js';
import type { Outcome } from '../../engine/release-ops.js';
import type { Release } from '../../domain/release.js';
import {
  AppIdParams,
  AppParams,
  ConfigBody,
  DiffQuery,
  DryRunView,
  EnvConfigView,
  EnvQuery,
  List,
  ListQuery,
  PlanView,
  PromoteBody,
  PromoteEnvBody,
  ReleaseChange,
  ReleaseView,
  RevertBody,
  RollbackBody,
} from '../../contract/index.js';
import { actorOf, basisIn, errorReplies, finiteQueryNumbers } from '../route-helpers.js';
import { views } from '../views.js';

/** An outcome that made a release (not a dry run). */
type Made = Outcome & { readonly release: Release };
const made = (r: Outcome): r is Made => r.release !== undefined;

const releaseViews = (list: readonly ReleaseWithState[]): ReleaseView[] => list.map((r) => views.release(r.release, r.active, r.marks));
const viewWithState = async (engine: Engine, releases: readonly Release[]): Promise<ReleaseView[]> => releaseViews(await engine.history.withState(releases));
/** The release made, its deployment (null when not promoted) and, for rollbacks, reverts and promotions, the plan. */
const changeView = async (engine: Engine, r: ReleaseChangeResult | Made): Promise<ReleaseChange> => {
  const [release] = await viewWithState(engine, [r.release]);
  return { release, deployment: r.deployment ? views.deployment(r.deployment) : null, ...('plan' in r ? { plan: r.plan } : {}) };
};
/** Rollback, revert and promote: 200 with only the plan on a dry run, else 202 with the release made and its deployment. */
const plannedReplies = { 200: DryRunView, 202: ReleaseChange, ...errorReplies(400, 404, 409) };

export function releasesRoutes(fastify: FastifyInstance, engine: Engine): void {
  registerReleaseReads(fastify, engine);
  registerPromote(fastify, engine);
  registerRollback(fastify, engine);
  registerRevert(fastify, engine);
  registerEnvPromote(fastify, engine);
  registerDiff(fastify, engine);
  registerConfig(fastify, engine);
}

/** The releases of an environment, and one release. */
function registerReleaseReads(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/apps/:app/releases',
    {
      schema: {
        tags: ['releases'],
        summary: 'Releases of an environment, newest first',
        params: AppParams,
        querystring: ListQuery,
        response: { 200: List(ReleaseView), ...errorReplies(400, 404) },
      },
      preValidation: finiteQueryNumbers,
    },
    async (req) => {
      return releaseViews(await engine.history.releases(req.params.app, req.query.env, req.query.limit));
    },
  );
  app.get(
    '/api/apps/:app/releases/:id',
    {
      schema: {
        tags: ['releases'],
        summary: 'One release: builds, config, manifest',
        params: AppIdParams,
        response: { 200: ReleaseView, ...errorReplies(404) },
      },
    },
    async (req) => (await viewWithState(engine, [await engine.release(req.params.app, req.params.id)]))[0],
  );
}

/** Make one release active. */
function registerPromote(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/apps/:app/releases/:id/promote',
    {
      schema: {
        tags: ['releases'],
        summary: 'Make a release active (a zero-downtime deployment)',
        params: AppIdParams,
        body: PromoteBody,
        response: { 202: ReleaseChange, ...errorReplies(400, 404, 409) },
      },
    },
    async (req, reply) => reply.status(202).send(await changeView(engine, await engine.promote(req.params.app, req.params.id, req.body.env, actorOf(req)))),
  );
}

/** Roll an environment back (or, dryRun, only plan it). */
function registerRollback(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/apps/:app/rollback',
    {
      schema: {
        tags: ['releases'],
        summary:
          'Roll back: to a release (a copy of it is promoted), some components to earlier builds, or (neither) the environment to its state before the current release. dryRun: only the plan',
        params: AppParams,
        body: RollbackBody,
        response: plannedReplies,
      },
    },
    async (req, reply) => {
      const { env, release, components, dryRun } = req.body;
      const r = await engine.releases.rollback(req.params.app, env, { release, components, dryRun, basis: basisIn(req.body), actor: actorOf(req) });
      return made(r) ? reply.status(202).send(await changeView(engine, r)) : reply.status(200).send({ plan: r.plan });
    },
  );
}

/** Undo what one release changed (or, dryRun, only plan it). */
function registerRevert(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/apps/:app/releases/:id/revert',
    {
      schema: {
        tags: ['releases'],
        summary: 'Undo only what one release changed, keeping later changes. dryRun: only the plan',
        params: AppIdParams,
        body: RevertBody,
        response: plannedReplies,
      },
    },
    async (req, reply) => {
      const r = await engine.releases.revert(req.params.app, req.body.env, req.params.id, {
        dryRun: req.body.dryRun,
        basis: basisIn(req.body),
        actor: actorOf(req),
      });
      return made(r) ? reply.status(202).send(await changeView(engine, r)) : reply.status(200).send({ plan: r.plan });
    },
  );
}

/** Promote one environment's active release to another (or, dryRun, only plan it). */
function registerEnvPromote(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/apps/:app/promote',
    {
      schema: {
        tags: ['releases'],
        summary: "Promote the active release of one environment (or some of its components) to another, with the target's own config. dryRun: only the plan",
        params: AppParams,
        body: PromoteEnvBody,
        response: plannedReplies,
      },
    },
    async (req, reply) => {
      const r = await engine.releases.promote(req.params.app, { ...req.body, basis: basisIn(req.body), actor: actorOf(req) });
      return made(r) ? reply.status(202).send(await changeView(engine, r)) : reply.status(200).send({ plan: r.plan });
    },
  );
}

/** Compare two releases. */
function registerDiff(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/apps/:app/diff',
    {
      schema: {
        tags: ['releases'],
        summary: 'Compare two releases: per component keep/change/add/remove, config keys',
        params: AppParams,
        querystring: DiffQuery,
        response: { 200: PlanView, ...errorReplies(400, 404) },
      },
    },
    async (req) => {
      await engine.apps.requireApp(req.params.app);
      return engine.releases.diff(req.params.app, req.query.from, req.query.to);
    },
  );
}

/** An environment's variables: read them, or set and unset them (a new release). */
function registerConfig(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/apps/:app/env',
    {
      schema: {
        tags: ['config'],
        summary: "Environment variables in effect: the active release's (while nothing runs, the newest release's)",
        params: AppParams,
        querystring: EnvQuery,
        response: { 200: EnvConfigView, ...errorReplies(404) },
      },
    },
    (req) => engine.config(req.params.app, req.query.env),
  );
  app.post(
    '/api/apps/:app/env',
    {
      schema: {
        tags: ['config'],
        summary: 'Set and unset variables: makes a release (env add:… change:… remove:…) and promotes it',
        params: AppParams,
        body: ConfigBody,
        response: { 201: ReleaseChange, ...errorReplies(400, 404, 409) },
      },
    },
    async (req, reply) => {
      const { env, set, unset, promote } = req.body;
      return reply.status(201).send(await changeView(engine, await engine.changeConfig(req.params.app, env, { set, unset, promote }, actorOf(req))));
    },
  );
}

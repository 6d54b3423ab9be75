import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Engine } from '../../engine/engine.js';
import type { Planned } from '../../engine/templates.js';
import type { Release } from '../../domain/release.js';
import type { Deployment } from '../../domain/deployment.js';
import type { UpgradeRecord } from '../../domain/upgrade-plan.js';
import {
  AppParams,
  DryRunView,
  EnvQuery,
  List,
  type PlanView,
  PublishBody,
  TemplateParams,
  TemplateVersionView,
  TemplateView,
  UpgradeBody,
  UpgradeResult,
  UpgradeRollbackBody,
  UpgradeStatusView,
} from '../../contract/index.js';
import { actorOf, basisIn, errorReplies } from '../route-helpers.js';
import { views } from '../views.js';

const upgradeResult = async (r: { plan: PlanView; upgrade: UpgradeRecord; release: Release; deployment: Deployment }): Promise<UpgradeResult> => ({
  upgrade: r.upgrade,
  release: views.release(r.release, null),
  deployment: views.deployment(r.deployment),
  plan: r.plan,
});
/** 200 with only the plan on a dry run, else 202 with the record, the release and its deployment. */
const plannedReply = (out: Planned) =>
  out.upgrade === undefined ? { status: 200 as const, body: Promise.resolve({ plan: out.plan }) } : { status: 202 as const, body: upgradeResult(out) };

export function templatesRoutes(fastify: FastifyInstance, engine: Engine): void {
  registerTemplateLibrary(fastify, engine);
  registerUpgradeStatus(fastify, engine);
  registerUpgrade(fastify, engine);
  registerUpgradeRollback(fastify, engine);
}

/** The shared library: templates with their versions, and publishing a new version. */
function registerTemplateLibrary(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/templates',
    { schema: { tags: ['templates'], summary: 'App templates and their versions, newest first', response: { 200: List(TemplateView), ...errorReplies() } } },
    async () => [...(await engine.templates.list())].map(([name, versions]) => views.template(name, versions)),
  );

  app.post(
    '/api/templates',
    {
      schema: {
        tags: ['templates'],
        summary: "Publish an app/env's active release as a new version of a template (Rainbond's shared library)",
        body: PublishBody,
        response: { 201: TemplateVersionView, ...errorReplies(400, 404, 409) },
      },
    },
    async (req, reply) => reply.status(201).send(views.templateVersion(await engine.templates.publish({ ...req.body, actor: actorOf(req) }))),
  );

  app.get(
    '/api/templates/:name',
    {
      schema: {
        tags: ['templates'],
        summary: 'One template and its versions, newest first',
        params: TemplateParams,
        response: { 200: TemplateView, ...errorReplies(404) },
      },
    },
    async (req) => views.template(req.params.name, await engine.templates.versions(req.params.name)),
  );
}

/** The template version an environment runs and its install and upgrade records. */
function registerUpgradeStatus(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/api/apps/:app/upgrades',
    {
      schema: {
        tags: ['templates'],
        summary: 'The template version an environment runs, whether a newer one exists, and its install and upgrade records',
        params: AppParams,
        querystring: EnvQuery,
        response: { 200: UpgradeStatusView, ...errorReplies(404) },
      },
    },
    async (req) => {
      const s = await engine.templates.status(req.params.app, req.query.env);
      return {
        app: req.params.app,
        env: req.query.env,
        template: s.template,
        installed: s.installed,
        latest: s.latest,
        upgradable: s.upgradable,
        rollbackable: s.rollbackable,
        upgrades: s.records,
      };
    },
  );
}

/** Install or upgrade a template version in an environment (or, dryRun, only plan it). */
function registerUpgrade(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/apps/:app/upgrade',
    {
      schema: {
        tags: ['templates'],
        summary: 'Install a template version in an environment, or upgrade it to one (default: the newest); a zero-downtime deployment',
        params: AppParams,
        body: UpgradeBody,
        response: { 200: DryRunView, 202: UpgradeResult, ...errorReplies(400, 404, 409) },
      },
    },
    async (req, res) => {
      const { env, template, version, dryRun } = req.body;
      const basis = basisIn(req.body);
      const out = plannedReply(
        await engine.templates.upgrade(req.params.app, env, {
          ...(template !== undefined ? { template } : {}),
          ...(version !== undefined ? { version } : {}),
          dryRun,
          basis,
          actor: actorOf(req),
        }),
      );
      return res.status(out.status).send(await out.body);
    },
  );
}

/** Roll an upgrade back (or, dryRun, only plan it). */
function registerUpgradeRollback(fastify: FastifyInstance, engine: Engine): void {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  app.post(
    '/api/apps/:app/upgrades/rollback',
    {
      schema: {
        tags: ['templates'],
        summary: 'Roll an upgrade back in one click: the environment goes back to the release before it',
        params: AppParams,
        body: UpgradeRollbackBody,
        response: { 200: DryRunView, 202: UpgradeResult, ...errorReplies(400, 404, 409) },
      },
    },
    async (req, res) => {
      const out = plannedReply(
        await engine.templates.rollback(req.params.app, req.body.env, {
          ...(req.body.upgrade !== undefined ? { id: req.body.upgrade } : {}),
          dryRun: req.body.dryRun,
          basis: basisIn(req.body),
          actor: actorOf(req),
        }),
      );
      return res.status(out.status).send(await out.body);
    },
  );
}

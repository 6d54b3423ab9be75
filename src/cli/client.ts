import type {
  AppView,
  BuildView,
  DeploymentView,
  EnvConfigView,
  EnvSettingsView,
  EnvironmentView,
  IdentityView,
  LoginLinkView,
  PipelineLogView,
  PipelineRunView,
  PipelineView,
  PlanView,
  ProcessView,
  RunRollbackPlanView,
  StoryRunsView,
  StoryView,
  ReleaseChange,
  ReleaseView,
  DryRunView,
  ConfigRequest,
  ExecRequest,
  PromoteRequest,
  PublishRequest,
  RevertRequest,
  RollbackRequest,
  RunRollbackRequest,
  UpgradeRequest,
  UpgradeRollbackRequest,
  TemplateVersionView,
  TargetView,
  CreateTargetRequest,
  TemplateView,
  UpgradeResult,
  UpgradeStatusView,
} from '../contract/index.js';
import type { ExecEvent } from '../protocol/agent-protocol.js';
import { ApiTransport } from './api-transport.js';
import type { ClientOptions, Upload } from './api-transport.js';

/** What a rollback, revert or promotion answers: only the plan on a dry run, else the release made and its deployment too. */
export type Planned = { readonly plan: PlanView } | (ReleaseChange & { readonly plan: PlanView });

const seg = encodeURIComponent;

/** Typed client of the Rewind HTTP API: one method per route, grouped by resource, sent through ApiTransport (errors thrown as RewindErrors). */
export class RewindClient {
  private readonly http: ApiTransport;
  readonly host: string;

  constructor(opts: ClientOptions) {
    this.http = new ApiTransport(opts);
    this.host = this.http.host;
  }

  health() {
    return this.http.json<{ ok: boolean; version: string }>({ path: '/api/health' });
  }

  whoami() {
    return this.http.json<IdentityView>({ path: '/api/auth/whoami' });
  }
  /** A one-time link that logs a browser in to the console. */
  loginLink() {
    return this.http.json<LoginLinkView>({ method: 'POST', path: '/api/auth/login-links', json: {} });
  }

  listApps() {
    return this.http.json<AppView[]>({ path: '/api/apps' });
  }
  createApp(name: string) {
    return this.http.json<AppView>({ method: 'POST', path: '/api/apps', json: { name } });
  }
  getApp(app: string) {
    return this.http.json<AppView>({ path: `/api/apps/${seg(app)}` });
  }
  async deleteApp(app: string): Promise<void> {
    await this.http.send({ method: 'DELETE', path: `/api/apps/${seg(app)}` });
  }

  /** Uploads a gzip tarball of the source; the build then runs on the server. */
  createBuild(app: string, params: { env: string; description?: string; deploy?: boolean }, upload: Upload) {
    return this.http.json<BuildView>({ method: 'POST', path: `/api/apps/${seg(app)}/builds`, query: params, upload });
  }
  /** With a component: that component's build history ("view more versions"). */
  listBuilds(app: string, limit?: number, component?: string) {
    return this.http.json<BuildView[]>({ path: `/api/apps/${seg(app)}/builds`, query: { limit, component } });
  }
  getBuild(app: string, id: string) {
    return this.http.json<BuildView>({ path: `/api/apps/${seg(app)}/builds/${seg(id)}` });
  }
  /** The build's output; with follow, the stream ends when the build ends. */
  buildLogs(app: string, id: string, follow = true) {
    return this.http.text({ path: `/api/apps/${seg(app)}/builds/${seg(id)}/logs`, query: { follow } });
  }

  listReleases(app: string, env: string, limit?: number) {
    return this.http.json<ReleaseView[]>({ path: `/api/apps/${seg(app)}/releases`, query: { env, limit } });
  }
  getRelease(app: string, id: string) {
    return this.http.json<ReleaseView>({ path: `/api/apps/${seg(app)}/releases/${seg(id)}` });
  }
  promoteRelease(app: string, id: string, env: string) {
    return this.http.json<ReleaseChange>({ method: 'POST', path: `/api/apps/${seg(app)}/releases/${seg(id)}/promote`, json: { env } });
  }
  /** Without `release` or `components`, the server rolls the environment back to its state before the current release. */
  rollback(app: string, req: RollbackRequest) {
    return this.http.json<Planned>({ method: 'POST', path: `/api/apps/${seg(app)}/rollback`, json: { ...req, dryRun: req.dryRun || undefined } });
  }
  /** Undoes only what one release changed, keeping later changes. */
  revert(app: string, id: string, req: RevertRequest) {
    return this.http.json<Planned>({
      method: 'POST',
      path: `/api/apps/${seg(app)}/releases/${seg(id)}/revert`,
      json: { ...req, dryRun: req.dryRun || undefined },
    });
  }
  /** The active release of one environment (or some of its components) into another. */
  promote(app: string, req: PromoteRequest) {
    return this.http.json<Planned>({ method: 'POST', path: `/api/apps/${seg(app)}/promote`, json: { ...req, dryRun: req.dryRun || undefined } });
  }
  diff(app: string, from: string, to: string) {
    return this.http.json<PlanView>({ path: `/api/apps/${seg(app)}/diff`, query: { from, to } });
  }

  listEnvironments(app: string) {
    return this.http.json<EnvironmentView[]>({ path: `/api/apps/${seg(app)}/envs` });
  }
  createEnvironment(app: string, name: string, place: { after?: string; before?: string; target?: string } = {}) {
    return this.http.json<EnvironmentView>({ method: 'POST', path: `/api/apps/${seg(app)}/envs`, json: { name, ...place } });
  }
  async deleteEnvironment(app: string, env: string, force: boolean): Promise<void> {
    await this.http.send({ method: 'DELETE', path: `/api/apps/${seg(app)}/envs/${seg(env)}`, query: { force: force || undefined } });
  }

  listTargets() {
    return this.http.json<TargetView[]>({ path: '/api/targets' });
  }
  addTarget(req: CreateTargetRequest) {
    return this.http.json<TargetView>({ method: 'POST', path: '/api/targets', json: req });
  }
  async removeTarget(name: string): Promise<void> {
    await this.http.send({ method: 'DELETE', path: `/api/targets/${seg(name)}` });
  }

  getSettings(app: string, env: string) {
    return this.http.json<EnvSettingsView>({ path: `/api/apps/${seg(app)}/envs/${seg(env)}/settings` });
  }
  changeSettings(app: string, env: string, patch: Record<string, number | null>) {
    return this.http.json<EnvSettingsView>({ method: 'PATCH', path: `/api/apps/${seg(app)}/envs/${seg(env)}/settings`, json: patch });
  }

  getEnv(app: string, env: string) {
    return this.http.json<EnvConfigView>({ path: `/api/apps/${seg(app)}/env`, query: { env } });
  }
  changeEnv(app: string, change: ConfigRequest) {
    return this.http.json<ReleaseChange>({ method: 'POST', path: `/api/apps/${seg(app)}/env`, json: change });
  }

  getDeployment(id: string) {
    return this.http.json<DeploymentView>({ path: `/api/deployments/${seg(id)}` });
  }
  listDeployments(app: string, env: string) {
    return this.http.json<DeploymentView[]>({ path: `/api/apps/${seg(app)}/deployments`, query: { env } });
  }
  /** SSE: `step` events (DeploymentEventView), then one `end` (DeploymentView). */
  deploymentEvents(id: string) {
    return this.http.sse({ path: `/api/deployments/${seg(id)}/events` });
  }

  listProcesses(app: string, env: string) {
    return this.http.json<ProcessView[]>({ path: `/api/apps/${seg(app)}/ps`, query: { env } });
  }
  logs(app: string, params: { env: string; follow: boolean; lines: number }, signal?: AbortSignal) {
    return this.http.text({ path: `/api/apps/${seg(app)}/logs`, query: params, signal });
  }

  /** NDJSON: `started`, `output`…, then `exit`. Aborting `signal` stops the command on the server. */
  exec(app: string, command: ExecRequest, signal?: AbortSignal) {
    return this.http.ndjson<ExecEvent>({ method: 'POST', path: `/api/apps/${seg(app)}/exec`, json: command, signal });
  }

  listTemplates() {
    return this.http.json<TemplateView[]>({ path: '/api/templates' });
  }
  getTemplate(name: string) {
    return this.http.json<TemplateView>({ path: `/api/templates/${seg(name)}` });
  }
  publishTemplate(req: PublishRequest) {
    return this.http.json<TemplateVersionView>({ method: 'POST', path: '/api/templates', json: req });
  }
  upgrades(app: string, env: string) {
    return this.http.json<UpgradeStatusView>({ path: `/api/apps/${seg(app)}/upgrades`, query: { env } });
  }
  /** Installs `template` (when given) or upgrades to `version` (default: the newest). */
  upgrade(app: string, req: UpgradeRequest) {
    return this.http.json<DryRunView | UpgradeResult>({ method: 'POST', path: `/api/apps/${seg(app)}/upgrade`, json: req });
  }
  rollbackUpgrade(app: string, req: UpgradeRollbackRequest) {
    return this.http.json<DryRunView | UpgradeResult>({ method: 'POST', path: `/api/apps/${seg(app)}/upgrades/rollback`, json: req });
  }

  listPipelines(app: string) {
    return this.http.json<PipelineView[]>({ path: `/api/apps/${seg(app)}/pipelines` });
  }
  /** Defines pipelines in rewind.yml's format (name → tasks). */
  definePipelines(app: string, pipelines: unknown) {
    return this.http.json<PipelineView[]>({ method: 'PUT', path: `/api/apps/${seg(app)}/pipelines`, json: { pipelines } });
  }
  /** Starts a run, with a source upload (its rewind.yml's pipelines apply) or on an existing build. */
  startRun(app: string, name: string, run: { stories: readonly string[]; build?: string; description?: string; upload?: Upload }) {
    const path = `/api/apps/${seg(app)}/pipelines/${seg(name)}/runs`;
    if (run.upload)
      return this.http.json<PipelineRunView>({
        method: 'POST',
        path,
        query: { story: run.stories.join(',') || undefined, description: run.description },
        upload: run.upload,
      });
    return this.http.json<PipelineRunView>({ method: 'POST', path, json: { stories: run.stories, ...(run.build ? { build: run.build } : {}) } });
  }
  listRuns(app: string, story?: string) {
    return this.http.json<PipelineRunView[]>({ path: `/api/apps/${seg(app)}/pipelines/runs`, query: { story } });
  }
  getRun(id: string) {
    return this.http.json<PipelineRunView>({ path: `/api/pipelines/runs/${seg(id)}` });
  }
  runLogs(id: string) {
    return this.http.json<PipelineLogView[]>({ path: `/api/pipelines/runs/${seg(id)}/logs` });
  }
  /** SSE: `log` events (PipelineLogView), then one `end` (PipelineRunView) once the run stops moving. */
  runEvents(id: string) {
    return this.http.sse({ path: `/api/pipelines/runs/${seg(id)}/events` });
  }
  decideRun(id: string, approve: boolean) {
    return this.http.json<PipelineRunView>({ method: 'POST', path: `/api/pipelines/runs/${seg(id)}/${approve ? 'approve' : 'reject'}`, json: {} });
  }
  rollbackRun(id: string, req: RunRollbackRequest = {}) {
    return this.http.json<PipelineRunView>({
      method: 'POST',
      path: `/api/pipelines/runs/${seg(id)}/rollback`,
      json: { ...(req.reason ? { reason: req.reason } : {}), ...(req.basis ? { basis: req.basis } : {}) },
    });
  }
  /** What rolling a run back would do, per task; changes nothing. */
  async rollbackRunPlan(id: string) {
    return (await this.http.json<{ plan: RunRollbackPlanView }>({ method: 'POST', path: `/api/pipelines/runs/${seg(id)}/rollback`, json: { dryRun: true } }))
      .plan;
  }
  listStories(app: string) {
    return this.http.json<StoryView[]>({ path: `/api/apps/${seg(app)}/stories` });
  }
  getStory(app: string, id: string) {
    return this.http.json<StoryRunsView>({ path: `/api/apps/${seg(app)}/stories/${seg(id)}` });
  }

  /** Closes the connection pool, so the process can exit at once. */
  close(): Promise<void> {
    return this.http.close();
  }
}

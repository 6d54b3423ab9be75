import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
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
  TemplateView,
  UpgradeResult,
  UpgradeStatusView,
} from '../contract/index.js';
import type { ExecEvent } from '../protocol/agent-protocol.js';
import { readNdjson } from '../protocol/ndjson.js';
import { readSse } from './sse.js';
import type { SseEvent } from './sse.js';
import { UnreachableError, errorFromResponse, networkCode } from './errors.js';

export interface ClientOptions {
  /** Server URL, e.g. http://127.0.0.1:7070 */
  readonly host: string;
  /** Sent as `Authorization: Bearer`; the server records its name as the actor of each change. */
  readonly token?: string;
  /** Aborts streams (logs -f) when the CLI is told to stop. */
  readonly signal?: AbortSignal;
}

/** What a rollback, revert or promotion answers: only the plan on a dry run, else the release made and its deployment too. */
export type Planned = { readonly plan: PlanView } | (ReleaseChange & { readonly plan: PlanView });

/** A source upload: the gzip tarball's bytes and their total length. */
export interface Upload {
  readonly body: AsyncIterable<Uint8Array>;
  readonly length: number;
}

type Query = Record<string, string | number | boolean | undefined>;

interface Call {
  readonly method?: Dispatcher.HttpMethod;
  readonly path: string;
  readonly query?: Query;
  readonly json?: unknown;
  readonly upload?: Upload;
  /** Streams: no body timeout, and the CLI's abort signal. */
  readonly stream?: boolean;
  readonly signal?: AbortSignal;
}

const seg = encodeURIComponent;

/** Typed client of the Rewind HTTP API: one method per route, errors thrown as RewindErrors. */
export class RewindClient {
  private readonly dispatcher = new Agent({ connect: { timeout: 10_000 } });
  readonly host: string;

  constructor(private readonly opts: ClientOptions) {
    this.host = opts.host.replace(/\/+$/, '');
  }

  health() {
    return this.json<{ ok: boolean; version: string }>({ path: '/api/health' });
  }

  whoami() {
    return this.json<IdentityView>({ path: '/api/auth/whoami' });
  }
  /** A one-time link that logs a browser in to the console. */
  loginLink() {
    return this.json<LoginLinkView>({ method: 'POST', path: '/api/auth/login-links', json: {} });
  }

  listApps() {
    return this.json<AppView[]>({ path: '/api/apps' });
  }
  createApp(name: string) {
    return this.json<AppView>({ method: 'POST', path: '/api/apps', json: { name } });
  }
  getApp(app: string) {
    return this.json<AppView>({ path: `/api/apps/${seg(app)}` });
  }
  async deleteApp(app: string): Promise<void> {
    await this.send({ method: 'DELETE', path: `/api/apps/${seg(app)}` });
  }

  /** Uploads a gzip tarball of the source; the build then runs on the server. */
  createBuild(app: string, params: { env: string; description?: string }, upload: Upload) {
    return this.json<BuildView>({ method: 'POST', path: `/api/apps/${seg(app)}/builds`, query: params, upload });
  }
  /** With a component: that component's build history ("view more versions"). */
  listBuilds(app: string, limit?: number, component?: string) {
    return this.json<BuildView[]>({ path: `/api/apps/${seg(app)}/builds`, query: { limit, component } });
  }
  getBuild(app: string, id: string) {
    return this.json<BuildView>({ path: `/api/apps/${seg(app)}/builds/${seg(id)}` });
  }
  /** The build's output; with follow, the stream ends when the build ends. */
  buildLogs(app: string, id: string, follow = true) {
    return this.text({ path: `/api/apps/${seg(app)}/builds/${seg(id)}/logs`, query: { follow } });
  }

  listReleases(app: string, env: string, limit?: number) {
    return this.json<ReleaseView[]>({ path: `/api/apps/${seg(app)}/releases`, query: { env, limit } });
  }
  getRelease(app: string, id: string) {
    return this.json<ReleaseView>({ path: `/api/apps/${seg(app)}/releases/${seg(id)}` });
  }
  promoteRelease(app: string, id: string, env: string) {
    return this.json<ReleaseChange>({ method: 'POST', path: `/api/apps/${seg(app)}/releases/${seg(id)}/promote`, json: { env } });
  }
  /** Without `release` or `components`, the server rolls the environment back to its state before the current release. */
  rollback(app: string, req: RollbackRequest) {
    return this.json<Planned>({ method: 'POST', path: `/api/apps/${seg(app)}/rollback`, json: { ...req, dryRun: req.dryRun || undefined } });
  }
  /** Undoes only what one release changed, keeping later changes. */
  revert(app: string, id: string, req: RevertRequest) {
    return this.json<Planned>({ method: 'POST', path: `/api/apps/${seg(app)}/releases/${seg(id)}/revert`, json: { ...req, dryRun: req.dryRun || undefined } });
  }
  /** The active release of one environment (or some of its components) into another. */
  promote(app: string, req: PromoteRequest) {
    return this.json<Planned>({ method: 'POST', path: `/api/apps/${seg(app)}/promote`, json: { ...req, dryRun: req.dryRun || undefined } });
  }
  diff(app: string, from: string, to: string) {
    return this.json<PlanView>({ path: `/api/apps/${seg(app)}/diff`, query: { from, to } });
  }

  listEnvironments(app: string) {
    return this.json<EnvironmentView[]>({ path: `/api/apps/${seg(app)}/envs` });
  }
  createEnvironment(app: string, name: string, place: { after?: string; before?: string } = {}) {
    return this.json<EnvironmentView>({ method: 'POST', path: `/api/apps/${seg(app)}/envs`, json: { name, ...place } });
  }
  async deleteEnvironment(app: string, env: string, force: boolean): Promise<void> {
    await this.send({ method: 'DELETE', path: `/api/apps/${seg(app)}/envs/${seg(env)}`, query: { force: force || undefined } });
  }

  getSettings(app: string, env: string) {
    return this.json<EnvSettingsView>({ path: `/api/apps/${seg(app)}/envs/${seg(env)}/settings` });
  }
  changeSettings(app: string, env: string, patch: Record<string, number | null>) {
    return this.json<EnvSettingsView>({ method: 'PATCH', path: `/api/apps/${seg(app)}/envs/${seg(env)}/settings`, json: patch });
  }

  getEnv(app: string, env: string) {
    return this.json<EnvConfigView>({ path: `/api/apps/${seg(app)}/env`, query: { env } });
  }
  changeEnv(app: string, change: ConfigRequest) {
    return this.json<ReleaseChange>({ method: 'POST', path: `/api/apps/${seg(app)}/env`, json: change });
  }

  getDeployment(id: string) {
    return this.json<DeploymentView>({ path: `/api/deployments/${seg(id)}` });
  }
  listDeployments(app: string, env: string) {
    return this.json<DeploymentView[]>({ path: `/api/apps/${seg(app)}/deployments`, query: { env } });
  }
  /** SSE: `step` events (DeploymentEventView), then one `end` (DeploymentView). */
  async deploymentEvents(id: string): Promise<AsyncIterable<SseEvent>> {
    const body = await this.send({ path: `/api/deployments/${seg(id)}/events`, stream: true });
    return readSse(this.guard(body));
  }

  listProcesses(app: string, env: string) {
    return this.json<ProcessView[]>({ path: `/api/apps/${seg(app)}/ps`, query: { env } });
  }
  logs(app: string, params: { env: string; follow: boolean; lines: number }, signal?: AbortSignal) {
    return this.text({ path: `/api/apps/${seg(app)}/logs`, query: params, signal });
  }

  /** NDJSON: `started`, `output`…, then `exit`. Aborting `signal` stops the command on the server. */
  async exec(app: string, o: ExecRequest, signal?: AbortSignal): Promise<AsyncIterable<ExecEvent>> {
    const body = await this.send({ method: 'POST', path: `/api/apps/${seg(app)}/exec`, json: o, stream: true, signal });
    return readNdjson<ExecEvent>(this.guard(body));
  }

  listTemplates() {
    return this.json<TemplateView[]>({ path: '/api/templates' });
  }
  getTemplate(name: string) {
    return this.json<TemplateView>({ path: `/api/templates/${seg(name)}` });
  }
  publishTemplate(o: PublishRequest) {
    return this.json<TemplateVersionView>({ method: 'POST', path: '/api/templates', json: o });
  }
  upgrades(app: string, env: string) {
    return this.json<UpgradeStatusView>({ path: `/api/apps/${seg(app)}/upgrades`, query: { env } });
  }
  /** Installs `template` (when given) or upgrades to `version` (default: the newest). */
  upgrade(app: string, o: UpgradeRequest) {
    return this.json<DryRunView | UpgradeResult>({ method: 'POST', path: `/api/apps/${seg(app)}/upgrade`, json: o });
  }
  rollbackUpgrade(app: string, o: UpgradeRollbackRequest) {
    return this.json<DryRunView | UpgradeResult>({ method: 'POST', path: `/api/apps/${seg(app)}/upgrades/rollback`, json: o });
  }

  listPipelines(app: string) {
    return this.json<PipelineView[]>({ path: `/api/apps/${seg(app)}/pipelines` });
  }
  /** Defines pipelines in rewind.yml's format (name → tasks). */
  definePipelines(app: string, pipelines: unknown) {
    return this.json<PipelineView[]>({ method: 'PUT', path: `/api/apps/${seg(app)}/pipelines`, json: { pipelines } });
  }
  /** Starts a run, with a source upload (its rewind.yml's pipelines apply) or on an existing build. */
  startRun(app: string, name: string, o: { stories: readonly string[]; build?: string; description?: string; upload?: Upload }) {
    const path = `/api/apps/${seg(app)}/pipelines/${seg(name)}/runs`;
    if (o.upload)
      return this.json<PipelineRunView>({
        method: 'POST',
        path,
        query: { story: o.stories.join(',') || undefined, description: o.description },
        upload: o.upload,
      });
    return this.json<PipelineRunView>({ method: 'POST', path, json: { stories: o.stories, ...(o.build ? { build: o.build } : {}) } });
  }
  listRuns(app: string, story?: string) {
    return this.json<PipelineRunView[]>({ path: `/api/apps/${seg(app)}/pipelines/runs`, query: { story } });
  }
  getRun(id: string) {
    return this.json<PipelineRunView>({ path: `/api/pipelines/runs/${seg(id)}` });
  }
  runLogs(id: string) {
    return this.json<PipelineLogView[]>({ path: `/api/pipelines/runs/${seg(id)}/logs` });
  }
  /** SSE: `log` events (PipelineLogView), then one `end` (PipelineRunView) once the run stops moving. */
  async runEvents(id: string): Promise<AsyncIterable<SseEvent>> {
    const body = await this.send({ path: `/api/pipelines/runs/${seg(id)}/events`, stream: true });
    return readSse(this.guard(body));
  }
  decideRun(id: string, approve: boolean) {
    return this.json<PipelineRunView>({ method: 'POST', path: `/api/pipelines/runs/${seg(id)}/${approve ? 'approve' : 'reject'}`, json: {} });
  }
  rollbackRun(id: string, o: RunRollbackRequest = {}) {
    return this.json<PipelineRunView>({
      method: 'POST',
      path: `/api/pipelines/runs/${seg(id)}/rollback`,
      json: { ...(o.reason ? { reason: o.reason } : {}), ...(o.basis ? { basis: o.basis } : {}) },
    });
  }
  /** What rolling a run back would do, per task; changes nothing. */
  async rollbackRunPlan(id: string) {
    return (await this.json<{ plan: RunRollbackPlanView }>({ method: 'POST', path: `/api/pipelines/runs/${seg(id)}/rollback`, json: { dryRun: true } })).plan;
  }
  listStories(app: string) {
    return this.json<StoryView[]>({ path: `/api/apps/${seg(app)}/stories` });
  }
  getStory(app: string, id: string) {
    return this.json<StoryRunsView>({ path: `/api/apps/${seg(app)}/stories/${seg(id)}` });
  }

  /** Closes the connection pool, so the process can exit at once. */
  async close(): Promise<void> {
    await this.dispatcher.close();
  }

  private async json<T>(call: Call): Promise<T> {
    const body = await this.send(call);
    const text = await this.collect(body);
    return (text ? JSON.parse(text) : null) as T;
  }

  private async text(call: Call): Promise<AsyncIterable<string>> {
    const body = await this.send({ ...call, stream: true });
    return decode(this.guard(body));
  }

  private async send(call: Call): Promise<Dispatcher.ResponseData['body']> {
    const url = new URL(this.host + call.path);
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) headers.authorization = `Bearer ${this.opts.token}`;
    let body: string | Readable | undefined;
    if (call.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(call.json);
    } else if (call.upload) {
      headers['content-type'] = 'application/gzip';
      headers['content-length'] = String(call.upload.length);
      body = Readable.from(call.upload.body, { objectMode: false });
    }
    let res: Dispatcher.ResponseData;
    try {
      res = await request(url, {
        method: call.method ?? 'GET',
        headers,
        body,
        dispatcher: this.dispatcher,
        signal: call.signal ?? (call.stream ? this.opts.signal : undefined),
        bodyTimeout: call.stream ? 0 : undefined,
        headersTimeout: call.upload ? 0 : undefined,
      });
    } catch (err) {
      throw this.wrap(err);
    }
    if (res.statusCode >= 400) throw errorFromResponse(res.statusCode, await this.collect(res.body));
    return res.body;
  }

  private async collect(body: Dispatcher.ResponseData['body']): Promise<string> {
    try {
      return await body.text();
    } catch (err) {
      throw this.wrap(err);
    }
  }

  /** Rethrows a connection lost in the middle of a stream as a clear error. */
  private async *guard(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    try {
      yield* body;
    } catch (err) {
      throw this.wrap(err);
    }
  }

  private wrap(err: unknown): unknown {
    const code = networkCode(err);
    return code ? new UnreachableError(this.host, code) : err;
  }
}

async function* decode(source: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of source) {
    const text = decoder.decode(chunk, { stream: true });
    if (text) yield text;
  }
  const tail = decoder.decode();
  if (tail) yield tail;
}

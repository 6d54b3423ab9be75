import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { ProcessInfo } from '../domain/environment.js';
import type { PipelineLog } from '../domain/pipeline-run.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { uploadLimits, type ExtractLimits } from '../artifacts/safe-extract.js';
import { builderArtifacts } from './builder-artifacts.js';
import { Builder } from '../builder/builder.js';
import { applyConfigChange, describeConfigDiff, diffConfig, isEmptyDiff, type Config } from '../domain/config.js';
import { RewindError, notFound, rewindError } from '../domain/errors.js';
import type { DataPlaneDefaults } from '../domain/env-settings.js';
import { isRunnable, makeRelease, type Release } from '../domain/release.js';
import type { ExecEvent } from '../protocol/agent-protocol.js';
import type { EnvironmentRow } from '../store/apps-repo.js';
import type { Deployment, DeploymentEvent } from '../store/deployments-repo.js';
import type { Store } from '../store/store.js';
import type { Target, TargetResolver } from '../targets/target.js';
import { Deployer } from './deployer.js';
import { ReleaseOps } from './release-ops.js';
import { TemplateOps } from './templates.js';
import { AutoRollbackMonitor } from './auto-rollback-monitor.js';
import { PipelineRunner } from './pipeline-runner.js';
import { EventHub } from './event-hub.js';
import { AppOps } from './app-ops.js';
import { History } from './history.js';
import { imagePins } from './image-pins.js';
import { TargetOps } from './target-ops.js';

export interface EngineOptions {
  readonly store: Store;
  /** Which target runs each environment (`singleTarget(t)` when there is one). */
  readonly targets: TargetResolver;
  readonly artifacts: ArtifactStore;
  readonly dataDir: string;
  readonly log: Logger;
  /** Host the agent's proxies listen on, for URLs. */
  readonly proxyHost: string;
  readonly maxUploadBytes: number;
  readonly defaults: DataPlaneDefaults;
  readonly buildTimeoutMs: number;
  /** What an upload may unpack to; default: REWIND_MAX_UNPACKED_MB, _ENTRIES, REWIND_MAX_UNPACK_RATIO (docs/limits.md). */
  readonly extractLimits?: ExtractLimits;
}

export interface ReleaseChangeResult {
  readonly release: Release;
  readonly deployment: Deployment | null;
}

/** The control plane's operations. The API (and through it the CLI and console) calls only these. */
export class Engine {
  private readonly store: Store;
  /** Apps and their environments. */
  readonly apps: AppOps;
  /** What has happened, read only (releases, builds, deployments, runs, audit). */
  readonly history: History;
  readonly builder: Builder;
  readonly deployer: Deployer;
  /** Rollbacks (to a release, of components, of a bundle), reverts, promotions, diffs. */
  readonly releases: ReleaseOps;
  readonly pipelines: PipelineRunner;
  /** App templates: publish, install, upgrade, roll an upgrade back (Rainbond). */
  readonly templates: TemplateOps;
  readonly pipelineLogs = new EventHub<PipelineLog>();
  readonly monitor: AutoRollbackMonitor;
  readonly deploymentEvents = new EventHub<DeploymentEvent>();
  readonly buildOutput = new EventHub<string>();
  /** Where environments run besides local (`rewind targets`). */
  readonly targets: TargetOps;

  constructor(private readonly options: EngineOptions) {
    this.store = options.store;
    this.builder = new Builder({
      store: options.store,
      artifacts: builderArtifacts(options.artifacts, options.extractLimits ?? uploadLimits()),
      dataDir: options.dataDir,
      hub: this.buildOutput,
      log: options.log,
      maxUploadBytes: options.maxUploadBytes,
      buildTimeoutMs: options.buildTimeoutMs,
      checkManifest: async (app, manifest) => {
        if (manifest.pipelines !== undefined) await this.pipelines.check(app, manifest.pipelines);
      },
      afterBuild: async (build, manifest) => {
        if (manifest.pipelines !== undefined) await this.pipelines.define(build.app, manifest.pipelines, 'manifest', build.createdBy);
      },
      deployRelease: async (build, release) => (await this.deployer.start(release, { kind: 'promote', actor: build.createdBy })).id,
      resolveImage: imagePins(options.targets),
    });
    this.apps = new AppOps({
      store: options.store,
      targets: options.targets,
      proxyHost: options.proxyHost,
      defaults: options.defaults,
      removeBuildLogs: (builds) => this.builder.removeLogs(builds),
    });
    this.history = new History(options.store, this.apps);
    this.targets = new TargetOps(options.store, options.targets);
    this.deployer = new Deployer({
      store: options.store,
      targets: options.targets,
      artifacts: options.artifacts,
      hub: this.deploymentEvents,
      log: options.log,
      defaults: options.defaults,
    });
    this.monitor = new AutoRollbackMonitor({ store: options.store, targets: options.targets, hub: this.deploymentEvents, log: options.log });
    this.releases = new ReleaseOps(options.store, this.deployer, (app, env) => this.requireEnv(app, env));
    this.templates = new TemplateOps(options.store, this.deployer, this.releases, (app, env) => this.requireEnv(app, env));
    this.pipelines = new PipelineRunner({
      store: options.store,
      builder: this.builder,
      deployer: this.deployer,
      releases: this.releases,
      targets: options.targets,
      artifacts: options.artifacts,
      log: options.log,
      hub: this.pipelineLogs,
      proxyHost: options.proxyHost,
    });
  }

  async recover(): Promise<void> {
    await this.builder.recover();
    await this.deployer.recover();
    await this.pipelines.recover();
    await this.monitor.tick();
    this.monitor.start();
  }

  async close(): Promise<void> {
    this.monitor.stop();
    await this.pipelines.close();
    await this.builder.close();
    await this.deployer.close();
  }

  private targetOf(app: string, env: string): Target {
    return this.options.targets.forEnv(app, env);
  }

  private requireApp(name: string) {
    return this.apps.requireApp(name);
  }

  private requireEnv(app: string, env: string): Promise<EnvironmentRow> {
    return this.apps.requireEnv(app, env);
  }

  // ── builds ────────────────────────────────────────────────────────────

  /** With `deploy`, the build deploys the release it makes (`rewind deploy`): one operation, one request. */
  async createBuild(app: string, env: string, body: Readable, opts: { description?: string; actor: string; declaredBytes?: number; deploy?: boolean }) {
    await this.requireEnv(app, env);
    return this.builder.create(app, env, body, opts);
  }

  async build(app: string, id: string) {
    await this.requireApp(app);
    const b = await this.store.builds.get(app, id);
    if (!b) throw notFound.build(app, id);
    return b;
  }

  // ── releases ──────────────────────────────────────────────────────────

  async release(app: string, id: string): Promise<Release> {
    await this.requireApp(app);
    const r = await this.store.releases.get(app, id);
    if (!r) throw notFound.release(app, id);
    return r;
  }

  async promote(app: string, id: string, env: string, actor: string): Promise<ReleaseChangeResult> {
    await this.requireEnv(app, env);
    const release = await this.release(app, id);
    if (release.env !== env) {
      throw rewindError('RELEASE_IN_OTHER_ENV', id, release.env, env);
    }
    const deployment = await this.deployer.start(release, { kind: 'promote', actor });
    return { release, deployment };
  }

  // ── config ────────────────────────────────────────────────────────────

  /** The config of app/env: its active release's (what runs), or while nothing runs its newest release's. */
  async config(app: string, env: string): Promise<{ config: Config; release: string | null }> {
    await this.requireEnv(app, env);
    const current = await this.store.releases.current(app, env);
    return { config: current?.config ?? {}, release: current?.id ?? null };
  }

  /**
   * `env set/unset`: a new release with the *active* release's builds and its config changed,
   * promoted unless asked not to. A release that was only built or staged (a refused deploy,
   * `--no-promote`) never runs because of a config change.
   */
  async changeConfig(
    app: string,
    env: string,
    change: { set: Record<string, string>; unset: string[]; promote: boolean },
    actor: string,
  ): Promise<ReleaseChangeResult> {
    await this.requireEnv(app, env);
    const base = await this.store.releases.current(app, env);
    const runs = base !== undefined && isRunnable(base) && base.id === (await this.store.apps.environment(app, env))?.activeRelease;
    const config = applyConfigChange(base?.config ?? {}, change.set, change.unset);
    const diff = diffConfig(base?.config ?? {}, config);
    if (isEmptyDiff(diff)) throw new RewindError('NO_CHANGE', 'nothing changes: every variable already has that value');
    const release = makeRelease({
      app,
      env,
      kind: 'env',
      builds: runs ? base.builds : {},
      config,
      manifest: runs ? base.manifest : null,
      description: describeConfigDiff(diff),
      source: null,
      createdBy: actor,
    });
    if (change.promote && runs) {
      const deployment = await this.deployer.start(release, { kind: 'config', actor, insertRelease: true });
      return { release, deployment };
    }
    const audit = { actor, action: 'release.create', app, env, subject: release.id, detail: { description: release.description } };
    await this.store.recordChange({ release, audit });
    return { release, deployment: null };
  }

  // ── processes and logs ────────────────────────────────────────────────

  async processes(app: string, env: string): Promise<ProcessInfo[]> {
    await this.requireEnv(app, env);
    const observed = await this.targetOf(app, env)
      .observe(app, env)
      .catch((e: Error) => {
        throw new RewindError('AGENT_UNAVAILABLE', `the agent is not reachable (${e.message}); start the server again with "rewind server" to restart it`);
      });
    return (observed?.instances ?? []).map((i) => ({
      id: i.id,
      component: i.component,
      release: i.release,
      build: i.build,
      pid: i.pid,
      port: i.port,
      state: i.state,
      startedAt: i.startedAt,
      restarts: i.restarts,
      rss: i.rss ?? null,
      standbyUntil: i.standbyUntil ?? null,
      node: i.node ?? null,
    }));
  }

  /**
   * `rewind exec`: a one-off command in app/env's active release (a component's slug, the
   * release's config), recorded in the audit log. Resolves once it started, with its output and
   * exit; `signal` stops it.
   */
  async exec(app: string, env: string, o: { command: string; component?: string; actor: string }, signal: AbortSignal): Promise<AsyncIterable<ExecEvent>> {
    const e = await this.requireEnv(app, env);
    if (!e.activeRelease)
      throw new RewindError(
        'NOTHING_RUNS',
        `${app}/${env} runs no release; deploy one first with "rewind deploy -a ${app}${env === 'production' ? '' : ` -e ${env}`}"`,
      );
    const release = await this.release(app, e.activeRelease);
    const components = Object.keys(release.builds);
    if (o.component !== undefined && !components.includes(o.component)) {
      throw new RewindError('COMPONENT_NOT_FOUND', `${release.id} has no component ${o.component}; its components are ${components.join(', ') || 'none'}`);
    }
    const target = this.targetOf(app, env);
    if (!target.exec) throw new RewindError('UNSUPPORTED_BY_TARGET', `the target of ${app}/${env} cannot run commands`);
    const events = await target.exec(
      app,
      env,
      { command: o.command, ...(o.component !== undefined ? { component: o.component } : {}), actor: o.actor },
      signal,
    );
    await this.store.recordAudit({
      actor: o.actor,
      action: 'exec',
      app,
      env,
      subject: release.id,
      detail: { command: o.command, component: o.component ?? null },
    });
    return events;
  }

  async logs(app: string, env: string, opts: { follow: boolean; lines: number; signal?: AbortSignal }): Promise<Readable> {
    await this.requireEnv(app, env);
    return this.targetOf(app, env)
      .logs(app, env, opts)
      .catch((e: Error) => {
        throw new RewindError('AGENT_UNAVAILABLE', `the agent is not reachable (${e.message}); start the server again with "rewind server" to restart it`);
      });
  }
}

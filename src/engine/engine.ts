import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { AppSummary, EnvironmentSummary, ProcessInfo } from '../domain/environment.js';
import type { PipelineLog } from '../domain/pipeline-run.js';
import type { ArtifactStore } from '../artifacts/artifact-store.js';
import { uploadLimits, type ExtractLimits } from '../artifacts/safe-extract.js';
import { builderArtifacts } from './builder-artifacts.js';
import { Builder } from '../builder/builder.js';
import { applyConfigChange, describeConfigDiff, diffConfig, isEmptyDiff, type Config } from '../domain/config.js';
import { RewindError, notFound } from '../domain/errors.js';
import { APP_NAME, ENV_NAME } from '../domain/ids.js';
import { hasKey } from '../domain/records.js';
import { effectiveSettings, mergeSettings, type DataPlaneDefaults } from '../domain/env-settings.js';
import { isRunnable, makeRelease, type Release } from '../domain/release.js';
import type { ExecEvent, ObservedApp } from '../protocol/agent-protocol.js';
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
import { freePort } from './free-port.js';

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
  readonly store: Store;
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

  constructor(private readonly o: EngineOptions) {
    this.store = o.store;
    this.builder = new Builder({
      store: o.store,
      artifacts: builderArtifacts(o.artifacts, o.extractLimits ?? uploadLimits()),
      dataDir: o.dataDir,
      hub: this.buildOutput,
      log: o.log,
      maxUploadBytes: o.maxUploadBytes,
      buildTimeoutMs: o.buildTimeoutMs,
      checkManifest: async (app, manifest) => {
        if (manifest.pipelines !== undefined) await this.pipelines.check(app, manifest.pipelines);
      },
      afterBuild: async (build, manifest) => {
        if (manifest.pipelines !== undefined) await this.pipelines.define(build.app, manifest.pipelines, 'manifest', build.createdBy);
      },
    });
    this.deployer = new Deployer({ store: o.store, targets: o.targets, artifacts: o.artifacts, hub: this.deploymentEvents, log: o.log, defaults: o.defaults });
    this.monitor = new AutoRollbackMonitor({ store: o.store, targets: o.targets, hub: this.deploymentEvents, log: o.log });
    this.releases = new ReleaseOps(o.store, this.deployer, (app, env) => this.requireEnv(app, env));
    this.templates = new TemplateOps(o.store, this.deployer, this.releases, (app, env) => this.requireEnv(app, env));
    this.pipelines = new PipelineRunner({
      store: o.store,
      builder: this.builder,
      deployer: this.deployer,
      releases: this.releases,
      targets: o.targets,
      artifacts: o.artifacts,
      log: o.log,
      hub: this.pipelineLogs,
      proxyHost: o.proxyHost,
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

  // ── apps ──────────────────────────────────────────────────────────────

  async createApp(name: string, actor: string): Promise<AppSummary> {
    if (typeof name !== 'string' || !APP_NAME.test(name)) {
      throw new RewindError(
        'INVALID_NAME',
        `"${name}" is not a valid app name: use 1-63 lower-case letters, digits and dashes, starting with a letter (e.g. my-app)`,
      );
    }
    if (await this.store.apps.get(name)) throw new RewindError('APP_EXISTS', `app "${name}" already exists; see "rewind apps info ${name}"`);
    const port = await freePort(this.o.proxyHost, await this.store.apps.usedPorts());
    await this.store.apps.create(name, { name: 'production', proxyPort: port }, new Date().toISOString());
    await this.store.recordAudit({ actor, action: 'app.create', app: name, detail: { proxyPort: port } });
    return this.app(name);
  }

  async deleteApp(name: string, actor: string): Promise<void> {
    await this.requireApp(name);
    for (const env of await this.store.apps.environments(name)) {
      const live = await this.store.deployments.live(name, env.name);
      if (live)
        throw new RewindError(
          'DEPLOYMENT_IN_PROGRESS',
          `deployment ${live.id} is in progress in ${name}/${env.name}; wait for it to finish before deleting the app`,
        );
    }
    for (const env of await this.store.apps.environments(name)) await this.targetOf(name, env.name).remove(name, env.name);
    const builds = await this.store.builds.idsOf(name);
    await this.store.apps.delete(name);
    await this.builder.removeLogs(builds);
    await this.store.recordAudit({ actor, action: 'app.delete', app: name });
  }

  async apps(): Promise<AppSummary[]> {
    const observed = await this.observeAll();
    const out: AppSummary[] = [];
    for (const a of await this.store.apps.list()) out.push(await this.appView(a.name, a.createdAt, observed));
    return out;
  }

  async app(name: string): Promise<AppSummary> {
    const a = await this.requireApp(name);
    return this.appView(a.name, a.createdAt, await this.observeAll());
  }

  private async appView(name: string, createdAt: string, observed: readonly ObservedApp[] | null): Promise<AppSummary> {
    const envs = await this.store.apps.environments(name);
    const views: EnvironmentSummary[] = [];
    for (const e of envs) views.push(await this.envView(e, observed?.find((o) => o.app === name && o.env === e.name) ?? null, observed === null));
    return { name, createdAt, environments: views };
  }

  private async envView(e: EnvironmentRow, observed: ObservedApp | null, unreachable: boolean): Promise<EnvironmentSummary> {
    const live = await this.store.deployments.live(e.app, e.name);
    let health = 'empty';
    if (unreachable) health = 'unknown';
    else if (live) health = 'deploying';
    else if (observed?.release) {
      const serving = observed.instances.filter((i) => i.release === observed.release);
      if (serving.length === 0) health = 'empty';
      else health = serving.every((i) => i.state === 'healthy' || i.state === 'running') ? 'healthy' : 'unhealthy';
    }
    // A removed component keeps its port (a rollback may bring it back), but only the active
    // release's HTTP components (other than the one on the environment's URL) are listed.
    const ports = await this.store.apps.componentPorts(e.app, e.name);
    const active = e.activeRelease ? await this.store.releases.get(e.app, e.activeRelease) : undefined;
    const http = Object.values(active?.manifest?.components ?? {}).filter((c) => c.port && hasKey(active!.builds, c.name));
    const main = http.find((c) => c.name === 'web') ?? http[0];
    const serving = new Set(http.filter((c) => c !== main).map((c) => c.name));
    for (const c of Object.keys(ports)) if (!serving.has(c)) delete ports[c];
    return {
      app: e.app,
      name: e.name,
      position: e.position,
      activeRelease: e.activeRelease,
      proxyPort: e.proxyPort,
      url: `http://${this.o.proxyHost}:${e.proxyPort}`,
      health,
      components: Object.fromEntries(Object.entries(ports).map(([c, p]) => [c, `http://${this.o.proxyHost}:${p}`])),
      createdAt: e.createdAt,
    };
  }

  private targetOf(app: string, env: string): Target {
    return this.o.targets.forEnv(app, env);
  }

  private async observeAll(): Promise<readonly ObservedApp[] | null> {
    try {
      return (await Promise.all(this.o.targets.all().map((t) => t.observeAll()))).flat();
    } catch {
      return null;
    }
  }

  // ── environments ──────────────────────────────────────────────────────

  async environments(app: string): Promise<readonly EnvironmentSummary[]> {
    return (await this.app(app)).environments;
  }

  async createEnvironment(app: string, name: string, place: { after?: string; before?: string }, actor: string): Promise<EnvironmentSummary> {
    await this.requireApp(app);
    if (typeof name !== 'string' || !ENV_NAME.test(name)) {
      throw new RewindError(
        'INVALID_NAME',
        `"${name}" is not a valid environment name: use 1-31 lower-case letters, digits and dashes, starting with a letter (e.g. test)`,
      );
    }
    if (await this.store.apps.environment(app, name))
      throw new RewindError('APP_EXISTS', `environment "${name}" already exists in app "${app}"; see "rewind envs -a ${app}"`);
    if (place.after !== undefined && place.before !== undefined) throw new RewindError('INVALID_INPUT', 'give --after or --before, not both');
    for (const anchor of [place.after, place.before]) if (anchor !== undefined) await this.requireEnv(app, anchor);
    const port = await freePort(this.o.proxyHost, await this.store.apps.usedPorts());
    await this.store.apps.createEnvironment(app, name, place, port, new Date().toISOString());
    await this.store.recordAudit({ actor, action: 'environment.create', app, env: name, detail: { ...place, proxyPort: port } });
    return (await this.environments(app)).find((e) => e.name === name)!;
  }

  /** Refused while the environment runs something, unless forced; refused for an app's last environment. */
  async deleteEnvironment(app: string, name: string, force: boolean, actor: string): Promise<void> {
    const env = await this.requireEnv(app, name);
    const all = await this.store.apps.environments(app);
    if (all.length === 1)
      throw new RewindError('INVALID_INPUT', `"${name}" is the only environment of ${app}; delete the app instead (rewind apps delete ${app})`);
    const live = await this.store.deployments.live(app, name);
    if (live) throw new RewindError('DEPLOYMENT_IN_PROGRESS', `deployment ${live.id} is in progress in ${app}/${name}; wait for it to finish`);
    const observed = await this.targetOf(app, name)
      .observe(app, name)
      .catch(() => null);
    const running = (observed?.instances.length ?? 0) > 0 || (env.activeRelease !== null && observed === null);
    if (running && !force) {
      throw new RewindError(
        'INVALID_INPUT',
        `${app}/${name} is running ${env.activeRelease ?? 'instances'}; pass --force to stop it and delete the environment with its releases`,
      );
    }
    await this.targetOf(app, name).remove(app, name);
    await this.store.apps.deleteEnvironment(app, name);
    await this.store.recordAudit({ actor, action: 'environment.delete', app, env: name, detail: { force, activeRelease: env.activeRelease } });
  }

  /** The environment's own settings and those in effect (with the server's defaults). */
  async settings(app: string, env: string) {
    const e = await this.requireEnv(app, env);
    return { settings: e.settings, effective: effectiveSettings(e.settings, this.o.defaults) };
  }

  /** Changes settings; they apply from the next deployment of the environment. */
  async changeSettings(app: string, env: string, patch: Readonly<Record<string, unknown>>, actor: string) {
    const e = await this.requireEnv(app, env);
    const next = mergeSettings(e.settings, patch);
    await this.store.apps.setSettings(app, env, next);
    await this.store.recordAudit({ actor, action: 'environment.settings', app, env, detail: patch });
    return this.settings(app, env);
  }

  async requireApp(name: string) {
    const a = await this.store.apps.get(name);
    if (!a) throw notFound.app(name);
    return a;
  }

  async requireEnv(app: string, env: string): Promise<EnvironmentRow> {
    await this.requireApp(app);
    const e = await this.store.apps.environment(app, env);
    if (!e) throw notFound.env(app, env);
    return e;
  }

  // ── builds ────────────────────────────────────────────────────────────

  async createBuild(app: string, env: string, body: Readable, opts: { description?: string; actor: string; declaredBytes?: number }) {
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
      throw new RewindError('INVALID_INPUT', `release ${id} belongs to environment "${release.env}", not "${env}"; pass -e ${release.env}`);
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
    if (isEmptyDiff(diff)) throw new RewindError('INVALID_INPUT', 'nothing changes: every variable already has that value');
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
    if (!target.exec) throw new RewindError('INVALID_INPUT', `the target of ${app}/${env} cannot run commands`);
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

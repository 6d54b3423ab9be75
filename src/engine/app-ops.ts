/** Apps and their environments: create, list, delete, settings; and the lookups every operation starts with. */
import type { AppRow, AppSummary, EnvironmentRow, EnvironmentSummary } from '../domain/environment.js';
import { RewindError, notFound } from '../domain/errors.js';
import { APP_NAME, ENV_NAME } from '../domain/ids.js';
import { effectiveSettings, mergeSettings, type DataPlaneDefaults } from '../domain/env-settings.js';
import type { Store } from '../store/store.js';
import type { TargetResolver } from '../targets/target.js';
import { TargetOps } from './target-ops.js';
import { registryOf } from './target-registry.js';
import { appSummary, observeAll } from './app-views.js';
import { freePort } from './free-port.js';

export interface AppOpsOptions {
  readonly store: Store;
  readonly targets: TargetResolver;
  /** Host the agent's proxies listen on: new proxy ports are free there; URLs name it. */
  readonly proxyHost: string;
  readonly defaults: DataPlaneDefaults;
  /** Removes the build logs of a deleted app's builds. */
  readonly removeBuildLogs: (builds: readonly string[]) => Promise<void>;
}

export class AppOps {
  constructor(private readonly options: AppOpsOptions) {}

  private get store(): Store {
    return this.options.store;
  }

  // ── apps ──────────────────────────────────────────────────────────────

  async create(name: string, actor: string): Promise<AppSummary> {
    if (typeof name !== 'string' || !APP_NAME.test(name)) {
      throw new RewindError(
        'INVALID_NAME',
        `"${name}" is not a valid app name: use 1-63 lower-case letters, digits and dashes, starting with a letter (e.g. my-app)`,
      );
    }
    if (await this.store.apps.get(name)) throw new RewindError('APP_EXISTS', `app "${name}" already exists; see "rewind apps info ${name}"`);
    const port = await this.freeProxyPort();
    await this.store.apps.create(name, { name: 'production', proxyPort: port }, new Date().toISOString());
    await this.store.recordAudit({ actor, action: 'app.create', app: name, detail: { proxyPort: port } });
    return this.get(name);
  }

  async delete(name: string, actor: string): Promise<void> {
    await this.requireApp(name);
    for (const env of await this.store.apps.environments(name)) {
      const live = await this.store.deployments.live(name, env.name);
      if (live)
        throw new RewindError(
          'DEPLOYMENT_IN_PROGRESS',
          `deployment ${live.id} is in progress in ${name}/${env.name}; wait for it to finish before deleting the app`,
        );
    }
    for (const env of await this.store.apps.environments(name)) await this.options.targets.forEnv(name, env.name).remove(name, env.name);
    const builds = await this.store.builds.idsOf(name);
    const envs = await this.store.apps.environments(name);
    await this.store.apps.delete(name);
    for (const env of envs) registryOf(this.options.targets)?.unassign(name, env.name);
    await this.options.removeBuildLogs(builds);
    await this.store.recordAudit({ actor, action: 'app.delete', app: name });
  }

  async list(): Promise<AppSummary[]> {
    const observed = await observeAll(this.options.targets);
    const out: AppSummary[] = [];
    for (const a of await this.store.apps.list()) out.push(await appSummary(this.options, a.name, a.createdAt, observed));
    return out;
  }

  async get(name: string): Promise<AppSummary> {
    const a = await this.requireApp(name);
    return appSummary(this.options, a.name, a.createdAt, await observeAll(this.options.targets));
  }

  async requireApp(name: string): Promise<AppRow> {
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

  // ── environments ──────────────────────────────────────────────────────

  async environments(app: string): Promise<readonly EnvironmentSummary[]> {
    return (await this.get(app)).environments;
  }

  /** `place.target`: where it runs (default local); a target must exist. */
  async createEnvironment(app: string, name: string, place: { after?: string; before?: string; target?: string }, actor: string): Promise<EnvironmentSummary> {
    await this.requireApp(app);
    if (typeof name !== 'string' || !ENV_NAME.test(name)) {
      throw new RewindError(
        'INVALID_NAME',
        `"${name}" is not a valid environment name: use 1-31 lower-case letters, digits and dashes, starting with a letter (e.g. test)`,
      );
    }
    if (await this.store.apps.environment(app, name))
      throw new RewindError('APP_EXISTS', `environment "${name}" already exists in app "${app}"; see "rewind envs -a ${app}"`);
    if (place.after !== undefined && place.before !== undefined) throw new RewindError('CONFLICTING_OPTIONS', 'give --after or --before, not both');
    for (const anchor of [place.after, place.before]) if (anchor !== undefined) await this.requireEnv(app, anchor);
    const target = await new TargetOps(this.store, this.options.targets).requireTarget(place.target);
    const port = await this.freeProxyPort();
    await this.store.apps.createEnvironment(app, name, place, port, new Date().toISOString(), target);
    registryOf(this.options.targets)?.assign(app, name, target);
    await this.store.recordAudit({ actor, action: 'environment.create', app, env: name, detail: { ...place, target, proxyPort: port } });
    return (await this.environments(app)).find((e) => e.name === name)!;
  }

  /** Refused while the environment runs something, unless forced; refused for an app's last environment. */
  async deleteEnvironment(app: string, name: string, force: boolean, actor: string): Promise<void> {
    const env = await this.requireEnv(app, name);
    const all = await this.store.apps.environments(app);
    if (all.length === 1)
      throw new RewindError('LAST_ENVIRONMENT', `"${name}" is the only environment of ${app}; delete the app instead (rewind apps delete ${app})`);
    const live = await this.store.deployments.live(app, name);
    if (live) throw new RewindError('DEPLOYMENT_IN_PROGRESS', `deployment ${live.id} is in progress in ${app}/${name}; wait for it to finish`);
    const target = this.options.targets.forEnv(app, name);
    const observed = await target.observe(app, name).catch(() => null);
    const running = (observed?.instances.length ?? 0) > 0 || (env.activeRelease !== null && observed === null);
    if (running && !force) {
      throw new RewindError(
        'ENV_IS_RUNNING',
        `${app}/${name} is running ${env.activeRelease ?? 'instances'}; pass --force to stop it and delete the environment with its releases`,
      );
    }
    await target.remove(app, name);
    await this.store.apps.deleteEnvironment(app, name);
    registryOf(this.options.targets)?.unassign(app, name);
    await this.store.recordAudit({ actor, action: 'environment.delete', app, env: name, detail: { force, activeRelease: env.activeRelease } });
  }

  /** The environment's own settings and those in effect (with the server's defaults). */
  async settings(app: string, env: string) {
    const e = await this.requireEnv(app, env);
    return { settings: e.settings, effective: effectiveSettings(e.settings, this.options.defaults) };
  }

  /** Changes settings; they apply from the next deployment of the environment. */
  async changeSettings(app: string, env: string, patch: Readonly<Record<string, unknown>>, actor: string) {
    const e = await this.requireEnv(app, env);
    const next = mergeSettings(e.settings, patch);
    await this.store.apps.setSettings(app, env, next);
    await this.store.recordAudit({ actor, action: 'environment.settings', app, env, detail: patch });
    return this.settings(app, env);
  }

  private async freeProxyPort(): Promise<number> {
    return freePort(this.options.proxyHost, await this.store.apps.usedPorts());
  }
}

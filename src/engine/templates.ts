/**
 * App templates (Rainbond's "publish to the shared library, install, upgrade, roll the upgrade
 * back"): a version freezes a release's components — their slugs, the manifest, the config — under
 * a name and a version number. Installing or upgrading an app/env from it makes a release of kind
 * `upgrade` and an upgrade record; rolling an upgrade back is one click to the release before it.
 */
import type { EnvPlan } from '../domain/env-plan.js';
import { RewindError } from '../domain/errors.js';
import { APP_NAME, newId } from '../domain/ids.js';
import type { Manifest } from '../domain/manifest.js';
import { planBetween } from '../domain/plan.js';
import { makeRelease, type Release } from '../domain/release.js';
import { newestLive, planUpgrade, planUpgradeRollback, rollbackTarget, upgradeTemplate, type UpgradeRecord } from '../domain/upgrade-plan.js';
import { stateOf } from '../domain/rollback-plan.js';
import { prebuiltBuild } from '../store/builds-repo.js';
import type { Deployment } from '../store/deployments-repo.js';
import type { EnvironmentRow } from '../store/apps-repo.js';
import type { Db } from '../store/db.js';
import type { Store } from '../store/store.js';
import type { TemplateVersion, Upgrade } from '../store/templates-repo.js';
import type { Deployer } from './deployer.js';
import type { PlannedOptions, ReleaseOps } from './release-ops.js';

/** A version number: what people write (1.0, 2.0.1, 2024-06, v3-rc1). */
const VERSION = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

/** What an app/env runs of a template: the version installed (null after every upgrade was rolled back), and the newest published. */
export interface UpgradeStatus {
  readonly template: string | null;
  readonly installed: string | null;
  readonly latest: string | null;
  readonly upgradable: boolean;
  /** The record a rollback with no id undoes; null when it would be refused. */
  readonly rollbackable: string | null;
  readonly records: readonly UpgradeRecord[];
}

/** An upgrade or its rollback: only the plan on a dry run, else also the record, the release made and its deployment. */
export type Planned =
  | { readonly plan: EnvPlan; readonly upgrade?: undefined }
  | { readonly plan: EnvPlan; readonly upgrade: UpgradeRecord; readonly release: Release; readonly deployment: Deployment };

export class TemplateOps {
  constructor(
    private readonly store: Store,
    private readonly deployer: Deployer,
    private readonly releases: ReleaseOps,
    private readonly requireEnv: (app: string, env: string) => Promise<EnvironmentRow>,
  ) {}

  /** App/env's install and upgrade records, newest first, with their deployments' states. */
  async #records(app: string, env: string): Promise<UpgradeRecord[]> {
    const records = await this.store.templates.upgrades(app, env);
    return Promise.all(records.map(async (r) => ({ ...r, state: (await this.store.deployments.get(r.deployment))?.state ?? 'unknown' })));
  }

  /** Publishes app/env's active release as version `version` of template `name`. */
  async publish(o: { name: string; version: string; app: string; env: string; note?: string; actor: string }): Promise<TemplateVersion> {
    if (!APP_NAME.test(o.name))
      throw new RewindError('INVALID_NAME', `template name "${o.name}" must be lower-case letters, digits and dashes, starting with a letter`);
    if (!VERSION.test(o.version))
      throw new RewindError('INVALID_VERSION', `version "${o.version}" must be letters, digits, dots, dashes or underscores (at most 40), e.g. 1.0 or 2.1.3`);
    const e = await this.requireEnv(o.app, o.env);
    if (!e.activeRelease) throw new RewindError('NOTHING_RUNS', `${o.app}/${o.env} runs no release; deploy it before publishing it as a template`);
    const release = await this.releases.release(o.app, e.activeRelease);
    if (!release.manifest || Object.keys(release.builds).length === 0)
      throw new RewindError('NOTHING_RUNS', `${release.id} runs no component; deploy a build before publishing it`);
    if (await this.store.templates.version(o.name, o.version)) {
      throw new RewindError('TEMPLATE_VERSION_EXISTS', `template ${o.name} already has a version ${o.version}; versions are never replaced, publish a new one`);
    }
    const artifacts: Record<string, string> = {};
    for (const [component, buildId] of Object.entries(release.builds)) {
      const sha = (await this.store.builds.byId(buildId))?.artifacts[component];
      if (!sha) throw new RewindError('BUILD_NOT_READY', `build ${buildId} of ${component} has no slug; it cannot be published`);
      artifacts[component] = sha;
    }
    const version: Omit<TemplateVersion, 'seq'> = {
      template: o.name,
      version: o.version,
      sourceApp: o.app,
      sourceEnv: o.env,
      sourceRelease: release.id,
      artifacts,
      manifest: release.manifest,
      config: release.config,
      note: o.note ?? '',
      createdBy: o.actor,
      createdAt: new Date().toISOString(),
    };
    await this.store.templates.publish(version);
    await this.store.audit.record({
      actor: o.actor,
      action: 'template.publish',
      app: o.app,
      env: o.env,
      subject: `${o.name}@${o.version}`,
      detail: { release: release.id, components: Object.keys(artifacts) },
    });
    return (await this.store.templates.version(o.name, o.version)) as TemplateVersion;
  }

  /** Every template with its versions, newest first. */
  async list(): Promise<Map<string, TemplateVersion[]>> {
    const out = new Map<string, TemplateVersion[]>();
    for (const v of await this.store.templates.versions()) out.set(v.template, [...(out.get(v.template) ?? []), v]);
    return out;
  }

  async versions(name: string): Promise<TemplateVersion[]> {
    const versions = await this.store.templates.versions(name);
    if (versions.length === 0) throw new RewindError('TEMPLATE_NOT_FOUND', `template ${name} does not exist; see "rewind templates"`);
    return versions;
  }

  /** What app/env runs of a template, what it could be upgraded to, and its install/upgrade records. */
  async status(app: string, env: string): Promise<UpgradeStatus> {
    await this.requireEnv(app, env);
    const records = await this.#records(app, env);
    const template = records[0]?.template ?? null;
    const installed = newestLive(records)?.toVersion ?? null;
    const latest = template ? ((await this.store.templates.versions(template))[0]?.version ?? null) : null;
    return { template, installed, latest, upgradable: latest !== null && latest !== installed, rollbackable: rollbackTarget(records), records };
  }

  /**
   * Installs (`template` given, nothing of a template there yet) or upgrades app/env to
   * `version` (default: the newest). The release takes the version's components and manifest;
   * its config is the environment's own, plus the variables the version defines that it lacks.
   */
  async upgrade(app: string, env: string, o: { template?: string; version?: string } & PlannedOptions): Promise<Planned> {
    return this.releases.guarded(app, o, (dryRun) => this.#upgrade(app, env, { ...o, dryRun }));
  }

  async #upgrade(app: string, env: string, o: { template?: string; version?: string } & PlannedOptions): Promise<Planned> {
    const e = await this.requireEnv(app, env);
    if (!o.dryRun) await this.deployer.refuseIfBusy(app, env);
    const records = await this.#records(app, env);
    const name = upgradeTemplate(app, env, records, o.template);
    const versions = await this.versions(name);
    const active = e.activeRelease ? await this.releases.release(app, e.activeRelease) : null;
    const change = planUpgrade({ app, env, name, versions, version: o.version, records }, active);
    const { target, installed, verb, description, config } = change;
    const now = new Date().toISOString();
    const components = Object.keys(target.artifacts);
    const steps = planBetween(stateOf(active), change.next);
    const basis = [await this.releases.basisOf(app, env, active?.id ?? null)];
    const plan: EnvPlan = { app, env, from: active?.id ?? null, source: null, description, empty: false, ...steps, basis };
    if (o.dryRun) return { plan };
    const expected = o.basis ? await this.releases.expected(app, o.basis, basis) : undefined;
    // Checked before the build is recorded, and again atomically with the deployment.
    if (expected) await this.releases.check(app, expected, this.store.db);
    const build = prebuiltBuild({
      app,
      env,
      description: `template ${name} ${target.version} (${target.sourceRelease} of ${target.sourceApp})`,
      manifest: target.manifest as Manifest,
      artifacts: target.artifacts,
      actor: o.actor,
    });
    await this.store.builds.insert(build);
    const release = makeRelease({
      app,
      env,
      kind: 'upgrade',
      builds: Object.fromEntries(components.map((c) => [c, build.id])),
      config,
      manifest: target.manifest as Manifest,
      description,
      source: null,
      createdBy: o.actor,
    });
    const check = expected ? (tx: Db) => this.releases.check(app, expected, tx) : undefined;
    const deployment = await this.deployer.start(release, { kind: 'upgrade', actor: o.actor, insertRelease: true, check });
    const upgrade: Upgrade = {
      id: newId('U'),
      app,
      env,
      template: name,
      fromVersion: installed,
      toVersion: target.version,
      fromRelease: active?.id ?? null,
      release: release.id,
      deployment: deployment.id,
      rolledBackRelease: null,
      rolledBackBy: null,
      rolledBackAt: null,
      createdBy: o.actor,
      createdAt: now,
    };
    await this.store.templates.insertUpgrade(upgrade);
    await this.store.audit.record({
      actor: o.actor,
      action: `template.${verb}`,
      app,
      env,
      subject: upgrade.id,
      detail: { template: name, from: installed, to: target.version, release: release.id },
    });
    return { plan, upgrade: { ...upgrade, state: deployment.state }, release, deployment };
  }

  /** Rolls upgrade `id` (default: the newest that went live and is not rolled back) back: app/env goes to the release before it. */
  async rollback(app: string, env: string, o: { id?: string } & PlannedOptions): Promise<Planned> {
    await this.requireEnv(app, env);
    if (!o.dryRun) await this.deployer.refuseIfBusy(app, env);
    const { upgrade, toRelease } = planUpgradeRollback(app, env, await this.#records(app, env), o.id);
    const out = await this.releases.rollback(app, env, { release: toRelease, dryRun: o.dryRun, basis: o.basis, actor: o.actor });
    if (o.dryRun) return { plan: out.plan };
    if (!out.release || !out.deployment) throw new Error('a rollback without a release');
    await this.store.templates.markRolledBack(upgrade.id, out.release.id, o.actor, new Date().toISOString());
    await this.store.audit.record({
      actor: o.actor,
      action: 'template.rollback',
      app,
      env,
      subject: upgrade.id,
      detail: { template: upgrade.template, from: upgrade.toVersion, to: upgrade.fromVersion, release: out.release.id },
    });
    const marked = (await this.store.templates.upgrades(app, env)).find((r) => r.id === upgrade.id) as Upgrade;
    return { plan: out.plan, upgrade: { ...marked, state: upgrade.state }, release: out.release, deployment: out.deployment };
  }
}

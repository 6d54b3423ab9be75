import { sql } from 'kysely';
import type { Config } from '../domain/config.js';
import { type Db, serialized } from './db.js';
import type { TemplateVersionsTable, UpgradesTable } from './schema.js';
import type { TemplateVersion, Upgrade } from '../domain/template.js';

export type { TemplateVersion, Upgrade };

const toVersion = (r: TemplateVersionsTable): TemplateVersion => ({
  template: r.template,
  version: r.version,
  seq: r.seq,
  sourceApp: r.source_app,
  sourceEnv: r.source_env,
  sourceRelease: r.source_release,
  artifacts: JSON.parse(r.artifacts) as Record<string, string>,
  manifest: JSON.parse(r.manifest) as unknown,
  config: JSON.parse(r.config) as Config,
  note: r.note,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

const toUpgrade = (r: UpgradesTable): Upgrade => ({
  id: r.id,
  app: r.app,
  env: r.env,
  template: r.template,
  fromVersion: r.from_version,
  toVersion: r.to_version,
  fromRelease: r.from_release,
  release: r.release,
  deployment: r.deployment,
  rolledBackRelease: r.rolled_back_release,
  rolledBackBy: r.rolled_back_by,
  rolledBackAt: r.rolled_back_at,
  createdBy: r.created_by,
  createdAt: r.created_at,
});

/** App templates (versions published from a release) and the installs and upgrades made from them. */
export class TemplatesRepo {
  constructor(private readonly db: Db) {}

  /** Adds a version; its seq is computed inside the INSERT, so two publications never share one. */
  async publish(v: Omit<TemplateVersion, 'seq'>): Promise<void> {
    await serialized(this.db, `template-versions:${v.template}`, (w) =>
      w
        .insertInto('template_versions')
        .values({
          template: v.template,
          version: v.version,
          seq: sql<number>`(select coalesce(max(seq), 0) + 1 from template_versions where template = ${v.template})`,
          source_app: v.sourceApp,
          source_env: v.sourceEnv,
          source_release: v.sourceRelease,
          artifacts: JSON.stringify(v.artifacts),
          manifest: JSON.stringify(v.manifest),
          config: JSON.stringify(v.config),
          note: v.note,
          created_by: v.createdBy,
          created_at: v.createdAt,
        })
        .execute(),
    );
  }

  /** Every version, of one template or of all, newest first within a template. */
  async versions(template?: string): Promise<TemplateVersion[]> {
    let q = this.db.selectFrom('template_versions').selectAll();
    if (template !== undefined) q = q.where('template', '=', template);
    return (await q.orderBy('template').orderBy('seq', 'desc').execute()).map(toVersion);
  }

  async version(template: string, version: string): Promise<TemplateVersion | undefined> {
    const r = await this.db.selectFrom('template_versions').selectAll().where('template', '=', template).where('version', '=', version).executeTakeFirst();
    return r && toVersion(r);
  }

  async insertUpgrade(u: Upgrade, db: Db = this.db): Promise<void> {
    await db
      .insertInto('upgrades')
      .values({
        id: u.id,
        app: u.app,
        env: u.env,
        template: u.template,
        from_version: u.fromVersion,
        to_version: u.toVersion,
        from_release: u.fromRelease,
        release: u.release,
        deployment: u.deployment,
        rolled_back_release: u.rolledBackRelease,
        rolled_back_by: u.rolledBackBy,
        rolled_back_at: u.rolledBackAt,
        created_by: u.createdBy,
        created_at: u.createdAt,
      })
      .execute();
  }

  /** app/env's installs and upgrades, newest first. */
  async upgrades(app: string, env: string): Promise<Upgrade[]> {
    const rows = await this.db
      .selectFrom('upgrades')
      .selectAll()
      .where('app', '=', app)
      .where('env', '=', env)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toUpgrade);
  }

  async markRolledBack(id: string, release: string, actor: string, at: string): Promise<void> {
    await this.db.updateTable('upgrades').set({ rolled_back_release: release, rolled_back_by: actor, rolled_back_at: at }).where('id', '=', id).execute();
  }
}

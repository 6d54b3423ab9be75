import type { EnvSettings } from '../domain/env-settings.js';
import type { Selectable } from 'kysely';
import type { Db } from './db.js';
import type { EnvironmentsTable } from './schema.js';
import type { AppRow, EnvironmentRow } from '../domain/environment.js';

export type { AppRow, EnvironmentRow };

const toEnv = (r: Selectable<EnvironmentsTable>): EnvironmentRow => ({
  app: r.app,
  name: r.name,
  position: r.position,
  proxyPort: r.proxy_port,
  activeRelease: r.active_release,
  createdAt: r.created_at,
  settings: JSON.parse(r.settings) as EnvSettings,
  target: r.target,
});

/** Apps and their environments. */
export class AppsRepo {
  constructor(private readonly db: Db) {}

  async list(): Promise<AppRow[]> {
    const rows = await this.db.selectFrom('apps').selectAll().orderBy('name').execute();
    return rows.map((r) => ({ name: r.name, createdAt: r.created_at }));
  }

  async get(name: string): Promise<AppRow | undefined> {
    const r = await this.db.selectFrom('apps').selectAll().where('name', '=', name).executeTakeFirst();
    return r && { name: r.name, createdAt: r.created_at };
  }

  async create(name: string, env: { name: string; proxyPort: number }, now: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('apps').values({ name, created_at: now }).execute();
      await tx
        .insertInto('environments')
        .values({ app: name, name: env.name, position: 0, proxy_port: env.proxyPort, active_release: null, created_at: now })
        .execute();
    });
  }

  /** Deletes the app and everything recorded about it. */
  async delete(name: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      for (const table of ['deployment_events'] as const) {
        await tx
          .deleteFrom(table)
          .where('deployment', 'in', tx.selectFrom('deployments').select('id').where('app', '=', name))
          .execute();
      }
      await tx.deleteFrom('deployments').where('app', '=', name).execute();
      await tx
        .deleteFrom('release_marks')
        .where('release', 'in', tx.selectFrom('releases').select('id').where('app', '=', name))
        .execute();
      await tx.deleteFrom('releases').where('app', '=', name).execute();
      await tx.deleteFrom('component_ports').where('app', '=', name).execute();
      await tx.deleteFrom('builds').where('app', '=', name).execute();
      await tx.deleteFrom('environments').where('app', '=', name).execute();
      await tx.deleteFrom('apps').where('name', '=', name).execute();
    });
  }

  async environments(app: string): Promise<EnvironmentRow[]> {
    const rows = await this.db.selectFrom('environments').selectAll().where('app', '=', app).orderBy('position').execute();
    return rows.map(toEnv);
  }

  async allEnvironments(): Promise<EnvironmentRow[]> {
    const rows = await this.db.selectFrom('environments').selectAll().orderBy('app').orderBy('position').execute();
    return rows.map(toEnv);
  }

  /** `db`: a transaction to read in (a plan's basis is checked in the one that records its deployment). */
  async environment(app: string, env: string, db: Db = this.db): Promise<EnvironmentRow | undefined> {
    const r = await db.selectFrom('environments').selectAll().where('app', '=', app).where('name', '=', env).executeTakeFirst();
    return r && toEnv(r);
  }

  async usedPorts(): Promise<Set<number>> {
    const rows = await this.db.selectFrom('environments').select('proxy_port').execute();
    const components = await this.db.selectFrom('component_ports').select('port').execute();
    return new Set([...rows.map((r) => r.proxy_port), ...components.map((r) => r.port)]);
  }

  /** Adds an environment after or before another one (else last), shifting the ones behind it. */
  async createEnvironment(
    app: string,
    name: string,
    place: { after?: string; before?: string },
    proxyPort: number,
    now: string,
    target = 'local',
  ): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const envs = await tx.selectFrom('environments').select(['name', 'position']).where('app', '=', app).orderBy('position').execute();
      const before = place.before === undefined ? undefined : envs.find((e) => e.name === place.before);
      const anchor = place.after === undefined ? envs.at(-1) : envs.find((e) => e.name === place.after);
      const position = before ? before.position : anchor ? anchor.position + 1 : 0;
      await tx
        .updateTable('environments')
        .set((eb) => ({ position: eb('position', '+', 1) }))
        .where('app', '=', app)
        .where('position', '>=', position)
        .execute();
      await tx.insertInto('environments').values({ app, name, position, proxy_port: proxyPort, active_release: null, created_at: now, target }).execute();
    });
  }

  /** Deletes an environment and its history (releases, deployments, ports). */
  async deleteEnvironment(app: string, env: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const deployments = tx.selectFrom('deployments').select('id').where('app', '=', app).where('env', '=', env);
      await tx.deleteFrom('deployment_events').where('deployment', 'in', deployments).execute();
      await tx.deleteFrom('deployments').where('app', '=', app).where('env', '=', env).execute();
      await tx.deleteFrom('releases').where('app', '=', app).where('env', '=', env).execute();
      await tx.deleteFrom('component_ports').where('app', '=', app).where('env', '=', env).execute();
      await tx.deleteFrom('environments').where('app', '=', app).where('name', '=', env).execute();
    });
  }

  async componentPorts(app: string, env: string): Promise<Record<string, number>> {
    const rows = await this.db.selectFrom('component_ports').select(['component', 'port']).where('app', '=', app).where('env', '=', env).execute();
    return Object.fromEntries(rows.map((r) => [r.component, r.port]));
  }

  async addComponentPort(app: string, env: string, component: string, port: number): Promise<void> {
    await this.db
      .insertInto('component_ports')
      .values({ app, env, component, port })
      .onConflict((oc) => oc.columns(['app', 'env', 'component']).doNothing())
      .execute();
  }

  async setSettings(app: string, env: string, settings: EnvSettings): Promise<void> {
    await this.db
      .updateTable('environments')
      .set({ settings: JSON.stringify(settings) })
      .where('app', '=', app)
      .where('name', '=', env)
      .execute();
  }

  async setActiveRelease(app: string, env: string, release: string | null): Promise<void> {
    await this.db.updateTable('environments').set({ active_release: release }).where('app', '=', app).where('name', '=', env).execute();
  }
}

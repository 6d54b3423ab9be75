import type { Db } from './db.js';

export interface AppRow {
  readonly name: string;
  readonly createdAt: string;
}

export interface EnvironmentRow {
  readonly app: string;
  readonly name: string;
  readonly position: number;
  readonly proxyPort: number;
  readonly activeRelease: string | null;
  readonly createdAt: string;
}

const toEnv = (r: { app: string; name: string; position: number; proxy_port: number; active_release: string | null; created_at: string }): EnvironmentRow => ({
  app: r.app,
  name: r.name,
  position: r.position,
  proxyPort: r.proxy_port,
  activeRelease: r.active_release,
  createdAt: r.created_at,
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
        await tx.deleteFrom(table).where('deployment', 'in', tx.selectFrom('deployments').select('id').where('app', '=', name)).execute();
      }
      await tx.deleteFrom('deployments').where('app', '=', name).execute();
      await tx.deleteFrom('releases').where('app', '=', name).execute();
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

  async environment(app: string, env: string): Promise<EnvironmentRow | undefined> {
    const r = await this.db.selectFrom('environments').selectAll().where('app', '=', app).where('name', '=', env).executeTakeFirst();
    return r && toEnv(r);
  }

  async usedPorts(): Promise<Set<number>> {
    const rows = await this.db.selectFrom('environments').select('proxy_port').execute();
    return new Set(rows.map((r) => r.proxy_port));
  }

  async setActiveRelease(app: string, env: string, release: string | null): Promise<void> {
    await this.db.updateTable('environments').set({ active_release: release }).where('app', '=', app).where('name', '=', env).execute();
  }
}

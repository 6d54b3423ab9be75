import { sql } from 'kysely';
import { type Db, serialized } from './db.js';
import type { DeploymentsTable } from './schema.js';
import type { Deployment, DeploymentEvent, DeploymentKind } from '../domain/deployment.js';

export type { Deployment, DeploymentEvent, DeploymentKind };

const toDeployment = (r: DeploymentsTable): Deployment => ({
  id: r.id,
  app: r.app,
  env: r.env,
  release: r.release,
  fromRelease: r.from_release,
  kind: r.kind as DeploymentKind,
  state: r.state,
  error: r.error,
  createdBy: r.created_by,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
});

/** A unique index refused a write: SQLite's "UNIQUE constraint failed", PostgreSQL's SQLSTATE 23505. */
export const isUniqueViolation = (e: unknown) =>
  (e as { code?: unknown })?.code === '23505' || /UNIQUE constraint|duplicate key/i.test(String((e as Error)?.message));

export class DeploymentsRepo {
  constructor(private readonly db: Db) {}

  /** Inserts a pending deployment; throws a unique violation when app/env already has a live one (the lock). */
  async insert(d: Deployment, db = this.db): Promise<void> {
    await db
      .insertInto('deployments')
      .values({
        id: d.id,
        app: d.app,
        env: d.env,
        release: d.release,
        from_release: d.fromRelease,
        kind: d.kind,
        state: d.state,
        live: 1,
        error: null,
        created_by: d.createdBy,
        created_at: d.createdAt,
        finished_at: null,
      })
      .execute();
  }

  async get(id: string): Promise<Deployment | undefined> {
    const r = await this.db.selectFrom('deployments').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toDeployment(r);
  }

  async live(app: string, env: string): Promise<Deployment | undefined> {
    const r = await this.db.selectFrom('deployments').selectAll().where('app', '=', app).where('env', '=', env).where('live', '=', 1).executeTakeFirst();
    return r && toDeployment(r);
  }

  async allLive(): Promise<Deployment[]> {
    const rows = await this.db.selectFrom('deployments').selectAll().where('live', '=', 1).execute();
    return rows.map(toDeployment);
  }

  async list(app: string, env: string | undefined, limit = 20): Promise<Deployment[]> {
    let q = this.db.selectFrom('deployments').selectAll().where('app', '=', app);
    if (env) q = q.where('env', '=', env);
    const rows = await q.orderBy('created_at', 'desc').limit(limit).execute();
    return rows.map(toDeployment);
  }

  /** The last deployment that made a release active in app/env. */
  async lastSucceeded(app: string, env: string): Promise<Deployment | undefined> {
    const r = await this.db
      .selectFrom('deployments')
      .selectAll()
      .where('app', '=', app)
      .where('env', '=', env)
      .where('state', '=', 'succeeded')
      .orderBy('finished_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r && toDeployment(r);
  }

  async setRunning(id: string): Promise<void> {
    await this.db.updateTable('deployments').set({ state: 'running' }).where('id', '=', id).execute();
  }

  /** Ends a deployment and releases the app/env lock. */
  async finish(id: string, state: 'succeeded' | 'failed' | 'rolled-back', error: string | null, now: string): Promise<void> {
    await this.db.updateTable('deployments').set({ state, error, live: null, finished_at: now }).where('id', '=', id).execute();
  }

  /** A deployment that had succeeded, undone afterwards by an automatic rollback. */
  async markRolledBack(id: string, error: string): Promise<void> {
    await this.db.updateTable('deployments').set({ state: 'rolled-back', error }).where('id', '=', id).where('state', '=', 'succeeded').execute();
  }

  async appendEvent(id: string, at: string, message: string): Promise<DeploymentEvent> {
    // The next number is computed inside the INSERT, one writer of the deployment at a time: concurrent appends never collide.
    const row = await serialized(this.db, `deployment-events:${id}`, (w) =>
      w
        .insertInto('deployment_events')
        .values({ deployment: id, seq: sql<number>`(select coalesce(max(seq), 0) + 1 from deployment_events where deployment = ${id})`, at, message })
        .returning('seq')
        .executeTakeFirstOrThrow(),
    );
    return { seq: Number(row.seq), at, message };
  }

  async events(id: string): Promise<DeploymentEvent[]> {
    return this.db.selectFrom('deployment_events').select(['seq', 'at', 'message']).where('deployment', '=', id).orderBy('seq').execute();
  }
}

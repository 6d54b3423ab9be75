import { createHash } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Config } from '../domain/config.js';
import { sortConfig } from '../domain/config.js';
import type { Manifest } from '../domain/manifest.js';
import type { Release, ReleaseKind } from '../domain/release.js';
import { type Db, serialized } from './db.js';
import type { Database, ReleasesTable } from './schema.js';

type Row = ReleasesTable & { vars: string };

function toRelease(r: Row): Release {
  return Object.freeze({
    id: r.id,
    app: r.app,
    env: r.env,
    kind: r.kind as ReleaseKind,
    builds: Object.freeze(JSON.parse(r.builds) as Record<string, string>),
    config: sortConfig(JSON.parse(r.vars) as Record<string, string>),
    manifest: JSON.parse(r.manifest) as Manifest | null,
    description: r.description,
    source: r.source,
    createdBy: r.created_by,
    createdAt: r.created_at,
  });
}

const configId = (c: Config) => createHash('sha256').update(JSON.stringify(c)).digest('hex').slice(0, 32);

/** Releases are insert-only: nothing here updates or deletes one. */
export class ReleasesRepo {
  constructor(private readonly db: Db) {}

  private base(db: Db | Transaction<Database> = this.db) {
    return db.selectFrom('releases').innerJoin('configs', 'configs.id', 'releases.config_id').selectAll('releases').select('configs.vars');
  }

  async insert(release: Release, tx: Db | Transaction<Database> = this.db): Promise<void> {
    const vars = JSON.stringify(sortConfig({ ...release.config }));
    const cid = configId(JSON.parse(vars));
    await tx
      .insertInto('configs')
      .values({ id: cid, vars })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    await serialized(tx as Db, `releases:${release.app}/${release.env}`, (w) =>
      w
        .insertInto('releases')
        .values({
          id: release.id,
          app: release.app,
          env: release.env,
          // Computed inside the INSERT, one writer of app/env at a time: two releases made at once never share a number.
          seq: sql<number>`(select coalesce(max(seq), 0) + 1 from releases where app = ${release.app} and env = ${release.env})`,
          kind: release.kind,
          builds: JSON.stringify(release.builds),
          config_id: cid,
          manifest: JSON.stringify(release.manifest),
          description: release.description,
          source: release.source,
          created_by: release.createdBy,
          created_at: release.createdAt,
        })
        .execute(),
    );
  }

  async get(app: string, id: string): Promise<Release | undefined> {
    const r = await this.base().where('releases.app', '=', app).where('releases.id', '=', id).executeTakeFirst();
    return r && toRelease(r);
  }

  /** Newest first. */
  async list(app: string, env: string, limit = 20, beforeSeq?: number): Promise<Release[]> {
    let q = this.base().where('releases.app', '=', app).where('releases.env', '=', env);
    if (beforeSeq !== undefined) q = q.where('releases.seq', '<', beforeSeq);
    const rows = await q.orderBy('releases.seq', 'desc').limit(limit).execute();
    return rows.map(toRelease);
  }

  /**
   * The release `release` changed: the one its first deployment replaced (a release made while
   * another was only built or staged changed the active one, not those). When that ran nothing
   * (or it never went live), the one just before it in its environment's history (by sequence),
   * whose config was the environment's then.
   */
  async before(release: Release): Promise<Release | undefined> {
    const first = await this.db
      .selectFrom('deployments')
      .select('from_release')
      .where('release', '=', release.id)
      .where('state', 'in', ['succeeded', 'rolled-back'])
      .orderBy('created_at')
      .limit(1)
      .executeTakeFirst();
    const replaced = first?.from_release ? await this.get(release.app, first.from_release) : undefined;
    if (replaced && Object.keys(replaced.builds).length > 0) return replaced;
    const row = await this.db.selectFrom('releases').select('seq').where('id', '=', release.id).executeTakeFirst();
    if (!row) return undefined;
    return (await this.list(release.app, release.env, 1, row.seq))[0];
  }

  async mark(release: string, mark: string, actor: string, deployment: string | null, at: string): Promise<void> {
    await this.db
      .insertInto('release_marks')
      .values({ release, mark, actor, deployment, at })
      .onConflict((oc) => oc.columns(['release', 'mark']).doNothing())
      .execute();
  }

  /** Marks of these releases: release id → marks. */
  async marks(ids: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (ids.length === 0) return out;
    const rows = await this.db.selectFrom('release_marks').select(['release', 'mark']).where('release', 'in', ids).execute();
    for (const r of rows) out.set(r.release, [...(out.get(r.release) ?? []), r.mark]);
    return out;
  }

  /**
   * The release whose config is app/env's config (docs/rollbacks.md, "Which config a change uses"):
   * the active release; while the environment runs nothing, its newest release (variables set
   * before the first deploy, or kept by a rollback to empty, wait there for the next one).
   */
  async current(app: string, env: string, db: Db | Transaction<Database> = this.db): Promise<Release | undefined> {
    const e = await db.selectFrom('environments').select('active_release').where('app', '=', app).where('name', '=', env).executeTakeFirst();
    const active = e?.active_release ? await this.base(db).where('releases.id', '=', e.active_release).executeTakeFirst() : undefined;
    if (active && Object.keys(JSON.parse(active.builds) as object).length > 0) return toRelease(active);
    return this.newest(app, env, db);
  }

  /** `db`: a transaction to read in (a plan's basis is checked in the one that records its deployment). */
  async newest(app: string, env: string, db: Db | Transaction<Database> = this.db): Promise<Release | undefined> {
    const r = await this.base(db).where('releases.app', '=', app).where('releases.env', '=', env).orderBy('releases.seq', 'desc').limit(1).executeTakeFirst();
    return r && toRelease(r);
  }
}

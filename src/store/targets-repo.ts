import type { Selectable } from 'kysely';
import type { TargetKind, TargetRow } from '../domain/target.js';
import type { Db } from './db.js';
import type { TargetsTable } from './schema.js';

const toTarget = (r: Selectable<TargetsTable>): TargetRow => ({
  name: r.name,
  kind: r.kind as TargetKind,
  dockerHost: r.docker_host,
  registry: r.registry,
  edges: r.edges === null ? [] : (JSON.parse(r.edges) as string[]),
  createdBy: r.created_by,
  createdAt: r.created_at,
});

/** The targets environments may run on (`local` is none of them: it always exists). */
export class TargetsRepo {
  constructor(private readonly db: Db) {}

  async list(): Promise<TargetRow[]> {
    return (await this.db.selectFrom('targets').selectAll().orderBy('name').execute()).map(toTarget);
  }

  async get(name: string): Promise<TargetRow | undefined> {
    const r = await this.db.selectFrom('targets').selectAll().where('name', '=', name).executeTakeFirst();
    return r && toTarget(r);
  }

  async insert(t: TargetRow): Promise<void> {
    await this.db
      .insertInto('targets')
      .values({
        name: t.name,
        kind: t.kind,
        docker_host: t.dockerHost,
        registry: t.registry,
        edges: t.edges.length > 0 ? JSON.stringify(t.edges) : null,
        created_by: t.createdBy,
        created_at: t.createdAt,
      })
      .execute();
  }

  /** Deletes the target unless an environment uses it; false (and nothing deleted) when one does. */
  async delete(name: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const user = await tx.selectFrom('environments').select('app').where('target', '=', name).executeTakeFirst();
      if (user) return false;
      await tx.deleteFrom('targets').where('name', '=', name).execute();
      return true;
    });
  }

  /** The environments that run on `name`, as `app/env`. */
  async users(name: string): Promise<string[]> {
    const rows = await this.db.selectFrom('environments').select(['app', 'name']).where('target', '=', name).orderBy('app').orderBy('name').execute();
    return rows.map((r) => `${r.app}/${r.name}`);
  }
}

/**
 * `rewind store copy`: every record of one store into another, empty one (SQLite to PostgreSQL when
 * a team moves up from a laptop), then proof that both hold the same: per table, its row count and
 * a digest of its rows. Artifacts stay where they are (the data dir), as do tokens and the agent.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { type Db, isPostgres, openPostgres, openSqlite } from './db.js';
import type { Database } from './schema.js';

/** Every table, parents before the tables that refer to them. */
const TABLES = [
  'targets',
  'apps',
  'environments',
  'builds',
  'configs',
  'releases',
  'deployments',
  'deployment_events',
  'audit',
  'component_ports',
  'release_marks',
  'pipelines',
  'pipeline_runs',
  'pipeline_tasks',
  'pipeline_logs',
  'run_stories',
  'template_versions',
  'upgrades',
] as const satisfies readonly (keyof Database)[];

/** Rows per INSERT: well under PostgreSQL's 65,535 parameters for the widest table. */
const BATCH = 500;

export interface TableCopy {
  readonly table: string;
  readonly rows: number;
  readonly digest: string;
}

/** A store named as `sqlite:PATH` (a data dir or its rewind.db) or `postgres://…`. */
export async function openStoreUrl(url: string): Promise<Db> {
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url);
  if (!url.startsWith('sqlite:')) throw new Error(`a store is sqlite:PATH or postgres://…, not "${url}"`);
  const path = url.slice('sqlite:'.length);
  const dir = existsSync(path) && statSync(path).isFile() ? join(path, '..') : path;
  if (!existsSync(join(dir, 'rewind.db'))) throw new Error(`there is no rewind.db in ${dir}; sqlite: takes a data dir or its rewind.db`);
  return openSqlite(dir);
}

/**
 * Opens both stores, copies, and reads the target back: resolves each table's count and digest
 * once the target holds exactly what the source held; throws otherwise (the target's transaction
 * is then rolled back, or the mismatch is named).
 */
export async function copyStores(fromUrl: string, toUrl: string): Promise<TableCopy[]> {
  const from = await openStoreUrl(fromUrl);
  try {
    const to = await openStoreUrl(toUrl);
    try {
      const copied = await copyStore(from, to);
      const found = await describeStore(to);
      const differs = copied.find((c, i) => c.rows !== found[i].rows || c.digest !== found[i].digest);
      if (differs) throw new Error(`the copy of ${differs.table} differs from its source; the target store is not to be used`);
      return copied;
    } finally {
      await to.destroy();
    }
  } finally {
    await from.destroy();
  }
}

/** Copies every row of `from` into `to` in one transaction; refuses a `to` that holds anything. */
export async function copyStore(from: Db, to: Db): Promise<TableCopy[]> {
  for (const table of TABLES) {
    const { n } = await to
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    if (Number(n) > 0) throw new Error(`the target store is not empty (${table} has ${n} rows); copy into a new database`);
  }
  const copied: TableCopy[] = [];
  await from.transaction().execute(async (src) => {
    await to.transaction().execute(async (dst) => {
      for (const table of TABLES) {
        const rows = await src.selectFrom(table).selectAll().execute();
        // Rows of the same table, read from the same schema (TypeScript cannot follow the table through the loop).
        for (let i = 0; i < rows.length; i += BATCH)
          await dst
            .insertInto(table)
            .values(rows.slice(i, i + BATCH) as never)
            .execute();
        copied.push({ table, rows: rows.length, digest: digestOf(rows) });
      }
      // The audit id counts on from the copied ones.
      if (isPostgres(dst)) await sql`select setval(pg_get_serial_sequence('audit', 'id'), coalesce((select max(id) from audit), 0) + 1, false)`.execute(dst);
    });
  });
  return copied;
}

/** Each table's row count and digest in `db`, to compare with what was copied. */
export async function describeStore(db: Db): Promise<TableCopy[]> {
  const out: TableCopy[] = [];
  for (const table of TABLES) {
    const rows = await db.selectFrom(table).selectAll().execute();
    out.push({ table, rows: rows.length, digest: digestOf(rows) });
  }
  return out;
}

/** The same rows give the same digest in any order and on either database. */
function digestOf(rows: readonly object[]): string {
  const lines = rows.map((r) =>
    JSON.stringify(
      Object.entries(r)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, v === null ? null : String(v)]),
    ),
  );
  lines.sort();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(`${line}\n`);
  return hash.digest('hex');
}

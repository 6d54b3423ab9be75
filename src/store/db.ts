import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { isPostgres } from './dialect.js';
import { migrationProvider } from './migrations.js';

export { isPostgres };

export type Db = Kysely<Database>;

/** Connections each server keeps to PostgreSQL. */
const PG_POOL_SIZE = 10;

/** Opens the PostgreSQL store at `url` (`postgres://…`) and applies pending migrations (several servers may do it at once). */
export async function openPostgres(url: string): Promise<Db> {
  const pool = new pg.Pool({ connectionString: url, max: PG_POOL_SIZE });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrate(db);
  } catch (e) {
    await db.destroy();
    throw e;
  }
  return db;
}

/**
 * Runs `write` so that no other writer of the same `scope` runs between its statements: what
 * numbers rows `max(seq) + 1` needs. SQLite has one writer at a time already; on PostgreSQL it
 * takes a transaction-scoped advisory lock on the scope (in `db` when it is a transaction, else in
 * one of its own), so a later statement sees every number committed before it.
 */
export async function serialized<T>(db: Db, scope: string, write: (tx: Db) => Promise<T>): Promise<T> {
  if (!isPostgres(db)) return write(db);
  const locked = async (tx: Db) => {
    await sql`select pg_advisory_xact_lock(hashtextextended(${scope}, 0))`.execute(tx);
    return write(tx);
  };
  return db.isTransaction ? locked(db) : db.transaction().execute(locked);
}

/** Opens (creating if needed) the SQLite store in dataDir, in WAL mode, and applies pending migrations. */
export async function openSqlite(dataDir: string): Promise<Db> {
  mkdirSync(dataDir, { recursive: true });
  const sqlite = new SQLite(join(dataDir, 'rewind.db'));
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  await migrate(db);
  return db;
}

/** Statements kept at most; the store's queries are a few hundred distinct texts. */
const STATEMENT_CACHE_SIZE = 1000;

/**
 * better-sqlite3 as Kysely's dialect wants it, but preparing each distinct SQL text once: Kysely
 * prepares a statement on every query, which costs as much as running it. A statement still busy
 * (a streamed select being iterated) is not shared: that call gets a fresh one.
 */
export function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      const cached = cache.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = sqlite.prepare(sql);
      if (!cached) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.clear();
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

export async function migrate(db: Db): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
  }
}

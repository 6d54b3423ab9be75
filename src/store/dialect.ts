import { type Kysely, PostgresAdapter } from 'kysely';

/** True for a Kysely (or one of its transactions) on PostgreSQL; else it is SQLite. */
// biome-ignore lint/suspicious/noExplicitAny: a migration's Kysely has no schema
export const isPostgres = (db: Kysely<any>): boolean => db.getExecutor().adapter instanceof PostgresAdapter;

/**
 * PostgreSQL databases for tests: one migrated template per test file, and a fresh database cloned
 * from it for each test (a clone takes ~0.1 s). The server is REWIND_TEST_POSTGRES_URL, by default
 * the one these machines run (127.0.0.1:5432, trust auth). Without a server the suites that need one
 * are skipped, except in CI (CI=true), where they fail.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgres } from '../../src/store/db.js';

export const POSTGRES_ADMIN_URL = process.env.REWIND_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The URL of database `name` on the test server. */
export function databaseUrl(name: string): string {
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Whether the test server answers; in CI a server that does not is an error, not a skip. */
export async function postgresAvailable(): Promise<boolean> {
  try {
    await admin((c) => c.query('select 1'));
    return true;
  } catch (e) {
    if (process.env.CI === 'true') throw new Error(`CI needs PostgreSQL at ${POSTGRES_ADMIN_URL}: ${(e as Error).message}`);
    return false;
  }
}

async function admin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const unique = (prefix: string) => `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;

/** A migrated template database, and clones of it; drop() removes the template and every clone still there. */
export class PostgresDatabases {
  private readonly clones = new Set<string>();
  private constructor(readonly template: string) {}

  static async create(): Promise<PostgresDatabases> {
    const template = unique('rewind_tpl');
    await admin((c) => c.query(`create database ${template}`));
    const db = await openPostgres(databaseUrl(template));
    await db.destroy();
    return new PostgresDatabases(template);
  }

  /** A new database with the template's (migrated, empty) schema; resolves its URL. */
  async clone(): Promise<string> {
    const name = unique('rewind_test');
    await admin((c) => c.query(`create database ${name} template ${this.template}`));
    this.clones.add(name);
    return databaseUrl(name);
  }

  async dropClone(url: string): Promise<void> {
    const name = new URL(url).pathname.slice(1);
    if (!this.clones.delete(name)) return;
    await admin((c) => dropDatabase(c, name));
  }

  async drop(): Promise<void> {
    const names = [...this.clones, this.template];
    this.clones.clear();
    await admin(async (c) => {
      for (const name of names) await dropDatabase(c, name);
    });
  }
}

/**
 * Drops a database once its connections are gone. A closed pg pool resolves before its sockets
 * have closed, and a forced drop would end those with an error nobody listens to; force is only
 * for what is still connected after a few seconds.
 */
async function dropDatabase(c: pg.Client, name: string): Promise<void> {
  for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    const { rows } = await c.query<{ n: string }>('select count(*) as n from pg_stat_activity where datname = $1', [name]);
    if (Number(rows[0].n) === 0) break;
  }
  await c.query(`drop database if exists ${name} with (force)`);
}

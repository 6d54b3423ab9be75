/** The Store contract, run against each database adapter: adding one is one more line. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it } from 'vitest';
import { openPostgres } from '../../src/store/db.js';
import { Store } from '../../src/store/store.js';
import { POSTGRES_ADMIN_URL, PostgresDatabases, postgresAvailable } from '../support/postgres.js';
import { describeStore } from './store-contract.js';

describeStore('SQLite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rewind-store-'));
  const store = await Store.openSqlite(dir);
  return {
    store,
    async dispose() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

if (await postgresAvailable()) {
  let databases: Promise<PostgresDatabases> | undefined;
  afterAll(async () => {
    await (await databases)?.drop();
  });
  describeStore('PostgreSQL', async () => {
    databases ??= PostgresDatabases.create();
    const dbs = await databases;
    const url = await dbs.clone();
    const store = new Store(await openPostgres(url));
    return {
      store,
      async dispose() {
        await store.close();
        await dbs.dropClone(url);
      },
    };
  });
} else {
  describe(`Store contract (PostgreSQL): no server at ${POSTGRES_ADMIN_URL}`, () => {
    it.skip('runs where PostgreSQL answers (and always in CI)', () => {});
  });
}

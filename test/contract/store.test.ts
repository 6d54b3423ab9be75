/** The Store contract, run against each database adapter: adding one is one more line. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/store/store.js';
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

/**
 * The audit log is written in the same transaction as the change it records: a release (or a
 * deployment) and its entry exist together or not at all, and listeners hear of it after commit.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { makeRelease } from '../../src/domain/release.js';
import { Store } from '../../src/store/store.js';

let dir: string;
let store: Store;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rewind-audit-'));
  store = await Store.openSqlite(dir);
  await store.apps.create('shop', { name: 'production', proxyPort: 4100 }, new Date().toISOString());
});

afterEach(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const release = () =>
  makeRelease({ app: 'shop', env: 'production', kind: 'env', builds: {}, config: { A: '1' }, manifest: null, description: 'env change:A', source: null, createdBy: 'ann' });

it('announces an entry only once its transaction has committed, and a rolled-back one leaves neither the release nor its entry', async () => {
  const heard: string[] = [];
  store.audit.onRecord((e) => heard.push(`${e.action} ${e.subject}`));

  const kept = release();
  const entry = { actor: 'ann', action: 'release.create', app: 'shop', env: 'production', subject: kept.id };
  await store.db.transaction().execute(async (tx) => {
    await store.releases.insert(kept, tx);
    await store.audit.insert(entry, kept.createdAt, tx);
    expect(heard).toEqual([]);
  });
  store.audit.announce(entry, kept.createdAt);
  expect(heard).toEqual([`release.create ${kept.id}`]);

  const lost = release();
  await expect(
    store.db.transaction().execute(async (tx) => {
      await store.releases.insert(lost, tx);
      await store.audit.insert({ ...entry, subject: lost.id }, lost.createdAt, tx);
      throw new Error('the deployment row could not be written');
    }),
  ).rejects.toThrow('could not be written');
  expect((await store.releases.list('shop', 'production', 10)).map((r) => r.id)).toEqual([kept.id]);
  expect((await store.audit.list({ app: 'shop' })).map((e) => e.subject)).toEqual([kept.id]);
  expect(heard).toHaveLength(1);
});

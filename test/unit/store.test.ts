import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { makeRelease } from '../../src/domain/release.js';
import { withStatementCache } from '../../src/store/db.js';
import { Store } from '../../src/store/store.js';

describe('store (SQLite)', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rewind-store-'));
    store = await Store.openSqlite(dir);
    await store.apps.create('shop', { name: 'production', proxyPort: 40001 }, new Date().toISOString());
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const release = (description: string) =>
    makeRelease({ app: 'shop', env: 'production', kind: 'env', builds: {}, config: { N: description }, manifest: null, description, source: null, createdBy: 'test' });

  it('numbers releases made at the same time without collisions, and lists them newest first', async () => {
    const made = Array.from({ length: 40 }, (_, i) => release(`r${i}`));
    await Promise.all(made.map((r) => store.releases.insert(r)));
    const listed = await store.releases.list('shop', 'production', 100);
    expect(listed).toHaveLength(40);
    expect(new Set(listed.map((r) => r.id))).toEqual(new Set(made.map((r) => r.id)));
    const page = await store.releases.list('shop', 'production', 10);
    expect(page.map((r) => r.id)).toEqual(listed.slice(0, 10).map((r) => r.id));
  });

  it('appends deployment events concurrently, each with its own number', async () => {
    const r = release('x');
    await store.releases.insert(r);
    await store.deployments.insert({
      id: 'DAAAAAAAAAA', app: 'shop', env: 'production', release: r.id, fromRelease: null, kind: 'deploy', state: 'pending', error: null, createdBy: 't', createdAt: new Date().toISOString(), finishedAt: null,
    });
    const events = await Promise.all(Array.from({ length: 30 }, (_, i) => store.deployments.appendEvent('DAAAAAAAAAA', new Date().toISOString(), `e${i}`)));
    expect(new Set(events.map((e) => e.seq)).size).toBe(30);
    expect((await store.deployments.events('DAAAAAAAAAA')).map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
  });

  it('a second live deployment of the same app/env is refused by the lock index', async () => {
    const r = release('y');
    await store.releases.insert(r);
    const d = (id: string) => ({ id, app: 'shop', env: 'production', release: r.id, fromRelease: null, kind: 'deploy' as const, state: 'pending' as const, error: null, createdBy: 't', createdAt: new Date().toISOString(), finishedAt: null });
    await store.deployments.insert(d('DAAAAAAAAAA'));
    await expect(store.deployments.insert(d('DBBBBBBBBBB'))).rejects.toThrow(/UNIQUE/);
    await store.deployments.finish('DAAAAAAAAAA', 'succeeded', null, new Date().toISOString());
    await expect(store.deployments.insert(d('DBBBBBBBBBB'))).resolves.toBeUndefined();
  });

  it('stores config once per distinct set of variables', async () => {
    await store.releases.insert(release('same'));
    await store.releases.insert(makeRelease({ ...release('same'), description: 'again' }));
    const rows = await store.db.selectFrom('configs').selectAll().execute();
    expect(rows).toHaveLength(1);
  });

  // The audit log is written in the same transaction as the change it records.
  it('announces an entry only once its transaction has committed, and a rolled-back one leaves neither the release nor its entry', async () => {
    const heard: string[] = [];
    store.audit.onRecord((e) => heard.push(`${e.action} ${e.subject}`));

    const kept = release('kept');
    const entry = { actor: 'ann', action: 'release.create', app: 'shop', env: 'production', subject: kept.id };
    await store.db.transaction().execute(async (tx) => {
      await store.releases.insert(kept, tx);
      await store.audit.insert(entry, kept.createdAt, tx);
      expect(heard).toEqual([]);
    });
    store.audit.announce(entry, kept.createdAt);
    expect(heard).toEqual([`release.create ${kept.id}`]);

    const lost = release('lost');
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
});

describe('statement cache', () => {
  it('prepares each SQL text once, and gives a busy statement (a select being iterated) no second user', () => {
    const sqlite = new SQLite(':memory:');
    try {
      const db = withStatementCache(sqlite);
      sqlite.exec('CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2)');
      const select = db.prepare('SELECT n FROM t ORDER BY n');
      expect(db.prepare('SELECT n FROM t ORDER BY n')).toBe(select);
      const rows = select.iterate([]);
      expect(rows.next().value).toEqual({ n: 1 });
      const meanwhile = db.prepare('SELECT n FROM t ORDER BY n');
      expect(meanwhile).not.toBe(select);
      expect(meanwhile.all([])).toEqual([{ n: 1 }, { n: 2 }]);
      expect(rows.next().value).toEqual({ n: 2 });
      expect(rows.next().done).toBe(true);
      expect(db.prepare('SELECT n FROM t ORDER BY n')).toBe(select);
    } finally {
      sqlite.close();
    }
  });
});

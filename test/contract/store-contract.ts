/**
 * The `Store` contract: what every database behind the repositories must do. `describeStore` runs
 * it against one adapter; test/contract/store.test.ts lists the adapters (SQLite today; another
 * one, e.g. PostgreSQL, is one more `describeStore(...)` line there).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeRelease } from '../../src/domain/release.js';
import { isUniqueViolation } from '../../src/store/deployments-repo.js';
import type { Store } from '../../src/store/store.js';

/** An open, empty, migrated store, and how to throw it away. */
export interface StoreUnderTest {
  readonly store: Store;
  dispose(): Promise<void>;
}

export function describeStore(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describe(`Store contract (${name})`, () => {
    let made: StoreUnderTest;
    let store: Store;
    beforeEach(async () => {
      made = await makeStore();
      store = made.store;
      await store.apps.create('shop', { name: 'production', proxyPort: 40001 }, new Date().toISOString());
    });
    afterEach(async () => {
      await made.dispose();
    });

    const release = (description: string, env = 'production') =>
      makeRelease({ app: 'shop', env, kind: 'env', builds: {}, config: { N: description }, manifest: null, description, source: null, createdBy: 'test' });
    const deployment = (id: string, releaseId: string, env = 'production') => ({
      id,
      app: 'shop',
      env,
      release: releaseId,
      fromRelease: null,
      kind: 'deploy' as const,
      state: 'pending' as const,
      error: null,
      createdBy: 't',
      createdAt: new Date().toISOString(),
      finishedAt: null,
    });

    it('creates apps with their first environment, adds environments in order, and deletes them', async () => {
      expect((await store.apps.list()).map((a) => a.name)).toEqual(['shop']);
      await store.apps.createEnvironment('shop', 'staging', { before: 'production' }, 40002, new Date().toISOString());
      expect((await store.apps.environments('shop')).map((e) => [e.name, e.proxyPort, e.activeRelease])).toEqual([
        ['staging', 40002, null],
        ['production', 40001, null],
      ]);
      expect([...(await store.apps.usedPorts())].sort()).toEqual([40001, 40002]);
      await store.apps.deleteEnvironment('shop', 'staging');
      expect(await store.apps.environment('shop', 'staging')).toBeUndefined();
      await store.apps.delete('shop');
      expect(await store.apps.get('shop')).toBeUndefined();
    });

    it('numbers releases made at the same time without collisions, and lists them newest first', async () => {
      const made = Array.from({ length: 40 }, (_, i) => release(`r${i}`));
      await Promise.all(made.map((r) => store.releases.insert(r)));
      const listed = await store.releases.list('shop', 'production', 100);
      expect(listed).toHaveLength(40);
      expect(new Set(listed.map((r) => r.id))).toEqual(new Set(made.map((r) => r.id)));
      const page = await store.releases.list('shop', 'production', 10);
      expect(page.map((r) => r.id)).toEqual(listed.slice(0, 10).map((r) => r.id));
    });

    it("records the environment's active release, and marks a release once per mark (rolledBackBy)", async () => {
      const [one, two] = [release('one'), release('two')];
      await store.releases.insert(one);
      await store.releases.insert(two);
      await store.apps.setActiveRelease('shop', 'production', one.id);
      expect((await store.apps.environment('shop', 'production'))?.activeRelease).toBe(one.id);
      expect((await store.releases.before(two))?.id).toBe(one.id);
      expect((await store.releases.newest('shop', 'production'))?.id).toBe(two.id);
      const at = new Date().toISOString();
      await store.releases.mark(two.id, `rolledBackBy:${one.id}`, 'ann', null, at);
      await store.releases.mark(two.id, `rolledBackBy:${one.id}`, 'ann', null, at);
      expect(await store.releases.marks([one.id, two.id])).toEqual(new Map([[two.id, [`rolledBackBy:${one.id}`]]]));
    });

    it('appends deployment events concurrently, each with its own number', async () => {
      const r = release('x');
      await store.releases.insert(r);
      await store.deployments.insert(deployment('DAAAAAAAAAA', r.id));
      const events = await Promise.all(Array.from({ length: 30 }, (_, i) => store.deployments.appendEvent('DAAAAAAAAAA', new Date().toISOString(), `e${i}`)));
      expect(new Set(events.map((e) => e.seq)).size).toBe(30);
      expect((await store.deployments.events('DAAAAAAAAAA')).map((e) => e.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    });

    it('a second live deployment of the same app/env is refused by the lock index', async () => {
      const r = release('y');
      await store.releases.insert(r);
      await store.deployments.insert(deployment('DAAAAAAAAAA', r.id));
      expect((await store.deployments.live('shop', 'production'))?.id).toBe('DAAAAAAAAAA');
      const refused = await store.deployments.insert(deployment('DBBBBBBBBBB', r.id)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isUniqueViolation(refused), String(refused)).toBe(true);
      await store.deployments.finish('DAAAAAAAAAA', 'succeeded', null, new Date().toISOString());
      expect(await store.deployments.live('shop', 'production')).toBeUndefined();
      await expect(store.deployments.insert(deployment('DBBBBBBBBBB', r.id))).resolves.toBeUndefined();
      expect((await store.deployments.allLive()).map((d) => d.id)).toEqual(['DBBBBBBBBBB']);
    });

    it("keeps a deploy build's slugs while it runs, then its deployment or why there is none", async () => {
      const build = (id: string) => ({
        id,
        app: 'shop',
        env: 'production',
        status: 'running' as const,
        description: id,
        manifest: { components: {} },
        sourceSha256: 's',
        components: ['web'],
        artifacts: {},
        sourceHashes: { web: 'h' },
        release: null,
        error: null,
        deploy: true,
        createdBy: 't',
        createdAt: new Date().toISOString(),
        finishedAt: null,
      });
      await store.builds.insert(build('BAAAAAAAAAA'));
      await store.builds.insert(build('BBBBBBBBBBB'));
      await store.builds.storeSlugs('BAAAAAAAAAA', { web: 'sha-a' }, { web: 'BAAAAAAAAAA' });
      const running = await store.builds.byId('BAAAAAAAAAA');
      expect([running?.status, running?.deploy, running?.artifacts, running?.uses]).toEqual(['running', true, { web: 'sha-a' }, { web: 'BAAAAAAAAAA' }]);
      const now = new Date().toISOString();
      await store.builds.finish(
        'BAAAAAAAAAA',
        { status: 'succeeded', artifacts: { web: 'sha-a' }, release: 'RAAAAAAAAAA', deployment: 'DAAAAAAAAAA', logs: '' },
        now,
      );
      await store.builds.finish('BBBBBBBBBBB', { status: 'succeeded', release: 'RBBBBBBBBBB', deployError: 'busy', logs: '' }, now);
      const [a, b] = [await store.builds.byId('BAAAAAAAAAA'), await store.builds.byId('BBBBBBBBBBB')];
      expect([a?.deployment, a?.deployError, b?.deployment, b?.deployError]).toEqual(['DAAAAAAAAAA', null, null, 'busy']);
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
      expect(await store.audit.has('release.create', kept.id)).toBe(true);
    });

    it('saves, lists and deletes pipeline definitions', async () => {
      const def = { name: 'ship', tasks: [{ kind: 'deploy', name: 'prod', env: 'production' }] } as unknown as Parameters<
        Store['pipelines']['saveDefinition']
      >[1];
      await store.pipelines.saveDefinition('shop', def, 'api', new Date().toISOString());
      expect(await store.pipelines.definition('shop', 'ship')).toEqual(def);
      expect((await store.pipelines.definitions('shop')).map((d) => [d.def.name, d.source])).toEqual([['ship', 'api']]);
      await store.pipelines.deleteDefinition('shop', 'ship');
      expect(await store.pipelines.definition('shop', 'ship')).toBeUndefined();
    });

    it('keeps targets, the target of each environment (local by default), and refuses to delete a target in use', async () => {
      expect(await store.targets.list()).toEqual([]);
      expect((await store.apps.environment('shop', 'production'))?.target).toBe('local');
      const lab = {
        name: 'lab',
        kind: 'swarm' as const,
        dockerHost: 'unix:///run/lab/docker.sock',
        registry: '127.0.0.1:5000',
        edges: ['http://127.0.0.1:7000'],
        createdBy: 'ann',
        createdAt: new Date().toISOString(),
      };
      await store.targets.insert(lab);
      await store.targets.insert({ ...lab, name: 'bare', registry: null, edges: [] });
      expect(await store.targets.get('lab')).toEqual(lab);
      expect((await store.targets.list()).map((t) => [t.name, t.registry, t.edges])).toEqual([
        ['bare', null, []],
        ['lab', '127.0.0.1:5000', ['http://127.0.0.1:7000']],
      ]);
      await store.apps.createEnvironment('shop', 'prod', {}, 40003, new Date().toISOString(), 'lab');
      expect((await store.apps.environment('shop', 'prod'))?.target).toBe('lab');
      expect(await store.targets.users('lab')).toEqual(['shop/prod']);
      expect(await store.targets.users('local')).toEqual(['shop/production']);
      expect(await store.targets.delete('lab')).toBe(false);
      expect(await store.targets.get('lab')).toEqual(lab);
      await store.apps.deleteEnvironment('shop', 'prod');
      expect(await store.targets.delete('lab')).toBe(true);
      expect((await store.targets.list()).map((t) => t.name)).toEqual(['bare']);
    });

    it('lists no template versions in an empty store', async () => {
      expect(await store.templates.versions()).toEqual([]);
      expect(await store.templates.upgrades('shop', 'production')).toEqual([]);
    });
  });
}

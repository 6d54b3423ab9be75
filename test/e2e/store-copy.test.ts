import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_ADMIN_URL, PostgresDatabases, postgresAvailable } from '../support/postgres.js';
import { body, helloApp, releaseIdIn, useDirs, useRewind } from './harness.js';

// Moving up from a laptop: `rewind store copy --from sqlite:DATA --to postgres://…` copies every
// record and checks each table; a server started on PostgreSQL with the same data dir then serves
// the same history, and what runs keeps running.
describe.runIf(await postgresAvailable())(`rewind store copy, SQLite to PostgreSQL (${POSTGRES_ADMIN_URL})`, () => {
  const rw = useRewind();
  const dirs = useDirs();
  let databases: PostgresDatabases;
  beforeAll(async () => {
    databases = await PostgresDatabases.create();
  });
  afterAll(async () => {
    await databases?.drop();
  });

  it('copies an installation, refuses a store that is not empty, and the server on PostgreSQL serves the same history', async () => {
    await rw.ok(['apps', 'create', 'hello']);
    const [v1, v2] = [await helloApp('v1'), await helloApp('v2')];
    dirs.push(v1, v2);
    const r1 = releaseIdIn((await rw.ok(['deploy', v1, '-a', 'hello'])).stdout);
    await rw.ok(['deploy', v2, '-a', 'hello']);
    await rw.ok(['env', 'set', 'GREETING=moved', '-a', 'hello']);
    await rw.ok(['releases', 'rollback', r1!, '-a', 'hello', '--yes']);
    const url = await rw.appUrl('hello');
    const served = await body(url);
    const releases = async () => (await rw.api<unknown[]>('/api/apps/hello/releases?env=production&limit=100')).body;
    const audit = async () => (await rw.api<unknown[]>('/api/audit?limit=500')).body;
    const [before, auditBefore] = [await releases(), await audit()];

    const to = await databases.clone();
    const copy = await rw.ok(['store', 'copy', '--from', `sqlite:${rw.dataDir}`, '--to', to]);
    expect(copy.stdout).toMatch(/^Copying sqlite:\S+ to postgres:\/\/\S+\.\.\. OK\n/);
    expect(copy.stdout).toMatch(/^releases\s+[1-9]\d*$/m);
    expect(copy.stdout).toMatch(/OK: \d+ rows in 18 tables, each one's count and digest the same in both stores/);

    const again = await rw.cli(['store', 'copy', '--from', `sqlite:${rw.dataDir}`, '--to', to]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: the target store is not empty \(apps has 1 rows\); copy into a new database\n$/);
    const bad = await rw.cli(['store', 'copy', '--from', 'mysql://u:secret@h/db', '--to', to]);
    expect([bad.code, bad.stderr]).toEqual([1, 'error: --from must be sqlite:PATH or postgres://USER@HOST:PORT/DB, not "mysql://u:****@h/db"\n']);

    await rw.restartServer({ REWIND_DATABASE_URL: to });
    expect(await releases()).toEqual(before);
    expect((await audit()).slice(0, auditBefore.length)).toEqual(auditBefore);
    expect(await body(url)).toBe(served);
    // New records continue the history.
    await rw.ok(['env', 'set', 'AFTER=1', '-a', 'hello']);
    expect((await releases()).length).toBe(before.length + 1);
  });
});

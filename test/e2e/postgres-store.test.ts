import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_ADMIN_URL, PostgresDatabases, postgresAvailable } from '../support/postgres.js';
import { Rewind, body, helloApp, releaseIdIn, useDirs } from './harness.js';

// `rewind server --database postgres://…` (or REWIND_DATABASE_URL): the same server, its store in
// PostgreSQL instead of SQLite in the data dir. A server started again on the database serves the
// same history.
describe.runIf(await postgresAvailable())(`rewind server on PostgreSQL (${POSTGRES_ADMIN_URL})`, () => {
  let databases: PostgresDatabases;
  let url: string;
  let rw: Rewind;
  const dirs = useDirs();

  beforeAll(async () => {
    databases = await PostgresDatabases.create();
    url = await databases.clone();
    rw = await Rewind.start({ REWIND_DATABASE_URL: url });
  });
  afterAll(async () => {
    await rw?.stop();
    await databases?.drop();
  });

  it('deploys, rolls back, and after a restart serves the same releases from the database', async () => {
    await rw.ok(['apps', 'create', 'hello']);
    const v1 = await helloApp('v1');
    const v2 = await helloApp('v2');
    dirs.push(v1, v2);
    const r1 = releaseIdIn((await rw.ok(['deploy', v1, '-a', 'hello'])).stdout);
    const r2 = releaseIdIn((await rw.ok(['deploy', v2, '-a', 'hello'])).stdout);
    expect(await body(await rw.appUrl('hello'))).toContain('from v2');
    await rw.ok(['releases', 'rollback', '-a', 'hello', '--yes']);
    expect(await body(await rw.appUrl('hello'))).toContain('from v1');
    expect(existsSync(join(rw.dataDir, 'rewind.db'))).toBe(false);

    const before = (await rw.api<Array<{ id: string; status: string }>>('/api/apps/hello/releases?env=production')).body;
    await rw.killServer('SIGKILL');
    await rw.startServer();
    const after = (await rw.api<Array<{ id: string; status: string }>>('/api/apps/hello/releases?env=production')).body;
    expect(after).toEqual(before);
    expect(after.map((r) => r.id)).toEqual(expect.arrayContaining([r1, r2]));
    expect(await body(await rw.appUrl('hello'))).toContain('from v1');
  });

  it('refuses a --database that is not a PostgreSQL URL, or one it cannot reach, in one line without the password', async () => {
    const notPg = await rw.cli(['server', '--port', '0', '--data', join(rw.dataDir, 'other'), '--database', 'mysql://u:hunter2@h/db']);
    expect([notPg.code, notPg.stderr]).toEqual([
      1,
      'error: --database (REWIND_DATABASE_URL) must be a PostgreSQL URL such as postgres://rewind@127.0.0.1:5432/rewind, not mysql://…\n',
    ]);
    const noDb = await rw.cli(['server', '--port', '0', '--data', join(rw.dataDir, 'other'), '--database', 'postgres://u:hunter2@127.0.0.1:5432']);
    expect(noDb.stderr).toMatch(/^error: .*names no database/);
    const unreachable = await rw.cli(['server', '--port', '0', '--data', join(rw.dataDir, 'other'), '--database', 'postgres://u:hunter2@127.0.0.1:1/rewind']);
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toMatch(/^error: cannot open the PostgreSQL store at postgres:\/\/u:\*\*\*\*@127\.0\.0\.1:1\/rewind: .*ECONNREFUSED.*\n$/);
    expect(unreachable.stderr + unreachable.stdout).not.toContain('hunter2');
  });
});

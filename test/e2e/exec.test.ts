/**
 * `rewind exec`: a one-off command in the active release (like `heroku run`, `convox run`,
 * `kamal app exec`), through the real CLI, server and agent.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/agent/proc-info.js';
import { fixtureApp, startExec, useDirs, useRewind } from './harness.js';

describe('rewind exec', () => {
  const rw = useRewind();
  const dirs = useDirs();
  beforeAll(async () => {
    const dir = await fixtureApp({
      version: 'v1',
      manifest: 'components:\n  web:\n    command: node server.js\n    health: /health\n  worker:\n    command: node worker.js\n    port: false\n',
      files: {
        'worker.js': 'setInterval(() => {}, 1000);\n',
        'migrate.js': 'console.log("migrated " + process.argv[2] + " with " + process.env.DATABASE_URL);\n',
      },
    });
    dirs.push(dir);
    expect((await rw.cli(['apps', 'create', 'shop'])).code).toBe(0);
    expect((await rw.cli(['apps', 'create', 'empty'])).code).toBe(0);
    const deployed = await rw.cli(['deploy', dir, '-a', 'shop']);
    expect(deployed.code, deployed.stderr).toBe(0);
    const set = await rw.cli(['env', 'set', 'DATABASE_URL=postgres://db/shop', '-a', 'shop']);
    expect(set.code, set.stderr).toBe(0);
  }, 60_000);

  it("runs in the release's files with its config, keeps stdout and stderr apart, and exits with the command's status", async () => {
    const ok = await rw.cli(['exec', '-a', 'shop', '--', 'node', 'migrate.js', '--to-latest']);
    expect(ok).toMatchObject({ code: 0, stdout: 'migrated --to-latest with postgres://db/shop\n', stderr: '' });

    const both = await rw.cli(['exec', '-a', 'shop', '-c', 'worker', 'echo "$REWIND_COMPONENT $REWIND_INSTANCE port=${PORT:-none}"; echo oops >&2; exit 3']);
    expect(both.code).toBe(3);
    expect(both.stdout).toMatch(/^worker worker\.run[0-9a-f]{6} port=none\n$/);
    expect(both.stderr).toBe('oops\n');

    const killed = await rw.cli(['exec', '-a', 'shop', '--', 'kill -9 $$']);
    expect(killed.code).toBe(137);

    // Who ran what, in the audit log; and in the app's log.
    const audit = (await rw.api<Array<{ action: string; actor: string; detail: { command: string; component: string | null } }>>('/api/audit?app=shop')).body;
    expect(audit.filter((a) => a.action === 'exec').map((a) => a.detail)).toEqual([
      { command: 'kill -9 $$', component: null },
      { command: 'echo "$REWIND_COMPONENT $REWIND_INSTANCE port=${PORT:-none}"; echo oops >&2; exit 3', component: 'worker' },
      { command: 'node migrate.js --to-latest', component: null },
    ]);
    const logs = await rw.cli(['logs', '-a', 'shop', '--lines', '50']);
    expect(logs.stdout).toMatch(/exec by \S+ in web\.run[0-9a-f]{6} of R[A-Z]{10} \(pid \d+\): node migrate\.js --to-latest/);
  });

  it('refuses, with one line and nothing run, an unknown component, an app that runs nothing, and an unknown environment', async () => {
    const component = await rw.cli(['exec', '-a', 'shop', '-c', 'nope', '--', 'true']);
    expect(component.code).not.toBe(0);
    expect(component.stderr).toMatch(/^error: R[A-Z]{10} has no component nope; its components are web, worker\n$/);
    const empty = await rw.cli(['exec', '-a', 'empty', '--', 'true']);
    expect(empty.stderr).toBe('error: empty/production runs no release; deploy one first with "rewind deploy -a empty"\n');
    const env = await rw.cli(['exec', '-a', 'shop', '-e', 'staging', '--', 'true']);
    expect(env.stderr).toBe('error: environment "staging" does not exist in app "shop"; see "rewind envs -a shop"\n');
    const blank = await rw.api('/api/apps/shop/exec', { method: 'POST', body: JSON.stringify({ command: '' }) });
    expect(blank.status).toBe(400);
    const audit = (await rw.api<Array<{ action: string; detail: { command: string } }>>('/api/audit?app=shop')).body;
    expect(audit.filter((a) => a.action === 'exec' && a.detail.command === 'true')).toEqual([]);
  });

  it('stops the command, and everything it started, when the caller goes away', async () => {
    const run = await startExec(rw.url, 'shop', 'sleep 60 & echo $!; wait', rw.authHeaders);
    const pids = [run.started.pid, Number((await run.output()).trim())];
    expect(pids.every((pid) => isAlive(pid))).toBe(true);
    run.hangUp();
    const deadline = Date.now() + 10_000;
    while (pids.some((pid) => isAlive(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(pids.filter((pid) => isAlive(pid))).toEqual([]);
    const logs = await rw.cli(['logs', '-a', 'shop', '--lines', '20']);
    expect(logs.stdout).toMatch(/exec web\.run[0-9a-f]{6} stopped \(the caller left\): was killed by SIGTERM/);
  });
});

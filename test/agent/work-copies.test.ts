/**
 * What runs is exactly the build (issue 10 item 5): every instance runs in its own working copy
 * of its build's files, made fresh at each start from the pristine slug (checked against the
 * slug's manifest of hashes). A hand edit or a write in one instance's folder never reaches a later
 * start, another environment or another app; the copies of stopped instances are removed.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort, isAlive } from '../../src/agent/proc-info.js';
import type { DesiredState } from '../../src/protocol/agent-protocol.js';
import type { Artifact } from './helpers.js';
import { deploy, desiredState, get, packApp, useAgent, waitFor, web } from './helpers.js';

// A json-server-like app: POST /notes appends the body to notes.txt in its folder, GET returns it.
const NOTES = `import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
createServer((req, res) => {
  if (req.method === 'POST') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => { appendFileSync('notes.txt', body + '\\n'); res.end('saved\\n'); });
    return;
  }
  if (req.url === '/cwd') return res.end(process.cwd());
  res.end(existsSync('notes.txt') ? readFileSync('notes.txt', 'utf8') : 'no notes\\n');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const a = useAgent();
/** A second agent, restarted by the last test. */
const b = useAgent();
let notes: Artifact;

beforeAll(async () => {
  notes = await packApp('notes', { 'notes.js': NOTES });
});

const cold = { standby: { keepMs: 0, count: 0 } };
const cwdOf = async (port: number) => (JSON.parse((await get(port, '/env')).body) as { cwd: string }).cwd;
const notesApp = (release: string, port: number, app: string, env = 'production'): DesiredState => ({
  ...desiredState(release, port, [web(notes, { command: 'exec node notes.js', health: { timeoutMs: 5000, intervalMs: 50 } })], {}, app),
  env,
});

describe('working copies', () => {
  it('a rollback to an old build runs its pristine files, though the live copy was edited by hand', async () => {
    const port = await freePort();
    await deploy(a.agent, { ...desiredState('RONE', port, [web(a.v1)], {}, 'edit'), ...cold });
    const cwd = await cwdOf(port);
    expect(cwd).not.toBe(join(a.dir, 'slugs', a.v1.sha256));
    expect(readFileSync(join(cwd, 'version.txt'), 'utf8')).toBe('v1\n');
    writeFileSync(join(cwd, 'version.txt'), 'edited by hand\n');

    await deploy(a.agent, { ...desiredState('RTWO', port, [web(a.v2)], {}, 'edit'), ...cold });
    expect((await get(port)).body).toBe('v2\n');
    // The replaced instance's copy is gone with it.
    await waitFor('the old copy to be removed', () => !existsSync(cwd));

    // Roll back to RONE's build (a copy with a new id): a fresh copy of the pristine files.
    const back = await deploy(a.agent, { ...desiredState('RTHREE', port, [web(a.v1)], {}, 'edit'), ...cold });
    expect(back.result).toMatchObject({ ok: true });
    expect((await get(port)).body).toBe('v1\n');
    await a.client.remove('edit', 'production');
  });

  it('a hand edit of the unpacked slug itself is found by its manifest of hashes: the next start re-extracts the artifact', async () => {
    const port = await freePort();
    await deploy(a.agent, { ...desiredState('RONE', port, [web(a.v1)], {}, 'slugedit'), ...cold });
    const slug = join(a.dir, 'slugs', a.v1.sha256);
    writeFileSync(join(slug, 'version.txt'), 'edited in the slug\n');
    const restarted = await deploy(a.agent, { ...desiredState('RTWO', port, [web(a.v1)], { FORCE: 'restart' }, 'slugedit'), ...cold });
    expect(restarted.result).toMatchObject({ ok: true });
    expect((await get(port)).body).toBe('v1\n');
    expect(readFileSync(join(slug, 'version.txt'), 'utf8')).toBe('v1\n');
    await a.client.remove('slugedit', 'production');
  });

  it('never shares a writable folder: what test writes never appears in production, nor in another app with the same build', async () => {
    const [test, prod, other] = await Promise.all([freePort(), freePort(), freePort()]);
    await deploy(a.agent, notesApp('RTEST', test, 'notes', 'test'));
    await deploy(a.agent, notesApp('RPROD', prod, 'notes'));
    await deploy(a.agent, notesApp('ROTHER', other, 'notes2'));
    const cwds = await Promise.all([test, prod, other].map(async (p) => (await get(p, '/cwd')).body));
    expect(new Set(cwds).size).toBe(3);

    const { request } = await import('undici');
    const saved = await request(`http://127.0.0.1:${test}/`, { method: 'POST', body: 'a record posted to test' });
    expect(await saved.body.text()).toBe('saved\n');
    expect((await get(test)).body).toBe('a record posted to test\n');
    expect((await get(prod)).body).toBe('no notes\n');
    expect((await get(other)).body).toBe('no notes\n');

    // "Promote" test's build to production again (new release, same build): still production's own folder.
    await deploy(a.agent, { ...notesApp('RPROD2', prod, 'notes'), config: { PROMOTED: 'from test' } });
    expect((await get(prod)).body).toBe('no notes\n');
    for (const [app, env] of [
      ['notes', 'test'],
      ['notes', 'production'],
      ['notes2', 'production'],
    ] as const)
      await a.client.remove(app, env);
    expect(readdirSync(join(a.dir, 'work', 'notes', 'production'))).toEqual([]);
  });

  it('re-adopts an instance in its copy after an agent restart; one found dead starts in a fresh copy', async () => {
    const port = await freePort();
    await deploy(b.agent, desiredState('RONE', port, [web(b.v1, { scale: 2 })], {}, 'adopt'));
    const before = (await b.client.observe('adopt', 'production'))?.instances ?? [];
    await b.close();
    const state = JSON.parse(readFileSync(join(b.dir, 'agent-state.json'), 'utf8')) as {
      apps: Array<{ instances: Array<{ id: string; dir?: string; pid: number }> }>;
    };
    const recorded = state.apps[0]?.instances ?? [];
    expect(recorded.map((i) => i.dir)).toEqual(recorded.map((i) => join(b.dir, 'work', 'adopt', 'production', `web.${i.id}`)));
    writeFileSync(join(recorded[0]?.dir as string, 'version.txt'), 'edited while the agent was down\n');
    process.kill(-(recorded[0]?.pid as number), 'SIGKILL');
    await waitFor('the killed instance to be gone', () => !isAlive(recorded[0]?.pid as number));

    await b.start();
    const after = await waitFor('both instances healthy', async () => {
      const o = await b.client.observe('adopt', 'production');
      return o?.instances.length === 2 && o.instances.every((i) => i.state === 'healthy') ? o.instances : null;
    });
    expect(after.find((i) => i.id === recorded[1]?.id)?.pid).toBe(before.find((i) => i.id === recorded[1]?.id)?.pid);
    // The restarted one runs the pristine file again.
    const bodies = new Set<string>();
    for (let n = 0; n < 8; n++) bodies.add((await get(port)).body);
    expect([...bodies]).toEqual(['v1\n']);
    expect(readFileSync(join(recorded[0]?.dir as string, 'version.txt'), 'utf8')).toBe('v1\n');
  });
});

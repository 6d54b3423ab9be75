import { describe, expect, it } from 'vitest';
import { envOf, fixtureApp, okRelease, type Rewind, servedVersions, setShopVersion, shopApp, useDirs, useRewind } from './harness.js';

// Issue 10 items 5 and 11 through the real server, agent and CLI: every environment runs its own
// copy of a build (what test writes never reaches production), and a one-component rollback
// restarts that component only.

interface AgentInstance {
  id: string;
  component: string;
  pid: number | null;
  release: string;
  state: string;
  startedAt: string;
}

async function liveInstances(rw: Rewind, app: string, env = 'production'): Promise<AgentInstance[]> {
  const state = await rw.agentState();
  const a = state.apps.find((x) => x.app === app && x.env === env);
  return ((a?.instances ?? []) as AgentInstance[]).filter((i) => i.release === a?.release);
}

const byComponent = (instances: AgentInstance[], component: string) =>
  instances
    .filter((i) => i.component === component)
    .map((i) => `${i.id} ${i.pid} ${i.startedAt}`)
    .sort();

// A json-server-like app: POST saves the body to db.txt in its own folder, GET / answers it.
const NOTES = `
const http = require('http');
const fs = require('fs');
http.createServer((req, res) => {
  if (req.url === '/health') return res.end('ok');
  if (req.method === 'POST') {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => { fs.appendFileSync('db.txt', body + '\\n'); res.end('saved\\n'); });
    return;
  }
  res.end(fs.existsSync('db.txt') ? fs.readFileSync('db.txt', 'utf8') : 'empty\\n');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

describe('what runs is the build', () => {
  const rw = useRewind();
  const dirs = useDirs();

  it('a record POSTed to the test environment never appears in production after a promotion', async () => {
    const dir = await fixtureApp({ version: 'n1', files: { 'server.js': NOTES } });
    dirs.push(dir);
    await rw.ok(['apps', 'create', 'notes']);
    await rw.ok(['envs', 'create', 'test', '-a', 'notes']);
    await rw.ok(['deploy', dir, '-a', 'notes', '-e', 'test']);
    const testUrl = (await envOf(rw, 'notes', 'test')).url;
    const saved = await fetch(testUrl, { method: 'POST', body: 'a record posted to test' });
    expect(await saved.text()).toBe('saved\n');
    expect(await (await fetch(testUrl)).text()).toBe('a record posted to test\n');

    await rw.ok(['promote', '-a', 'notes', '--from', 'test', '--to', 'production']);
    const prodUrl = (await envOf(rw, 'notes', 'production')).url;
    expect(await (await fetch(prodUrl)).text()).toBe('empty\n');
    expect(await (await fetch(testUrl)).text()).toBe('a record posted to test\n');
  });

  it('releases rollback --component web=B… restarts web alone: api, worker and assets keep their instances (same pids); so does a promotion of api alone', async () => {
    const dir = await shopApp({ versions: { web: 'v1', api: 'v1', worker: 'v1', assets: 'v1' } });
    dirs.push(dir);
    await rw.ok(['apps', 'create', 'shop']);
    const b1 = /^Build:\s+(B[A-Z]{10})$/m.exec((await rw.ok(['deploy', dir, '-a', 'shop'])).stdout)![1];
    const first = await liveInstances(rw, 'shop');
    expect(first.map((i) => i.component).sort()).toEqual(['api', 'assets', 'web', 'worker']);

    await setShopVersion(dir, 'web', 'v2');
    await rw.ok(['deploy', dir, '-a', 'shop']);
    const second = await liveInstances(rw, 'shop');
    for (const c of ['api', 'worker', 'assets']) expect(byComponent(second, c), c).toEqual(byComponent(first, c));
    expect(byComponent(second, 'web')).not.toEqual(byComponent(first, 'web'));

    const rb = await rw.ok(['releases', 'rollback', '-a', 'shop', '--component', `web=${b1}`]);
    const made = okRelease(rb.stdout)!;
    expect(await servedVersions(rw, 'shop', 'production', ['web', 'api', 'assets'])).toEqual({ web: 'v1', api: 'v1', assets: 'v1' });
    const third = await liveInstances(rw, 'shop');
    expect(third.every((i) => i.release === made)).toBe(true);
    for (const c of ['api', 'worker', 'assets']) expect(byComponent(third, c), c).toEqual(byComponent(first, c));
    // web comes back from the warm standby: the very instance of the first release.
    expect(byComponent(third, 'web')).toEqual(byComponent(first, 'web'));

    // A promotion of one component from test restarts that one only in production.
    await rw.ok(['envs', 'create', 'test', '-a', 'shop']);
    await setShopVersion(dir, 'api', 'v2');
    await rw.ok(['deploy', dir, '-a', 'shop', '-e', 'test']);
    await rw.ok(['promote', '-a', 'shop', '--from', 'test', '--to', 'production', '--components', 'api']);
    expect(await servedVersions(rw, 'shop', 'production', ['web', 'api', 'assets'])).toEqual({ web: 'v1', api: 'v2', assets: 'v1' });
    const fourth = await liveInstances(rw, 'shop');
    for (const c of ['web', 'worker', 'assets']) expect(byComponent(fourth, c), c).toEqual(byComponent(first, c));
    expect(byComponent(fourth, 'api')).not.toEqual(byComponent(first, 'api'));
  });
});

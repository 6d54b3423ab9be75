/**
 * Seeds a real Rewind (test/e2e/harness.ts) for the fuzzer: an app deployed from the fixture app,
 * a second environment, a promotion, config, a pipeline with a run, a template, so that real names
 * and ids exist; returns the operations to fuzz (the API's from /api/openapi.json, the agent's)
 * and the pools of real values they draw from.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import type { Rewind } from '../e2e/harness.js';
import { fixtureApp } from '../e2e/harness.js';
import { rawTarGz } from '../e2e/tarball.js';
import { agentOperations } from './fuzz-agent-routes.js';
import { HARMLESS_COMMANDS } from './fuzz-json.js';
import type { Operation, Pools, Uploads } from './fuzz-lib.js';
import { apiOperations } from './fuzz-lib.js';
import type { Endpoint } from './fuzz-run.js';

export interface FuzzTarget {
  readonly api: Endpoint;
  readonly agent: Endpoint;
  readonly ops: readonly Operation[];
  readonly pools: Pools;
  readonly uploads: Uploads;
  /** Puts back what the fuzzer may delete (the victim app, the scratch env). */
  readonly reseed: () => Promise<void>;
  readonly serverPid: number;
  readonly agentPid: number;
}

const tgz = async (dir: string) => {
  const chunks: Buffer[] = [];
  for await (const c of tar.c({ gzip: true, cwd: dir, portable: true }, ['.'])) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

async function must(rw: Rewind, method: string, path: string, body?: unknown, ok = [200, 201, 202, 204]): Promise<unknown> {
  const res = await rw.api(path, { method, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  if (!ok.includes(res.status)) throw new Error(`seeding: ${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

const ids = (list: unknown, field = 'id') =>
  Array.isArray(list) ? list.map((x) => (x as Record<string, string>)[field]).filter((x): x is string => typeof x === 'string') : [];

/**
 * Seeds `rw`: the app `shop` deployed from the fixture app, a `staging` env with a promotion, a
 * config value, a pipeline with a run, a template; `victim` (an app) and `scratch` (an env) are
 * what DELETE routes may take away. Returns the operations and the pools of real names and ids.
 */
export async function seed(rw: Rewind): Promise<FuzzTarget> {
  const dir = await fixtureApp({ version: 'v1' });
  const deployed = await rw.cli(['apps', 'create', 'shop']);
  if (deployed.code !== 0) throw new Error(`seeding: apps create: ${deployed.stderr}`);
  const d = await rw.cli(['deploy', dir, '-a', 'shop']);
  if (d.code !== 0) throw new Error(`seeding: deploy: ${d.stdout}${d.stderr}`);
  await must(rw, 'POST', '/api/apps/shop/envs', { name: 'staging' });
  await must(rw, 'POST', '/api/apps/shop/env', { env: 'production', set: { GREETING: 'hi', constructor: 'x' }, unset: [], promote: true });
  await rw.settled('shop');
  await must(rw, 'POST', '/api/apps/shop/promote', { from: 'production', to: 'staging' });
  await rw.settled('shop', 'staging');
  await must(rw, 'PUT', '/api/apps/shop/pipelines', {
    pipelines: { release: ['build', { deploy: { env: 'staging', enableRollback: true } }, { run: { command: 'true', env: 'staging' } }, 'approval'] },
  });
  await must(rw, 'POST', '/api/templates', { name: 'shop-tpl', version: '1.0', app: 'shop', env: 'production' });
  const runRes = await rw.fetch('/api/apps/shop/pipelines/release/runs', {
    method: 'POST',
    headers: { 'content-type': 'application/gzip' },
    body: new Uint8Array(await tgz(dir)),
  });
  if (runRes.status >= 300) throw new Error(`seeding: pipeline run answered ${runRes.status}: ${await runRes.text()}`);

  const reseed = async () => {
    await must(rw, 'POST', '/api/apps', { name: 'victim' }, [201, 409]);
    await must(rw, 'POST', '/api/apps/victim/envs', { name: 'scratch' }, [201, 409]);
    await must(rw, 'POST', '/api/apps/shop/envs', { name: 'scratch' }, [201, 409]);
  };
  await reseed();

  const [releases, builds, deployments, runs, stories, upgrades] = await Promise.all([
    must(rw, 'GET', '/api/apps/shop/releases?limit=50'),
    must(rw, 'GET', '/api/apps/shop/builds?limit=50'),
    must(rw, 'GET', '/api/apps/shop/deployments?limit=50'),
    must(rw, 'GET', '/api/apps/shop/pipelines/runs'),
    must(rw, 'GET', '/api/apps/shop/stories'),
    must(rw, 'GET', '/api/apps/shop/upgrades'),
  ]);
  const artifactRoot = join(rw.dataDir, 'artifacts', 'sha256');
  const artifacts = readdirSync(artifactRoot).flatMap((d) => readdirSync(join(artifactRoot, d)).map((f) => join(artifactRoot, d, f)));
  const shas = artifacts.map((p) => /([a-f0-9]{64})\.tar\.gz$/.exec(p)?.[1]).filter((x): x is string => !!x);
  const agentInfo = await rw.agentInfo();
  const serverPid = (JSON.parse(readFileSync(join(rw.dataDir, 'server.json'), 'utf8')) as { pid: number }).pid;

  const envs = ['production', 'staging', 'scratch'];
  const releaseIds = ids(releases);
  const buildIds = ids(builds);
  const storyIds = ids(stories);
  const pools: Pools = {
    app: ['shop', 'shop', 'shop', 'shop', 'victim', 'nope'],
    env: envs,
    from: envs,
    to: envs,
    release: releaseIds,
    'releases.id': releaseIds,
    'builds.id': buildIds,
    'deployments.id': ids(deployments),
    'runs.id': ids(runs),
    'stories.id': storyIds,
    story: storyIds,
    'pipelines.name': ['release', 'nope'],
    'templates.name': ['shop-tpl', 'nope'],
    template: ['shop-tpl'],
    version: ['1.0', '2.0'],
    upgrade: ids(upgrades),
    name: ['fz-a', 'fz-b', 'victim', 'staging', 'scratch', 'shop', 'shop-tpl'],
    after: envs,
    before: envs,
    component: ['web', 'worker'],
    components: ['web'],
    'components.key': ['web', 'worker'],
    'components.value': buildIds,
    'set.key': ['GREETING', 'FOO', 'constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'],
    unset: ['GREETING', 'FOO', 'constructor', 'toString'],
    '.key': ['drainSeconds', 'standbyMinutes', 'standbyCount', 'autoRollbackSeconds', 'constructor', '__proto__'],
    command: [...HARMLESS_COMMANDS],
    token: [rw.token.slice(0, -1), 'x'],
    // agent
    'apps.id': [],
    path: [
      ...artifacts,
      '/etc/shadow',
      '/dev/zero',
      '../../x',
      `${artifactRoot}/../../agent/agent.token`,
      '/proc/self/environ',
      join(rw.dataDir, 'rewind.db'),
      'relative.tar.gz',
    ],
    sha256: [...shas, 'a'.repeat(64)],
    build: buildIds,
    proxyPort: [agentInfo.url ? Number(new URL(agentInfo.url).port) : 0, 22, 0],
    actor: ['fuzz', 'a\nb'],
  };
  const doc = await must(rw, 'GET', '/api/openapi.json');
  const deletes: Pools = { app: ['victim', 'nope', 'fz-a'], env: ['scratch', 'nope'] };
  const apiOps = apiOperations(doc).map((o) => (o.method === 'DELETE' && o.path !== '/api/auth/session' ? { ...o, pools: deletes } : o));
  const agentOps = agentOperations({
    readPools: { app: ['shop', 'shop', 'fz-agent', 'nope'], env: ['production', 'staging'] },
    writePools: {
      app: ['fz-agent', 'fz-agent2', 'nope'],
      env: ['production', 'staging'],
      name: ['web', 'worker'],
      static: ['.', 'public', '../..', '/etc'],
      release: ['RFUZZAAAAAA', 'RFUZZBBBBBB'],
      'config.key': ['GREETING', 'constructor', '__proto__'],
    },
  });
  const app = await tgz(dir);
  const uploads: Uploads = {
    app,
    others: [
      Buffer.from('not a tarball'),
      gzipSync(Buffer.from('not a tarball either')),
      rawTarGz([{ name: 'server.js', body: 'x' }]),
      rawTarGz([{ name: 'rewind.yml', body: 'components: [1, 2\n' }]),
      rawTarGz([{ name: 'rewind.yml', body: 'components:\n  web: {}\n' }]),
      rawTarGz([
        { name: '../../escape', body: 'x' },
        { name: 'rewind.yml', body: 'components: {}\n' },
      ]),
      app.subarray(0, app.length - 20),
    ],
  };
  return {
    api: { url: new URL(rw.url), token: rw.token },
    agent: { url: new URL(agentInfo.url), token: agentInfo.token },
    ops: [...apiOps, ...agentOps],
    pools,
    uploads,
    reseed,
    serverPid,
    agentPid: agentInfo.pid,
  };
}

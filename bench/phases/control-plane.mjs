// Control plane: a page of releases with 100,000 releases in one environment (bulk-inserted through
// the compiled Store before the server starts), and how many releases per second the API creates.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';
import { BenchRewind, tempDir } from '../lib/rewind.mjs';
import { freePort, memoryOf, ROOT, round, say, summary } from '../lib/util.mjs';

const APP = 'bench';
const ENV = 'production';

const dist = (path) => import(pathToFileURL(join(ROOT, 'dist', path)).href);

/** Inserts `count` releases of APP/ENV into a new store in `dataDir`, as config changes would. */
async function seed(dataDir, count) {
  const { Store } = await dist('store/store.js');
  const { makeRelease } = await dist('domain/release.js');
  const store = await Store.openSqlite(dataDir);
  try {
    await store.apps.create(APP, { name: ENV, proxyPort: await freePort() }, new Date().toISOString());
    const started = performance.now();
    const batch = 5000;
    const t = Date.now() - count * 1000;
    for (let from = 0; from < count; from += batch) {
      await store.db.transaction().execute(async (tx) => {
        for (let i = from; i < Math.min(count, from + batch); i++) {
          const release = makeRelease(
            {
              app: APP,
              env: ENV,
              kind: 'env',
              builds: {},
              config: { COUNTER: String(i), GREETING: 'hello' },
              manifest: null,
              description: 'env change:COUNTER',
              source: null,
              createdBy: 'bench',
            },
            new Date(t + i * 1000),
          );
          await store.releases.insert(release, tx);
        }
      });
    }
    return (performance.now() - started) / 1000;
  } finally {
    await store.close();
  }
}

/** Times `n` sequential GETs of `path` on one keep-alive connection (after a warm-up). */
async function timeGets(url, path, n, headers) {
  const pool = new Pool(url, { connections: 1 });
  try {
    const get = async () => {
      const res = await pool.request({ method: 'GET', path, headers });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`GET ${path} answered ${res.statusCode}: ${text.slice(0, 300)}`);
      return text;
    };
    for (let i = 0; i < Math.min(100, n); i++) await get();
    const ms = [];
    let items = 0;
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const body = JSON.parse(await get());
      items = Array.isArray(body) ? body.length : null;
      ms.push(performance.now() - t);
    }
    return { ...summary(ms), items };
  } finally {
    await pool.close();
  }
}

/** POST /api/apps/APP/env with promote:false `n` times from `clients` concurrent clients. */
async function createReleases(url, n, clients, headers) {
  const pool = new Pool(url, { connections: clients });
  const ms = [];
  const statuses = {};
  let next = 0;
  const started = performance.now();
  try {
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        while (next < n) {
          const i = next++;
          const t = performance.now();
          const res = await pool.request({
            method: 'POST',
            path: `/api/apps/${APP}/env`,
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify({ env: ENV, set: { [`K${c}`]: String(i) }, unset: [], promote: false }),
          });
          await res.body.text();
          ms.push(performance.now() - t);
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        }
      }),
    );
  } finally {
    await pool.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const created = statuses[201] ?? 0;
  return { clients, requests: n, created, perSecond: round(created / seconds, 0), latencyMs: summary(ms), statuses };
}

export async function controlPlane(cfg) {
  const dataDir = await tempDir('rewind-bench-cp-');
  say(`control plane: inserting ${cfg.releases} releases through dist/store`);
  const insertSeconds = await seed(dataDir, cfg.releases);
  say(`inserted in ${insertSeconds.toFixed(1)} s; starting the server`);
  const rw = await BenchRewind.start({ dataDir });
  try {
    const list = await timeGets(rw.url, `/api/apps/${APP}/releases?env=${ENV}&limit=20`, cfg.listRequests, rw.authHeaders);
    // The cheapest route of the same server, timed the same way: what HTTP and the machine cost alone.
    const health = await timeGets(rw.url, '/api/health', cfg.listRequests, rw.authHeaders);
    say(`release list: p50 ${list.p50} ms, p99 ${list.p99} ms over ${list.n} requests (GET /api/health: p50 ${health.p50} ms, p99 ${health.p99} ms)`);
    const create = {
      sequential: await createReleases(rw.url, cfg.createRequests, 1, rw.authHeaders),
      concurrent: await createReleases(rw.url, cfg.createRequests, 8, rw.authHeaders),
    };
    say(
      `release creation: ${create.sequential.perSecond}/s from 1 client, ${create.concurrent.perSecond}/s from 8 (statuses ${JSON.stringify(create.concurrent.statuses)})`,
    );
    const after = await timeGets(rw.url, `/api/apps/${APP}/releases?env=${ENV}&limit=20`, Math.min(200, cfg.listRequests), rw.authHeaders);
    return {
      releases: cfg.releases,
      insertSeconds: round(insertSeconds, 1),
      list,
      health,
      listAfterCreates: after,
      create,
      memory: { server: memoryOf(rw.serverPid), agent: memoryOf(rw.agentPid) },
    };
  } finally {
    await rw.stop();
  }
}

// Data plane: rollback latency (warm and cold), proxy throughput (direct / Rewind / nginx), and
// failed requests during deploy/rollback switches under load. One Rewind, one app, three builds.
import { get as httpGet } from 'node:http';
import { Probe, switchTimes } from '../lib/probe.mjs';
import { backgroundLoad, measure } from '../lib/load.mjs';
import { startNginx } from '../lib/nginx.mjs';
import { startNodeProxy } from '../lib/node-proxy.mjs';
import { cpuTicks } from '../lib/cpu-watch.mjs';
import { BenchRewind, benchApp } from '../lib/rewind.mjs';
import { median, memoryOf, round, say, sleep, summary } from '../lib/util.mjs';

const APP = 'bench';
const ENV = 'production';

/** The server's warm-standby defaults, pinned: the cold rollbacks rely on one release kept warm. */
export const STANDBY_ENV = { REWIND_STANDBY_COUNT: '1', REWIND_STANDBY_MINUTES: '15' };

export async function dataPlane(cfg, nginx) {
  const rw = await BenchRewind.start({ env: STANDBY_ENV });
  const memory = {};
  const sample = (phase) => {
    memory[phase] = { agent: memoryOf(rw.agentPid), server: memoryOf(rw.serverPid) };
  };
  try {
    await rw.ok('POST', '/api/apps', { name: APP });
    const versionOfBuild = new Map();
    const releaseOf = new Map();
    for (const v of ['v1', 'v2', 'v3']) {
      const out = await rw.deploy(await benchApp(v), APP);
      versionOfBuild.set(out.build.id, v);
      releaseOf.set(v, out.release.id);
      say(`deployed ${v}: build ${out.build.id}, release ${out.release.id}`);
    }
    const url = await rw.appUrl(APP);
    sample('setup');

    const rollbacks = await measureRollbacks(rw, url, cfg, versionOfBuild, releaseOf);
    sample('rollbacks');
    const proxy = await compareProxies(rw, url, cfg, nginx);
    sample('proxy');
    const switches = await switchesUnderLoad(rw, url, cfg, proxy.rewind.rps);
    sample('switches');
    const agentRestarts = await measureAgentRestarts(rw, url, cfg);
    return { rollbacks, proxy, switches, agentRestarts, memory };
  } finally {
    await rw.stop();
  }
}

// ── rollbacks ─────────────────────────────────────────────────────────────

export async function liveInstances(rw, app = APP) {
  const observed = (await rw.agentState()).apps.find((a) => a.app === app && a.env === ENV);
  return (observed?.instances ?? []).filter((i) => i.state === 'healthy' || i.state === 'running');
}

/**
 * One rollback, timed from just before the API call. `to`: a release id, or undefined for "the
 * previous one". `warm` says whether traffic went to processes that ran before the call.
 */
async function rollbackOnce(rw, probe, to, versionOfBuild) {
  const before = new Set((await rw.instancePids()).values());
  let change;
  let apiMs;
  let done;
  const t0 = performance.now();
  const wall0 = Date.now();
  const results = await probe.record(async (got) => {
    const r = await rw.api('POST', `/api/apps/${APP}/rollback`, { env: ENV, ...(to ? { release: to } : {}) });
    apiMs = performance.now() - t0;
    if (r.status !== 202) throw new Error(`rollback answered ${r.status}: ${JSON.stringify(r.body)}`);
    change = r.body;
    done = await rw.followDeployment(change.deployment.id);
    // Probes sent after the deployment ended, from every probe loop: nothing may answer from the old release any more.
    const since = performance.now();
    while (got.filter((p) => p.sentAt >= since).length < 2 * probe.workers && performance.now() - since < 5000) await sleep(2);
  });
  const version = versionOfBuild.get(change.release.build);
  const times = switchTimes(results, t0, version);
  const live = await liveInstances(rw);
  const switched = done.steps.find((s) => /^Switched (traffic )?to /.test(s.message));
  const agentStarted = done.steps.find((s) => /^Deploying /.test(s.message));
  return {
    version,
    release: change.release.id,
    state: done.deployment.state,
    apiMs: round(apiMs),
    firstMs: round(times.firstMs),
    allMs: round(times.allMs),
    agentStartedMs: agentStarted ? agentStarted.at - wall0 : null,
    switchLoggedMs: switched ? switched.at - wall0 : null,
    deploymentMs: round(done.endedAt - t0),
    slowestProbeMs: round(times.slowestMs),
    warm: live.length > 0 && live.every((i) => before.has(i.pid)),
    failedProbes: times.failed,
  };
}

function rollbackSummary(runs) {
  const ok = runs.filter((r) => r.state === 'succeeded' && r.allMs !== null);
  return {
    n: runs.length,
    succeeded: ok.length,
    warmSwaps: runs.filter((r) => r.warm).length,
    firstMs: summary(ok.map((r) => r.firstMs)),
    allMs: summary(ok.map((r) => r.allMs)),
    apiMs: summary(runs.map((r) => r.apiMs)),
    agentStartedMs: summary(ok.filter((r) => r.agentStartedMs !== null).map((r) => r.agentStartedMs)),
    switchLoggedMs: summary(ok.filter((r) => r.switchLoggedMs !== null).map((r) => r.switchLoggedMs)),
    deploymentMs: summary(runs.map((r) => r.deploymentMs)),
    slowestProbeMs: summary(ok.map((r) => r.slowestProbeMs)),
    failedProbes: runs.reduce((n, r) => n + r.failedProbes, 0),
    runs,
  };
}

/**
 * Warm: roll back to the previous release again and again (v3 ⇄ v2), so the target is always the
 * release that served just before — the one a warm standby keeps. Cold: roll back to the version that
 * is neither live nor the previous one (a cycle over v1, v2, v3), which a standby of one release
 * does not hold.
 */
async function measureRollbacks(rw, url, cfg, versionOfBuild, releaseOf) {
  const probe = new Probe(url, { workers: cfg.probeWorkers, everyMs: 1 });
  try {
    const history = ['v1', 'v2', 'v3'];
    await probe.waitSteady('v3');
    const warm = [];
    say(`warm rollbacks: ${cfg.rollbacks} × rollback to the previous release`);
    for (let i = 0; i < cfg.rollbacks; i++) {
      const r = await rollbackOnce(rw, probe, undefined, versionOfBuild);
      warm.push(r);
      history.push(r.version);
      if (r.state !== 'succeeded') say(`warm rollback ${i + 1} ended ${r.state}`);
      await probe.waitSteady(r.version, 10);
    }
    const cold = [];
    say(`cold rollbacks: ${cfg.rollbacks} × rollback to the release neither live nor previous`);
    for (let i = 0; i < cfg.rollbacks; i++) {
      // Neither the live release nor the one before it (the one a standby of one release keeps).
      const target = ['v1', 'v2', 'v3'].find((v) => v !== history.at(-1) && v !== history.at(-2));
      const r = await rollbackOnce(rw, probe, releaseOf.get(target), versionOfBuild);
      cold.push(r);
      history.push(r.version);
      if (r.state !== 'succeeded') say(`cold rollback ${i + 1} ended ${r.state}`);
      await probe.waitSteady(r.version, 10);
    }
    const probeStats = {
      workers: cfg.probeWorkers,
      everyMs: 1,
      sent: probe.sent,
      failed: probe.failed,
      failures: probe.failures,
      latencyMs: summary(probe.latencies),
    };
    const result = { warm: rollbackSummary(warm), cold: rollbackSummary(cold), probe: probeStats };
    say(
      `warm: all p50 ${result.warm.allMs.p50} ms p99 ${result.warm.allMs.p99} ms (${result.warm.warmSwaps}/${warm.length} route swaps); cold: all p50 ${result.cold.allMs.p50} ms p99 ${result.cold.allMs.p99} ms`,
    );
    return result;
  } finally {
    await probe.close();
  }
}

// ── agent restarts ────────────────────────────────────────────────────────

/** One GET on a new connection: the body, or null when nothing answered 200 within `timeoutMs`. */
function getOnce(url, timeoutMs = 500) {
  return new Promise((resolveGet) => {
    const req = httpGet(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res
        .setEncoding('utf8')
        .on('data', (d) => (body += d))
        .on('end', () => resolveGet(res.statusCode === 200 ? body : null))
        .on('error', () => resolveGet(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolveGet(null));
  });
}

/**
 * Agent SIGKILL, then a new agent process: from its spawn to the first request the app's port
 * answers with 200 (a new connection every 2 ms), and whether it re-adopted every instance (the
 * same pids, standby included) instead of starting any.
 */
async function measureAgentRestarts(rw, url, cfg) {
  say(`agent restarts: ${cfg.agentRestarts} × SIGKILL of the agent, then a new one`);
  const runs = [];
  for (let i = 0; i < cfg.agentRestarts; i++) {
    const before = [...(await rw.instancePids())].sort();
    const { startedAt } = await rw.killAndRestartAgent();
    let servedMs = null;
    while (servedMs === null && performance.now() - startedAt < 30_000) {
      if ((await getOnce(`${url}/`)) !== null) servedMs = performance.now() - startedAt;
      else await sleep(2);
    }
    const after = [...(await rw.instancePids())].sort();
    runs.push({ servedMs: round(servedMs), readopted: before.length > 0 && before.join() === after.join() });
    await sleep(200);
  }
  const out = {
    n: runs.length,
    servedMs: summary(runs.filter((r) => r.servedMs !== null).map((r) => r.servedMs)),
    readopted: runs.filter((r) => r.readopted).length,
    runs,
  };
  say(
    `agent restarts: serving again p50 ${out.servedMs.p50} ms, max ${out.servedMs.max} ms after the new agent's spawn; ${out.readopted}/${out.n} re-adopted every instance`,
  );
  return out;
}

// ── proxy throughput ──────────────────────────────────────────────────────

/**
 * Throughput and latency of each of `targets` (name → { url, proxy: () => CPU ticks of the proxy }),
 * in interleaved rounds, with the cores the proxy and `backend` (() => ticks) used; medians per name.
 */
export async function compareThroughput(targets, cfg, backend) {
  const rounds = Object.fromEntries(Object.keys(targets).map((k) => [k, []]));
  for (let round = 0; round < cfg.proxyRounds; round++) {
    for (const [name, target] of Object.entries(targets)) {
      const cpu = { backend, ...(target.proxy ? { proxy: target.proxy } : {}) };
      const r = await measure(`${target.url}/`, { connections: cfg.connections, durationS: cfg.proxySeconds, warmupS: cfg.warmupSeconds, cpu });
      rounds[name].push(r);
      say(
        `throughput round ${round + 1}: ${name} ${r.rps} req/s, p99 ${r.latencyMs.p99} ms, cores: proxy ${r.cpuCores.proxy ?? '–'}, backend ${r.cpuCores.backend ?? '–'}`,
      );
    }
  }
  const cores = (rs, k) => (rs.some((r) => r.cpuCores[k] == null) ? null : median(rs.map((r) => r.cpuCores[k])));
  return Object.fromEntries(
    Object.entries(rounds).map(([name, rs]) => [
      name,
      {
        rps: median(rs.map((r) => r.rps)),
        p50Ms: median(rs.map((r) => r.latencyMs.p50)),
        p99Ms: median(rs.map((r) => r.latencyMs.p99)),
        failed: rs.reduce((n, r) => n + r.errors + r.timeouts + r.non2xx, 0),
        proxyCores: cores(rs, 'proxy'),
        backendCores: cores(rs, 'backend'),
        rounds: rs,
      },
    ]),
  );
}

/**
 * direct, Rewind's proxy, a hand-configured nginx, and (for reference) the simplest undici proxy
 * Node can do, all in front of the same instance.
 */
async function compareProxies(rw, url, cfg, nginx) {
  const [instance] = await liveInstances(rw);
  const minimal = await startNodeProxy(instance.port);
  const targets = {
    direct: { url: `http://127.0.0.1:${instance.port}` },
    rewind: { url, proxy: () => cpuTicks([rw.agentPid]) },
    minimalNode: { url: minimal.url, proxy: () => cpuTicks([minimal.pid]) },
  };
  let ng = null;
  try {
    if (nginx.bin) {
      ng = await startNginx(nginx.bin, instance.port);
      targets.nginx = { url: ng.url, proxy: () => cpuTicks([ng.pid], { tree: true }) };
    }
    const got = await compareThroughput(targets, cfg, () => cpuTicks([instance.pid], { tree: true }));
    const out = {
      connections: cfg.connections,
      seconds: cfg.proxySeconds,
      rounds: cfg.proxyRounds,
      direct: got.direct,
      rewind: got.rewind,
      minimalNode: got.minimalNode,
      nginx: got.nginx ?? null,
      nginxNote: nginx.bin ? nginx.version : nginx.reason,
    };
    out.ratios = {
      rewindVsDirect: round(out.rewind.rps / out.direct.rps, 3),
      minimalNodeVsDirect: round(out.minimalNode.rps / out.direct.rps, 3),
      nginxVsDirect: out.nginx ? round(out.nginx.rps / out.direct.rps, 3) : null,
      rewindVsNginx: out.nginx ? round(out.rewind.rps / out.nginx.rps, 3) : null,
      rewindVsMinimalNode: round(out.rewind.rps / out.minimalNode.rps, 3),
    };
    return out;
  } finally {
    await ng?.stop();
    await minimal.stop();
  }
}

// ── switches under load ───────────────────────────────────────────────────

/**
 * `cfg.switches` switches while a background load runs at half of the proxy's measured capacity:
 * odd ones roll back to the previous release, even ones deploy a new release (a config change that
 * starts new instances; every tenth deploy uploads and builds source with the CLI).
 */
export async function switchesUnderLoad(rw, url, cfg, capacity, app = APP) {
  const rate = Math.round(capacity / 2);
  say(`switches (${app}): ${cfg.switches} under a load of ${rate} req/s (half of ${capacity})`);
  const load = backgroundLoad(`${url}/`, { rate, connections: cfg.connections });
  await load.started;
  await sleep(1000);
  const switches = [];
  const kinds = { rollback: 0, config: 0, source: 0 };
  const started = performance.now();
  for (let i = 0; i < cfg.switches; i++) {
    const t0 = performance.now();
    let kind;
    let deployment;
    if (i % 2 === 1) {
      kind = 'rollback';
      deployment = (await rw.ok('POST', `/api/apps/${app}/rollback`, { env: ENV })).deployment;
    } else if (i % 20 === 0) {
      kind = 'source';
      deployment = (await rw.deploy(await benchApp(['v1', 'v2', 'v3'][(i / 20) % 3]), app)).deployment;
    } else {
      kind = 'config';
      deployment = (await rw.ok('POST', `/api/apps/${app}/env`, { env: ENV, set: { MARK: `s${i}` }, unset: [], promote: true })).deployment;
    }
    const done = (await rw.followDeployment(deployment.id)).deployment;
    kinds[kind]++;
    switches.push({ kind, state: done.state, ms: round(performance.now() - t0) });
    if (done.state !== 'succeeded') say(`switch ${i + 1} (${kind}) ended ${done.state}: ${done.error}`);
  }
  const seconds = (performance.now() - started) / 1000;
  await sleep(1000); // the load goes on a little after the last switch
  const r = await load.stop();
  if (r.error) throw new Error(`the load generator failed: ${r.error}`);
  const failed = (r.errors ?? 0) + (r.timeouts ?? 0) + (r.non2xx ?? 0);
  say(`switches: ${switches.length} in ${seconds.toFixed(0)} s, ${r.requests} requests, ${failed} failed`);
  return {
    capacityRps: capacity,
    loadRps: rate,
    n: switches.length,
    kinds,
    deploymentsFailed: switches.filter((s) => s.state !== 'succeeded').length,
    switchMs: summary(switches.map((s) => s.ms)),
    seconds: round(seconds, 1),
    load: r,
    failedRequests: failed,
  };
}

// Load generation with autocannon: a measurement in this process, or a steady background load in a
// child process (so that the switches it watches are driven from an unloaded event loop).
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { onCleanup, stopPid } from './cleanup.mjs';
import { round } from './util.mjs';

/** The numbers we keep from an autocannon result. */
export function digest(r) {
  return {
    rps: round(r.requests.average, 0),
    ok: r['2xx'],
    requests: r.requests.total,
    sent: r.requests.sent,
    durationS: r.duration,
    latencyMs: { p50: r.latency.p50, p99: r.latency.p99, max: r.latency.max },
    errors: r.errors,
    timeouts: r.timeouts,
    non2xx: r.non2xx,
    resets: r.resets ?? 0,
  };
}

export function cannon(opts) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ timeout: 10, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
    instance.on('error', () => {});
  });
}

/**
 * Throughput and latency of `url` with `connections` keep-alive connections, after a warm-up.
 * `cpu`: name → () => ticks so far; the digest then says how many cores each used during the run.
 */
export async function measure(url, { connections = 32, durationS = 10, warmupS = 2, cpu = {} } = {}) {
  if (warmupS > 0) await cannon({ url, connections, duration: warmupS });
  const before = Object.fromEntries(Object.entries(cpu).map(([k, f]) => [k, f()]));
  const started = performance.now();
  const result = digest(await cannon({ url, connections, duration: durationS }));
  const seconds = (performance.now() - started) / 1000;
  result.cpuCores = Object.fromEntries(
    Object.entries(cpu).map(([k, f]) => {
      const after = f();
      return [k, after === null || before[k] === null ? null : round((after - before[k]) / 100 / seconds, 2)];
    }),
  );
  return result;
}

/** Starts a background load at `rate` requests/s; stop() resolves with its digest. */
export function backgroundLoad(url, { rate, connections = 16 }) {
  const child = fork(fileURLToPath(new URL('./load-worker.mjs', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const unregister = onCleanup(() => (child.exitCode === null ? stopPid(child.pid) : undefined));
  const result = new Promise((resolve, reject) => {
    child.on('message', (m) => m.type === 'result' && resolve(m.result));
    child.on('exit', (code) => reject(new Error(`the load process exited (${code}) before reporting`)));
  });
  result.catch(() => {}); // reported by stop()
  const started = new Promise((resolve) => child.on('message', (m) => m.type === 'started' && resolve()));
  child.send({ type: 'start', opts: { url, connections, overallRate: Math.max(1, Math.round(rate)), duration: 3600 } });
  return {
    started,
    async stop() {
      child.send({ type: 'stop' });
      const r = await result;
      unregister();
      return r;
    },
  };
}

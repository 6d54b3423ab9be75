// A probe loop: `workers` keep-alive connections, each sending GET / about every `everyMs`, noting
// when each request was sent and answered and which version answered it.
import { Pool } from 'undici';
import { sleep } from './util.mjs';

const VERSION_RE = /version=(\S+)/;

export class Probe {
  #pool;
  #stop = false;
  #loops = [];
  /** Called with every result { sentAt, doneAt, version, ok, error? } (times: performance.now()). */
  listener = null;
  sent = 0;
  failed = 0;
  /** Round-trip ms of every probe request. */
  latencies = [];
  failures = [];

  constructor(url, { workers = 4, everyMs = 1 } = {}) {
    this.workers = workers;
    this.#pool = new Pool(url, { connections: workers, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: 10_000, bodyTimeout: 10_000 });
    for (let w = 0; w < workers; w++) this.#loops.push(this.#loop(everyMs));
  }

  async #loop(everyMs) {
    while (!this.#stop) {
      const sentAt = performance.now();
      let result;
      try {
        const res = await this.#pool.request({ method: 'GET', path: '/' });
        const text = await res.body.text();
        const ok = res.statusCode === 200;
        result = {
          sentAt,
          doneAt: performance.now(),
          ok,
          version: ok ? (VERSION_RE.exec(text)?.[1] ?? null) : null,
          ...(ok ? {} : { error: `HTTP ${res.statusCode}` }),
        };
      } catch (err) {
        result = { sentAt, doneAt: performance.now(), ok: false, version: null, error: err.code ?? err.message };
      }
      this.sent++;
      if (this.latencies.length < 500_000) this.latencies.push(result.doneAt - result.sentAt);
      if (!result.ok) {
        this.failed++;
        if (this.failures.length < 20) this.failures.push(result.error);
      }
      this.listener?.(result);
      const wait = everyMs - (performance.now() - sentAt);
      await sleep(Math.max(0, wait));
    }
  }

  /** Collects results until `until(results so far)` resolves; returns them. */
  async record(until) {
    const got = [];
    this.listener = (r) => got.push(r);
    try {
      await until(got);
    } finally {
      this.listener = null;
    }
    return got;
  }

  /** Waits until `n` consecutive answers came from `version`. */
  async waitSteady(version, n = 20, timeoutMs = 30_000) {
    let streak = 0;
    const deadline = performance.now() + timeoutMs;
    await new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        if (performance.now() > deadline) {
          clearInterval(timer);
          this.listener = null;
          reject(new Error(`the app did not steadily serve ${version} within ${timeoutMs} ms`));
        }
      }, 100);
      this.listener = (r) => {
        streak = r.version === version ? streak + 1 : 0;
        if (streak >= n) {
          clearInterval(timer);
          this.listener = null;
          resolve();
        }
      };
    });
  }

  async close() {
    this.#stop = true;
    await Promise.all(this.#loops);
    await this.#pool.close();
  }
}

/**
 * From probe results around a switch started at t0 to `version`: ms from t0 to the first answer
 * from `version`, and to full traffic (the first answer from `version` after the last answer from
 * anything else). Null when `version` never answered.
 */
export function switchTimes(results, t0, version) {
  const after = results.filter((r) => r.doneAt >= t0).sort((a, b) => a.doneAt - b.doneAt);
  const first = after.find((r) => r.version === version);
  if (!first) return { firstMs: null, allMs: null, slowestMs: null, failed: after.filter((r) => !r.ok).length };
  let lastOther = -1;
  after.forEach((r, i) => {
    if (r.version !== version) lastOther = i;
  });
  const all = after.slice(lastOther + 1).find((r) => r.version === version);
  return {
    // The slowest probe request of the switch: how long the data plane made a request wait.
    slowestMs: Math.max(...after.map((r) => r.doneAt - r.sentAt)),
    firstMs: first.doneAt - t0,
    allMs: all ? all.doneAt - t0 : null,
    failed: after.filter((r) => !r.ok).length,
  };
}

/**
 * Issue 9: the schema-driven fuzzer against a real server and agent. Seeded (REWIND_FUZZ_SEED to
 * replay), bounded (REWIND_FUZZ_COUNT requests, 2,000 in `npm test`, 100,000 in `npm run fuzz`):
 * every operation of /api/openapi.json and every agent route gets requests; none may answer 5xx
 * or hang, and the server and the agent answer at the end. One line reports the counts.
 * REWIND_FUZZ_CONCURRENCY (default 4) sets how many requests are in flight at once;
 * REWIND_FUZZ_VERBOSE=1 adds the statuses of each operation and the first connection resets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Rewind } from '../e2e/harness.js';
import type { FuzzReport, FuzzTarget } from './fuzz-run.js';
import { isHarmlessCommand } from './fuzz-json.js';
import { requestArbitrary } from './fuzz-lib.js';
import { closeConnections, liveness, run, seed } from './fuzz-run.js';

const SEED = Number(process.env.REWIND_FUZZ_SEED ?? 20261202);
const COUNT = Number(process.env.REWIND_FUZZ_COUNT ?? 2000);
/** Each operation gets at least this many requests (a round gives every operation 8). */
const MIN_PER_ROUTE = Math.min(16, Math.floor(COUNT / 100));
// About 3 ms a request on two idle cores; 15 ms leaves room for a loaded machine (npm test runs two files at once).
const TIMEOUT_MS = 60_000 + COUNT * 15;

let rw: Rewind;
let target: FuzzTarget;
let report: FuzzReport;

beforeAll(async () => {
  rw = await Rewind.start();
  target = await seed(rw);
}, 120_000);

afterAll(async () => {
  closeConnections();
  if (target) {
    // The harness waits for the server to exit on SIGTERM: bound that, and say how long it took.
    const started = Date.now();
    const exited = await stopped(target.serverPid, 30_000);
    console.log(
      exited ? `fuzz: the server exited on SIGTERM in ${Date.now() - started} ms` : 'fuzz: the server did not exit within 30 s of SIGTERM; killing it',
    );
    if (!exited) process.kill(target.serverPid, 'SIGKILL');
  }
  await rw?.stop();
}, 90_000);

/** Sends SIGTERM to `pid` and waits until it is gone, at most `ms`. */
async function stopped(pid: number, ms: number): Promise<boolean> {
  const gone = () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  };
  if (gone()) return true;
  process.kill(pid, 'SIGTERM');
  for (const until = Date.now() + ms; Date.now() < until; ) {
    if (gone()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return gone();
}

/** The server's and the agent's log files. */
const logs = () =>
  ['server.log', 'agent/agent.log']
    .map((f) => {
      try {
        return readFileSync(join(rw.dataDir, f), 'utf8');
      } catch {
        return '';
      }
    })
    .join('\n');

it('generates no command outside the harmless set, in any body of any operation', () => {
  const bad: string[] = [];
  for (const op of target.ops) {
    for (const r of fc.sample(requestArbitrary(op, target.pools, target.uploads), { seed: SEED, numRuns: 100 })) {
      let body: unknown;
      try {
        body = typeof r.body === 'string' ? JSON.parse(r.body) : undefined;
      } catch {
        continue; // not JSON: nothing reads a command from it
      }
      // Iterative: some bodies nest 100,000 deep.
      for (const stack = [body]; stack.length; ) {
        const v = stack.pop();
        if (typeof v !== 'object' || v === null) continue;
        for (const [k, x] of Object.entries(v)) {
          if (k === 'command' && typeof x === 'string' && !isHarmlessCommand(x)) bad.push(`${r.op}: ${x.slice(0, 80)}`);
          stack.push(x);
        }
      }
    }
  }
  expect(bad).toEqual([]);
});

it(
  `sends ${COUNT} generated requests (seed ${SEED}) across every route: no 5xx, no hang, both alive after`,
  async () => {
    console.log(`fuzz: seed ${SEED} (replay with REWIND_FUZZ_SEED=${SEED}), ${COUNT} requests, ${target.ops.length} operations`);
    let last = Date.now();
    report = await run(target, {
      seed: SEED,
      count: COUNT,
      concurrency: Number(process.env.REWIND_FUZZ_CONCURRENCY ?? 4),
      timeoutMs: 10_000,
      logs,
      progress: (r) => {
        if (Date.now() - last < 30_000) return;
        last = Date.now();
        console.log(r.line());
      },
    });
    console.log(report.line());
    if (process.env.REWIND_FUZZ_VERBOSE) console.log(`${report.byOperation()}\nresets:\n${report.resets.join('\n')}`);
    for (const f of report.findings) console.log(`FINDING ${f.what} ${f.status}: ${f.request}\n  reply: ${f.reply}\n  log:\n${f.log}`);

    if (report.died)
      console.log(
        `DIED: ${report.died}\n--- server output ---\n${rw.serverLog.slice(-3000)}\n--- server.log ---\n${logs()
          .split('\n')
          .filter((l) => /"level":(50|60)/.test(l))
          .slice(-5)
          .join('\n')}`,
      );
    expect(report.died).toBeNull();
    expect(report.requests).toBeGreaterThanOrEqual(COUNT);
    const thin = [...report.perOp].filter(([, n]) => n < MIN_PER_ROUTE).map(([op, n]) => `${op}: ${n}`);
    expect(thin, 'operations with too few requests').toEqual([]);
    expect(report.perOp.size).toBeGreaterThan(50);
    expect(report.findings.map((f) => `${f.what} ${f.status}: ${f.request}`)).toEqual([]);
    expect(report.hangs).toBe(0);
    expect(report.serverErrors).toBe(0);
    expect(await liveness(target)).toEqual([]);
  },
  TIMEOUT_MS,
);

/**
 * Runs the fuzzer (fuzz-lib.ts) against a real `rewind server` and its agent (test/e2e/harness.ts):
 * seeds an app so that real names and ids exist, sends the generated requests a few at a time,
 * each with a deadline (no answer in time is a hang), and counts what came back. Loopback only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import * as tar from 'tar';
import type { Rewind } from '../e2e/harness.js';
import { fixtureApp } from '../e2e/harness.js';
import { rawTarGz } from '../e2e/tarball.js';
import type { FuzzRequest, Operation, Pools, Uploads } from './fuzz-lib.js';
import { HARMLESS_COMMANDS, agentOperations, apiOperations, opKey, requestArbitrary } from './fuzz-lib.js';

export interface Endpoint {
  readonly url: URL;
  readonly token: string;
}

export interface Outcome {
  /** The HTTP status, or what happened instead. */
  readonly status: number | 'hang' | 'reset';
  readonly excerpt: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
const keepAlive = new Agent({ keepAlive: true, maxSockets: 16 });
const STREAM_TYPES = /text\/event-stream|application\/x-ndjson/;

function authHeader(r: FuzzRequest, token: string): Record<string, string> {
  switch (r.auth) {
    case 'valid':
      return { authorization: `Bearer ${token}` };
    case 'wrong':
      return { authorization: `Bearer ${token.slice(0, -2)}xx` };
    case 'malformed':
      return { authorization: `Bearer${token}` };
    case 'cookie':
      return { cookie: 'rewind_session=v1.YWRtaW4.99999999999999.0000000000000000.AAAA' };
    default:
      return {};
  }
}

/**
 * Sends `r` and reads its answer: a stream (SSE, NDJSON, `follow`) only briefly, anything else
 * whole. No answer, or a body that does not end, within `timeoutMs` is a hang.
 */
export function send(ep: Endpoint, r: FuzzRequest, timeoutMs: number): Promise<Outcome> {
  if (!LOOPBACK.has(ep.url.hostname)) throw new Error(`the fuzzer only talks to loopback, not ${ep.url.hostname}`);
  return new Promise((resolve) => {
    let done = false;
    const finish = (o: Outcome) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve(o);
    };
    const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8');
    const req = request({
      host: ep.url.hostname.replace(/^\[|\]$/g, ''),
      port: ep.url.port,
      method: r.method,
      path: r.path,
      agent: keepAlive,
      headers: { ...r.headers, ...authHeader(r, ep.token), ...(body ? { 'content-length': String(body.length) } : {}) },
    });
    const timer = setTimeout(() => finish({ status: 'hang', excerpt: '' }), timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => finish({ status: 'reset', excerpt: err.code ?? err.message }));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      let excerpt = '';
      const stream = STREAM_TYPES.test(String(res.headers['content-type'])) || /[?&]follow=(true|1)\b/.test(r.path) || isChunkedText(res.headers);
      if (stream) setTimeout(() => finish({ status, excerpt }), 150);
      res.on('data', (b: Buffer) => {
        if (excerpt.length < 600) excerpt += b.toString('utf8', 0, 600);
      });
      res.on('end', () => finish({ status, excerpt }));
      res.on('error', () => finish({ status, excerpt }));
    });
    req.end(body);
  });
}

/** Text without a length (logs), which may be a follow stream. */
const isChunkedText = (h: IncomingHttpHeaders) => h['transfer-encoding'] === 'chunked' && /^text\/plain/.test(String(h['content-type']));

/** What went wrong, with enough to reproduce it. */
export interface Finding {
  readonly what: '5xx' | 'hang';
  readonly request: string;
  readonly status: number | 'hang' | 'reset';
  readonly reply: string;
  readonly at: number;
  /** The server's and the agent's error lines around `at`. */
  log: string;
}

export class FuzzReport {
  requests = 0;
  readonly byClass: Record<string, number> = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, hang: 0, reset: 0 };
  readonly perOp = new Map<string, number>();
  /** Per operation, how many answers of each status (or hang, reset). */
  readonly statuses = new Map<string, Map<string, number>>();
  readonly findings: Finding[] = [];
  /** The last requests sent, newest last: what may have killed a process that is gone. */
  readonly recent: string[] = [];
  /** Connections cut before an answer (a refused oversized request, a keep-alive race), as `code request`. */
  readonly resets: string[] = [];
  /** Set when the server or the agent died during the run (the run stops there). */
  died: string | null = null;
  readonly started = Date.now();

  constructor(
    readonly seed: number,
    ops: readonly Operation[],
  ) {
    for (const o of ops) this.perOp.set(opKey(o), 0);
  }

  record(r: FuzzRequest, o: Outcome): void {
    this.requests++;
    this.recent.push(`${o.status} ${describeRequest(r)}`);
    if (this.recent.length > 16) this.recent.shift();
    this.perOp.set(r.op, (this.perOp.get(r.op) ?? 0) + 1);
    const seen = this.statuses.get(r.op) ?? new Map<string, number>();
    seen.set(String(o.status), (seen.get(String(o.status)) ?? 0) + 1);
    this.statuses.set(r.op, seen);
    if (o.status === 'reset' && this.resets.length < 200) this.resets.push(`${o.excerpt} ${describeRequest(r).slice(0, 200)}`);
    const cls = typeof o.status === 'number' ? `${Math.floor(o.status / 100)}xx` : o.status;
    this.byClass[cls] = (this.byClass[cls] ?? 0) + 1;
    if (o.status === 'hang' || (typeof o.status === 'number' && o.status >= 500)) {
      if (this.findings.length < 50) this.findings.push({ what: o.status === 'hang' ? 'hang' : '5xx', request: describeRequest(r), status: o.status, reply: o.excerpt.slice(0, 300), at: Date.now(), log: '' });
    }
  }

  get hangs(): number {
    return this.byClass.hang ?? 0;
  }
  get serverErrors(): number {
    return this.byClass['5xx'] ?? 0;
  }
  /** The operations with the fewest requests. */
  get leastCovered(): { op: string; n: number } {
    const [op, n] = [...this.perOp].sort((a, b) => a[1] - b[1])[0] ?? ['', 0];
    return { op, n };
  }

  /** One line per operation: `GET /api/apps/{app}: 200×12 404×30 …`. */
  byOperation(): string {
    return [...this.statuses]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([op, m]) => `${op}: ${[...m].sort().map(([s, n]) => `${s}×${n}`).join(' ')}`)
      .join('\n');
  }

  line(): string {
    const c = this.byClass;
    const api = [...this.perOp].filter(([k]) => !k.startsWith('agent ')).length;
    const least = this.leastCovered;
    return (
      `fuzz: seed=${this.seed} requests=${this.requests} 2xx=${c['2xx']} 3xx=${c['3xx']} 4xx=${c['4xx']} 5xx=${c['5xx']} hangs=${c.hang} resets=${c.reset} ` +
      `routes=${api} api + ${this.perOp.size - api} agent, each ≥ ${least.n} requests, in ${((Date.now() - this.started) / 1000).toFixed(1)} s`
    );
  }
}

/** `POST /api/apps/shop/env {"set":…}` (auth valid), cut to a readable length. */
export function describeRequest(r: FuzzRequest): string {
  const body = r.body === undefined ? '' : Buffer.isBuffer(r.body) ? ` <${r.body.length} bytes>` : ` ${r.body.length > 300 ? `${r.body.slice(0, 300)}… (${r.body.length} chars)` : r.body}`;
  return `${r.target === 'agent' ? 'agent ' : ''}${r.method} ${r.path.length > 300 ? `${r.path.slice(0, 300)}…` : r.path}${body} (auth ${r.auth}, ${JSON.stringify(r.headers)})`;
}

// ── seeding ─────────────────────────────────────────────────────────────────────────────────
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

const ids = (list: unknown, field = 'id') => (Array.isArray(list) ? list.map((x) => (x as Record<string, string>)[field]).filter((x): x is string => typeof x === 'string') : []);

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
  await must(rw, 'PUT', '/api/apps/shop/pipelines', { pipelines: { release: ['build', { deploy: { env: 'staging', enableRollback: true } }, { run: { command: 'true', env: 'staging' } }, 'approval'] } });
  await must(rw, 'POST', '/api/templates', { name: 'shop-tpl', version: '1.0', app: 'shop', env: 'production' });
  const runRes = await rw.fetch('/api/apps/shop/pipelines/release/runs', { method: 'POST', headers: { 'content-type': 'application/gzip' }, body: new Uint8Array(await tgz(dir)) });
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
    path: [...artifacts, '/etc/shadow', '/dev/zero', '../../x', `${artifactRoot}/../../agent/agent.token`, '/proc/self/environ', join(rw.dataDir, 'rewind.db'), 'relative.tar.gz'],
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
    writePools: { app: ['fz-agent', 'fz-agent2', 'nope'], env: ['production', 'staging'], name: ['web', 'worker'], static: ['.', 'public', '../..', '/etc'], release: ['RFUZZAAAAAA', 'RFUZZBBBBBB'], 'config.key': ['GREETING', 'constructor', '__proto__'] },
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
      rawTarGz([{ name: '../../escape', body: 'x' }, { name: 'rewind.yml', body: 'components: {}\n' }]),
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

// ── the run ─────────────────────────────────────────────────────────────────────────────────
export interface RunOptions {
  readonly seed: number;
  /** At least this many requests (rounded up to whole rounds over every operation). */
  readonly count: number;
  readonly concurrency?: number;
  readonly timeoutMs?: number;
  /** The server's and the agent's logs (pino lines), for the excerpt beside a finding. */
  readonly logs: () => string;
  readonly progress?: (report: FuzzReport) => void;
}

/**
 * Rounds over every operation: each round draws a few requests per operation from that
 * operation's arbitrary (seeded by seed, round and operation), interleaves them and sends them
 * `concurrency` at a time; between rounds what DELETE took is put back.
 */
export async function run(t: FuzzTarget, o: RunOptions): Promise<FuzzReport> {
  const report = new FuzzReport(o.seed, t.ops);
  const arbs = t.ops.map((op) => requestArbitrary(op, t.pools, t.uploads));
  const perRound = 8;
  const rounds = Math.max(1, Math.ceil(o.count / (perRound * t.ops.length)));
  const timeoutMs = o.timeoutMs ?? 10_000;
  for (let round = 0; round < rounds; round++) {
    const batch = arbs.map((arb, i) => fc.sample(arb, { seed: (o.seed * 7919 + round * 1009 + i) | 0, numRuns: perRound }));
    const queue: FuzzRequest[] = [];
    for (let k = 0; k < perRound; k++) for (const b of batch) queue.push(b[k] as FuzzRequest);
    const worker = async () => {
      for (let r = queue.shift(); r; r = queue.shift()) {
        const outcome = await send(r.target === 'agent' ? t.agent : t.api, r, timeoutMs);
        report.record(r, outcome);
      }
    };
    await Promise.all(Array.from({ length: o.concurrency ?? 4 }, worker));
    const gone = [t.serverPid, t.agentPid].filter((pid) => !isAlive(pid));
    if (gone.length) {
      report.died = `${gone.map((p) => (p === t.serverPid ? `the server (pid ${p})` : `the agent (pid ${p})`)).join(' and ')} died in round ${round + 1}; the last requests:\n${report.recent.join('\n')}`;
      break;
    }
    await t.reseed().catch(() => {}); // a dead server shows in the liveness checks
    o.progress?.(report);
  }
  if (report.findings.length) {
    await new Promise((r) => setTimeout(r, 500)); // pino writes asynchronously
    const lines = o.logs().split('\n');
    for (const f of report.findings) f.log = errorLinesAround(lines, f.at);
  }
  return report;
}

/** Log lines of level error and above (or not JSON) written within 3 s of `at`. */
function errorLinesAround(lines: readonly string[], at: number): string {
  return lines
    .filter((l) => {
      try {
        const e = JSON.parse(l) as { level?: number; time?: number };
        return (e.level ?? 0) >= 50 && Math.abs((e.time ?? 0) - at) < 3000;
      } catch {
        return false;
      }
    })
    .slice(-10)
    .map((l) => l.slice(0, 2000))
    .join('\n');
}

/** After the run: the server and the agent answer their health checks, and their pids are alive. */
const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function liveness(t: FuzzTarget): Promise<string[]> {
  const problems: string[] = [];
  const alive = isAlive;
  if (!alive(t.serverPid)) problems.push(`the server (pid ${t.serverPid}) is gone`);
  if (!alive(t.agentPid)) problems.push(`the agent (pid ${t.agentPid}) is gone`);
  const health = await send(t.api, { target: 'api', op: 'health', method: 'GET', path: '/api/health', auth: 'valid', headers: {} }, 10_000);
  if (health.status !== 200) problems.push(`GET /api/health answered ${health.status}`);
  const agentHealth = await send(t.agent, { target: 'agent', op: 'health', method: 'GET', path: '/v1/health', auth: 'valid', headers: {} }, 10_000);
  if (agentHealth.status !== 200) problems.push(`the agent's GET /v1/health answered ${agentHealth.status}`);
  return problems;
}

export const closeConnections = () => keepAlive.destroy();

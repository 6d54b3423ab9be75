/**
 * Runs the fuzzer (fuzz-lib.ts) against a real `rewind server` and its agent seeded by
 * fuzz-seed.ts: sends the generated requests a few at a time, each with a deadline (no answer in
 * time is a hang), and counts what came back. Loopback only.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import fc from 'fast-check';
import type { FuzzRequest, Operation } from './fuzz-lib.js';
import { opKey, requestArbitrary } from './fuzz-lib.js';
import type { FuzzTarget } from './fuzz-seed.js';

export type { FuzzTarget } from './fuzz-seed.js';
export { seed } from './fuzz-seed.js';

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
      if (this.findings.length < 50)
        this.findings.push({
          what: o.status === 'hang' ? 'hang' : '5xx',
          request: describeRequest(r),
          status: o.status,
          reply: o.excerpt.slice(0, 300),
          at: Date.now(),
          log: '',
        });
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
      .map(
        ([op, m]) =>
          `${op}: ${[...m]
            .sort()
            .map(([s, n]) => `${s}×${n}`)
            .join(' ')}`,
      )
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
  const body =
    r.body === undefined
      ? ''
      : Buffer.isBuffer(r.body)
        ? ` <${r.body.length} bytes>`
        : ` ${r.body.length > 300 ? `${r.body.slice(0, 300)}… (${r.body.length} chars)` : r.body}`;
  return `${r.target === 'agent' ? 'agent ' : ''}${r.method} ${r.path.length > 300 ? `${r.path.slice(0, 300)}…` : r.path}${body} (auth ${r.auth}, ${JSON.stringify(r.headers)})`;
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

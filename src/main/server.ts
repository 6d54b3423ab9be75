import { chmodSync, closeSync, mkdirSync, openSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino, { type Logger } from 'pino';
import { ArtifactStore } from '../artifacts/artifact-store.js';
import { Engine, type EngineOptions } from '../engine/engine.js';
import { Store, redactedUrl } from '../store/store.js';
import { createSwarmTarget, createTarget } from '../targets/create-target.js';
import type { Target, TargetResolver } from '../targets/target.js';
import { TargetRegistry } from '../engine/target-registry.js';
import type { TargetRow } from '../domain/target.js';
import { readAgentToken } from '../protocol/agent-token.js';
import { DEFAULT_LIMITS, buildApp } from '../api/app.js';
import { LoginCodes, Sessions, loadCredentials } from '../api/credentials.js';

export interface ServerOptions {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** Start (or reuse) the local agent; default true. */
  readonly agent?: boolean;
  /** For a newly started agent: the shared host-name port (`APP.localhost:PORT`) and its data plane. */
  readonly httpPort?: number;
  readonly proxy?: 'builtin' | 'nginx';
  /** The URL people reach the server by (a reverse proxy, a name): its host is accepted, links use it. */
  readonly publicUrl?: string;
  /** Serve without authentication (tests only): anyone who reaches the port may run anything. */
  readonly insecureNoAuth?: boolean;
  /** The store in PostgreSQL (`postgres://…`) instead of SQLite in the data dir. */
  readonly databaseUrl?: string;
}

/** The data dir and what holds secrets in it (config values, tokens, logs) are the user's alone. */
function privateDataDir(dataDir: string, sqlite: boolean): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  chmodSync(dataDir, 0o700);
  // SQLite gives the WAL and shared-memory files the mode of the database file.
  for (const file of sqlite ? ['rewind.db', 'server.log'] : ['server.log']) closeSync(openSync(join(dataDir, file), 'a', 0o600));
  for (const file of readdirSync(dataDir)) if (/^rewind\.db|\.log$|\.token$|\.key$/.test(file)) chmodSync(join(dataDir, file), 0o600);
}

const MB = 1024 * 1024;
const envInt = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
/** Like envInt, but 0 is a value (e.g. REWIND_STANDBY_COUNT=0 turns warm standby off). */
const envNum = (name: string, fallback: number) => {
  const raw = process.env[name];
  const v = Number(raw);
  return raw !== undefined && raw !== '' && Number.isFinite(v) && v >= 0 ? v : fallback;
};

/** How long a stopping server lets requests in flight finish before it closes their connections. */
const CLOSE_GRACE_MS = 2000;

/** The engine's settings: the server's defaults, each overridable by its REWIND_* variable. */
function engineOptions(store: Store, targets: TargetResolver, dataDir: string, log: Logger): EngineOptions {
  return {
    store,
    targets,
    artifacts: new ArtifactStore(join(dataDir, 'artifacts')),
    dataDir,
    log,
    proxyHost: '127.0.0.1',
    maxUploadBytes: envInt('REWIND_MAX_UPLOAD_MB', 200) * MB,
    defaults: {
      standbyMinutes: envNum('REWIND_STANDBY_MINUTES', 15),
      standbyCount: envNum('REWIND_STANDBY_COUNT', 1),
      autoRollbackSeconds: envNum('REWIND_AUTO_ROLLBACK_SECONDS', 60),
      drainSeconds: envNum('REWIND_DRAIN_TIMEOUT_MS', 30_000) / 1000,
    },
    buildTimeoutMs: envInt('REWIND_BUILD_TIMEOUT_S', 900) * 1000,
  };
}

/** Who may come in: the data dir's credentials (or REWIND_TOKEN), browser sessions and one-time login codes, the public host. */
function authOptions(dataDir: string, publicUrl: string | undefined, insecureNoAuth: boolean) {
  const { credentials, sessionKey } = loadCredentials(dataDir, process.env.REWIND_TOKEN || undefined);
  return {
    credentials,
    sessions: new Sessions(sessionKey, credentials),
    loginCodes: new LoginCodes(),
    publicHosts: publicUrl ? [new URL(publicUrl).hostname.replace(/^\[|\]$/g, '')] : [],
    secureCookie: publicUrl?.startsWith('https:') ?? false,
    insecureNoAuth,
  };
}

/** The HTTP server's limits, each overridable by its REWIND_* variable. */
function limitsFromEnv() {
  return {
    headersTimeoutMs: envInt('REWIND_HEADERS_TIMEOUT_S', DEFAULT_LIMITS.headersTimeoutMs / 1000) * 1000,
    requestTimeoutMs: envInt('REWIND_REQUEST_TIMEOUT_S', DEFAULT_LIMITS.requestTimeoutMs / 1000) * 1000,
    bodyIdleTimeoutMs: envInt('REWIND_BODY_IDLE_TIMEOUT_S', DEFAULT_LIMITS.bodyIdleTimeoutMs / 1000) * 1000,
    maxConnections: envInt('REWIND_MAX_CONNECTIONS', DEFAULT_LIMITS.maxConnections),
  };
}

/** A target of `rewind targets`: its edges are Rewind agents, called with the local agent's token (never logged). */
function targetOfRow(row: TargetRow, agentDir: string): Target {
  const token = row.edges.length > 0 ? readAgentToken(agentDir) : null;
  return createSwarmTarget({ kind: 'swarm', dockerHost: row.dockerHost, edges: token ? row.edges.map((url) => ({ url, token })) : [] });
}

/** `rewind server`: store, agent, engine and API; recovers unfinished work before it listens. */
export async function startServer(o: ServerOptions): Promise<{ url: string; port: number; loginUrl: string | null; close(): Promise<void> }> {
  const dataDir = resolve(o.dataDir);
  privateDataDir(dataDir, !o.databaseUrl);
  const log = pino({ level: process.env.REWIND_LOG_LEVEL ?? 'info' }, pino.destination({ dest: join(dataDir, 'server.log'), mkdir: true, sync: false }));
  // The control plane must not die of one bug in a background task: log it (it is a bug) and go on.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection (a bug in Rewind)'));
  const store = o.databaseUrl ? await Store.openPostgres(o.databaseUrl) : await Store.openSqlite(dataDir);
  log.info({ store: o.databaseUrl ? redactedUrl(o.databaseUrl) : join(dataDir, 'rewind.db') }, 'store open');
  const binPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'rewind.js');
  const agentDir = join(dataDir, 'agent');
  const agentOptions = {
    dataDir: agentDir,
    binPath,
    log,
    ...(o.httpPort !== undefined ? { httpPort: o.httpPort } : {}),
    ...(o.proxy ? { proxy: o.proxy } : {}),
  };
  const { target, agentUrl } = await createTarget({ kind: 'local', agent: agentOptions });
  const targets = await new TargetRegistry(target, (row) => targetOfRow(row, agentDir)).load(store);
  const engine = new Engine(engineOptions(store, targets, dataDir, log));
  await engine.recover();
  const publicUrl = o.publicUrl ?? (process.env.REWIND_PUBLIC_URL || undefined);
  const auth = authOptions(dataDir, publicUrl, o.insecureNoAuth ?? false);
  if (auth.insecureNoAuth) log.warn('authentication is off (--insecure-no-auth): anyone who reaches the port can run commands as this user');
  const app = await buildApp({ engine, logger: log, auth, limits: limitsFromEnv(), ...(publicUrl ? { publicUrl } : {}) });
  await app.listen({ port: o.port, host: o.host });
  const { port } = app.server.address() as { port: number };
  const url = `http://${o.host === '0.0.0.0' ? '127.0.0.1' : o.host}:${port}`;
  const info = join(dataDir, 'server.json');
  writeFileSync(`${info}.tmp`, JSON.stringify({ pid: process.pid, port, url, agent: agentUrl(), startedAt: new Date().toISOString() }), { mode: 0o600 });
  renameSync(`${info}.tmp`, info);
  log.info({ url, agent: agentUrl() }, 'rewind server listening');
  // Printed once, never logged: the link logs one browser in (the code is then spent).
  const loginUrl = auth.insecureNoAuth ? null : `${publicUrl?.replace(/\/+$/, '') ?? url}/login?token=${auth.loginCodes.issue(auth.credentials[0])}`;
  return {
    url,
    port,
    loginUrl,
    async close() {
      // Requests in flight get a moment to finish; streams that would never end by themselves
      // (the console's live events, logs -f, a running exec) are cut after it.
      const cut = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
      await app.close();
      clearTimeout(cut);
      await engine.close();
      await targets.close();
      await target.close();
      await store.close();
      log.flush();
    },
  };
}

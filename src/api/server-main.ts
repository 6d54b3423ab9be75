import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { ArtifactStore } from '../artifacts/artifact-store.js';
import { Engine } from '../engine/engine.js';
import { Store } from '../store/store.js';
import { ensureLocalAgent } from '../targets/local-agent-process.js';
import { LocalTarget } from '../targets/local-target.js';
import { buildApp } from './app.js';

export interface ServerOptions {
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** Start (or reuse) the local agent; default true. */
  readonly agent?: boolean;
  /** For a newly started agent: the shared host-name port (`APP.localhost:PORT`) and its data plane. */
  readonly httpPort?: number;
  readonly proxy?: 'builtin' | 'nginx';
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

/** `rewind server`: store, agent, engine and API; recovers unfinished work before it listens. */
/** How long a stopping server lets requests in flight finish before it closes their connections. */
const CLOSE_GRACE_MS = 2000;

export async function startServer(o: ServerOptions): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const log = pino({ level: process.env.REWIND_LOG_LEVEL ?? 'info' }, pino.destination({ dest: join(dataDir, 'server.log'), mkdir: true, sync: false }));
  // The control plane must not die of one bug in a background task: log it (it is a bug) and go on.
  process.on('unhandledRejection', (err) => log.error({ err }, 'unhandled rejection (a bug in Rewind)'));
  const store = await Store.openSqlite(dataDir);
  const binPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'rewind.js');
  const agentDir = join(dataDir, 'agent');
  const agentOptions = { dataDir: agentDir, binPath, log, ...(o.httpPort !== undefined ? { httpPort: o.httpPort } : {}), ...(o.proxy ? { proxy: o.proxy } : {}) };
  let agentInfo = await ensureLocalAgent(agentOptions);
  // When the agent has died, the next call finds (or starts) it again.
  const target = new LocalTarget(async () => (agentInfo = await ensureLocalAgent(agentOptions)).url);
  const engine = new Engine({
    store,
    target,
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
  });
  await engine.recover();
  const app = await buildApp({ engine, logger: log, token: process.env.REWIND_TOKEN || undefined });
  await app.listen({ port: o.port, host: o.host });
  const { port } = app.server.address() as { port: number };
  const url = `http://${o.host === '0.0.0.0' ? '127.0.0.1' : o.host}:${port}`;
  const info = join(dataDir, 'server.json');
  writeFileSync(`${info}.tmp`, JSON.stringify({ pid: process.pid, port, url, agent: agentInfo.url, startedAt: new Date().toISOString() }));
  renameSync(`${info}.tmp`, info);
  log.info({ url, agent: agentInfo.url }, 'rewind server listening');
  return {
    url,
    port,
    async close() {
      // Requests in flight get a moment to finish; streams that would never end by themselves
      // (the console's live events, logs -f, a running exec) are cut after it.
      const cut = setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS);
      await app.close();
      clearTimeout(cut);
      await engine.close();
      await target.close();
      await store.close();
      log.flush();
    },
  };
}

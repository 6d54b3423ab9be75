/**
 * The agent: Rewind's data plane, its own process (one per host). `rewind agent --data DIR --port N`
 * calls runAgentProcess; tests call runAgent in-process.
 */
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { pino } from 'pino';
import type { AgentInfo } from '../protocol/agent-protocol.js';
import { AGENT_INFO_FILE } from '../protocol/agent-protocol.js';
import { ensureAgentToken } from '../protocol/agent-token.js';
import { AgentCore } from './agent-core.js';
import { DEFAULT_MAX_ARTIFACT_MB } from './artifact-policy.js';
import { secureAgentDir } from './dir-modes.js';
import { startNginxPlane } from './nginx-plane.js';
import type { AgentLogger } from './agent-context.js';
import { isAlive, processStartTime } from './proc-info.js';
import { SlugCache } from './slug-cache.js';
import type { PersistedState } from './state-file.js';
import { EMPTY_STATE, readState, stateFilePath, writeFileAtomic } from './state-file.js';

export type { AgentLogger } from './agent-context.js';

export interface RunAgentOptions {
  /** The agent's own folder (e.g. `<rewind data>/agent`): state, slugs, logs, agent.json. */
  readonly dataDir: string;
  /** API port; 0 picks a free one. */
  readonly port: number;
  /** API address; default 127.0.0.1. */
  readonly host?: string;
  /** pino (or compatible) logger for the agent's diagnostics; false for none. Default: pino to stderr (REWIND_LOG_LEVEL). */
  readonly log?: AgentLogger | false;
  /** Grace between SIGTERM and SIGKILL when stopping instances; default 5000. */
  readonly stopGraceMs?: number;
  /**
   * The shared port routing by host name (`APP.localhost` → production, `APP.ENV.localhost`); 0 picks
   * a free one; absent or null: none. `rewind agent --http-port N`, default REWIND_HTTP_PORT.
   */
  readonly sharedPort?: number | null;
  /** Who serves the proxy ports: the agent itself (default), or an nginx master it runs (`--proxy nginx`). */
  readonly proxy?: 'builtin' | 'nginx';
  /** The nginx binary for `proxy: 'nginx'`; default `nginx` on PATH. */
  readonly nginxBin?: string;
  /** The bearer token callers must send; default REWIND_AGENT_TOKEN, else `agent.token` in dataDir (created when absent). */
  readonly token?: string;
  /** The only folder artifacts are read from; default `<dataDir>/../artifacts` (the Rewind data dir's artifact store). */
  readonly artifactRoot?: string;
  /** The largest artifact the agent reads; default DEFAULT_MAX_ARTIFACT_MB MiB. */
  readonly maxArtifactBytes?: number;
  /** The ports apps may be given (proxy, route and edge ports); default DEFAULT_PORT_RANGE. */
  readonly portRange?: PortRange;
  /**
   * The address edge routes (PUT /v1/edge/…) listen on: an IP literal, e.g. 0.0.0.0 on a Swarm node.
   * Default REWIND_EDGE_HOST, else 127.0.0.1.
   */
  readonly edgeHost?: string;
}

export interface PortRange {
  readonly lo: number;
  readonly hi: number;
}

/** Unprivileged ports: a desired state cannot make the agent take ssh's, or any other system port. */
export const DEFAULT_PORT_RANGE: PortRange = { lo: 1024, hi: 65535 };

export interface RunningAgent {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** What callers send as `Authorization: Bearer …` (never logged). */
  readonly token: string;
  /** The shared host-name port, when one is open. */
  readonly sharedPort: number | null;
  /** Stops the API and the proxies. Instances keep running (re-adopted at the next start) unless `stopInstances`. */
  close(options?: { stopInstances?: boolean }): Promise<void>;
}

const LOCK_FILE = 'agent.lock';
const silent: AgentLogger = { info() {}, warn() {}, error() {} };
const activeDirs = new Set<string>();

export function agentVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** One agent per data dir: two would adopt (and kill) the same processes. The lock names pid and start time. */
function lockDataDir(dataDir: string): void {
  const path = join(dataDir, LOCK_FILE);
  if (activeDirs.has(dataDir)) throw new Error(`an agent of this process is already using ${dataDir}`);
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid} ${processStartTime(process.pid) ?? ''}\n`);
      closeSync(fd);
      activeDirs.add(dataDir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
    }
    const [pid, start] = readFileSync(path, 'utf8').trim().split(' ');
    const holder = Number(pid);
    if (holder !== process.pid && isAlive(holder, start || undefined)) {
      throw new Error(`another agent (pid ${holder}) is using ${dataDir}; stop it first`);
    }
    rmSync(path, { force: true }); // stale: its agent died
  }
}

function loadState(dataDir: string, logger: AgentLogger): PersistedState {
  try {
    return readState(dataDir);
  } catch (err) {
    const aside = `${stateFilePath(dataDir)}.corrupt-${Date.now()}`;
    logger.error({ err, aside }, 'unreadable agent state file; starting empty');
    renameSync(stateFilePath(dataDir), aside);
    return EMPTY_STATE;
  }
}

export async function runAgent(opts: RunAgentOptions): Promise<RunningAgent> {
  const dataDir = resolve(opts.dataDir);
  const host = opts.host ?? '127.0.0.1';
  const logger: AgentLogger =
    opts.log === false ? silent : (opts.log ?? pino({ name: 'rewind-agent', level: process.env.REWIND_LOG_LEVEL ?? 'info' }, pino.destination(2)));
  const edgeHost = opts.edgeHost ?? (process.env.REWIND_EDGE_HOST || '127.0.0.1');
  if (isIP(edgeHost) === 0) throw new Error(`the edge host must be an IP address (e.g. 0.0.0.0 or 127.0.0.1), not ${JSON.stringify(edgeHost)}`);
  secureAgentDir(dataDir);
  lockDataDir(dataDir);
  try {
    const token = opts.token ?? ensureAgentToken(dataDir);
    const slugs = new SlugCache(dataDir, {
      ...(opts.artifactRoot !== undefined ? { artifactRoot: resolve(opts.artifactRoot) } : { artifactRoot: join(dirname(dataDir), 'artifacts') }),
      maxArtifactBytes: opts.maxArtifactBytes ?? DEFAULT_MAX_ARTIFACT_MB * 1024 * 1024,
    });
    await slugs.cleanup();
    const plane = opts.proxy === 'nginx' ? await startNginxPlane({ dataDir, logger, ...(opts.nginxBin ? { bin: opts.nginxBin } : {}) }) : undefined;
    const core = new AgentCore({
      dataDir,
      slugs,
      logger,
      version: agentVersion(),
      ...(opts.stopGraceMs !== undefined ? { stopGraceMs: opts.stopGraceMs } : {}),
      ...(plane ? { plane } : {}),
      edgeHost,
    });
    // Re-adopt before the API answers, so the control plane never sees a half-loaded agent.
    await core.adopt(loadState(dataDir, logger));
    if (opts.sharedPort !== undefined && opts.sharedPort !== null) {
      // The per-app ports serve anyway: a taken shared port is reported, not fatal.
      await core
        .openShared(opts.sharedPort)
        .catch((err: NodeJS.ErrnoException) =>
          logger.error({ port: opts.sharedPort, err }, `cannot open the shared port ${opts.sharedPort}: ${err.code ?? err.message}`),
        );
    }
    // The proxies serve as soon as adopt() is done; the API (fastify) loads after that.
    const { buildAgentServer } = await import('./agent-server.js');
    const server = buildAgentServer(core, logger, { token, limits: { ports: opts.portRange ?? DEFAULT_PORT_RANGE }, artifacts: slugs.policy });
    await server.listen({ port: opts.port, host });
    const address = server.server.address();
    const port = typeof address === 'object' && address ? address.port : opts.port;
    const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    const info: AgentInfo = { pid: process.pid, port, url: `http://${urlHost}:${port}`, startedAt: new Date().toISOString() };
    writeFileAtomic(join(dataDir, AGENT_INFO_FILE), `${JSON.stringify(info, null, 2)}\n`);
    logger.info({ url: info.url, dataDir, artifacts: slugs.policy.root, ports: opts.portRange ?? DEFAULT_PORT_RANGE }, 'rewind agent listening');
    let closing: Promise<void> | null = null;
    return {
      url: info.url,
      port,
      pid: process.pid,
      token,
      sharedPort: core.plane.sharedPort,
      close: (options) =>
        (closing ??= (async () => {
          // A slug being hashed or unpacked must not hold the shutdown (nor the requests waiting on it).
          slugs.close();
          await server.close();
          await core.close(options?.stopInstances ?? false);
          rmSync(join(dataDir, AGENT_INFO_FILE), { force: true });
          rmSync(join(dataDir, LOCK_FILE), { force: true });
          activeDirs.delete(dataDir);
          logger.info({ dataDir }, 'rewind agent stopped');
        })()),
    };
  } catch (err) {
    rmSync(join(dataDir, LOCK_FILE), { force: true });
    activeDirs.delete(dataDir);
    throw err;
  }
}

/** runAgent plus process signals: SIGTERM/SIGINT close the agent (leaving instances running) and exit. */
export async function runAgentProcess(opts: RunAgentOptions): Promise<RunningAgent> {
  const agent = await runAgent(opts);
  const shutdown = () => {
    void agent.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  return agent;
}

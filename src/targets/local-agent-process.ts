/**
 * Finds the local agent, or starts one: a detached `rewind agent` process that outlives the
 * server, so that restarting the control plane never drops a request to a deployed app. The
 * agent's token is read from its folder (agent.token), so the server needs no set-up to call it.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { RewindError } from '../domain/errors.js';
import type { AgentInfo } from '../protocol/agent-protocol.js';
import { AGENT_INFO_FILE } from '../protocol/agent-protocol.js';
import { readAgentToken } from '../protocol/agent-token.js';

export { readAgentToken } from '../protocol/agent-token.js';

/** agent.json and the token to call that agent with. */
export interface LocalAgentInfo extends AgentInfo {
  readonly token: string;
}

export interface EnsureLocalAgentOptions {
  /** The agent's folder: `<rewind data>/agent`. */
  readonly dataDir: string;
  /** `bin/rewind.js` (or any script taking the same `agent --data DIR --port 0` arguments). */
  readonly binPath: string;
  readonly log?: { info(obj: object, msg?: string): void };
  /** How long a new agent gets to answer; default 10 s. */
  readonly timeoutMs?: number;
  /** A new agent's shared host-name port (`--http-port`); absent: its default (REWIND_HTTP_PORT, inherited). */
  readonly httpPort?: number;
  /** A new agent's data plane (`--proxy`); default builtin. */
  readonly proxy?: 'builtin' | 'nginx';
}

/** The argv that starts an agent for `dataDir` (the CLI's `--data` is the Rewind data dir; the agent uses DATA/agent). */
export function agentProcessArgv(
  binPath: string,
  dataDir: string,
  options: { readonly httpPort?: number; readonly proxy?: 'builtin' | 'nginx' } = {},
): string[] {
  if (basename(dataDir) !== 'agent') throw new Error(`the local agent's folder must be <rewind data>/agent, not ${dataDir}`);
  return [
    binPath,
    'agent',
    '--data',
    dirname(dataDir),
    '--port',
    '0',
    ...(options.httpPort !== undefined ? ['--http-port', String(options.httpPort)] : []),
    ...(options.proxy && options.proxy !== 'builtin' ? ['--proxy', options.proxy] : []),
  ];
}

/** The agent of `dataDir` as it describes itself, with its token; null when either is missing. */
export function readAgentInfo(dataDir: string): LocalAgentInfo | null {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, AGENT_INFO_FILE), 'utf8')) as AgentInfo;
    const token = readAgentToken(dataDir);
    return typeof info.url === 'string' && Number.isInteger(info.pid) && token ? { ...info, token } : null;
  } catch {
    return null;
  }
}

/** True when the agent described by `info` answers its health check with this token (and is that same process). */
export async function agentAnswers(info: LocalAgentInfo, timeoutMs = 1000): Promise<boolean> {
  try {
    const res = await request(`${info.url}/v1/health`, {
      headers: { authorization: `Bearer ${info.token}` },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await res.body.json()) as { ok?: boolean; pid?: number };
    return res.statusCode === 200 && body.ok === true && body.pid === info.pid;
  } catch {
    return false;
  }
}

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** The agent's lock file (src/agent/agent-main.ts writes it: `PID START`). */
const LOCK_FILE = 'agent.lock';

/** The live process other than `not` that holds the agent lock of dataDir, if any. */
function lockHolder(dataDir: string, not: number | undefined): number | null {
  try {
    const holder = Number(readFileSync(join(dataDir, LOCK_FILE), 'utf8').trim().split(' ')[0]);
    if (!Number.isInteger(holder) || holder <= 0 || holder === not) return null;
    process.kill(holder, 0);
    return holder;
  } catch {
    return null;
  }
}

export async function ensureLocalAgent(opts: EnsureLocalAgentOptions): Promise<LocalAgentInfo> {
  const existing = readAgentInfo(opts.dataDir);
  if (existing && (await agentAnswers(existing))) return existing;

  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const logPath = join(opts.dataDir, 'agent.log');
  const fd = openSync(logPath, 'a', 0o600);
  let exited: number | string | null = null;
  let pid: number | undefined;
  try {
    const child = spawn(process.execPath, agentProcessArgv(opts.binPath, opts.dataDir, opts), { detached: true, stdio: ['ignore', fd, fd], env: process.env });
    child.once('exit', (code, signal) => (exited = code ?? signal ?? 'unknown'));
    child.once('error', (err) => (exited = err.message));
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(fd);
  }
  opts.log?.info({ pid, dataDir: opts.dataDir }, 'starting the local Rewind agent');

  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  // Ours lost the race to another agent starting at the same time: wait for that one instead.
  let raced = false;
  while (Date.now() < deadline) {
    await sleep(100);
    const info = readAgentInfo(opts.dataDir);
    // Ours, or another agent that won a race to start: either way one agent answers for dataDir.
    const fresh = info && (info.pid !== existing?.pid || info.startedAt !== existing.startedAt) ? info : null;
    if (fresh && (await agentAnswers(fresh))) return fresh;
    raced ||= exited !== null && lockHolder(opts.dataDir, pid) !== null;
    if (exited !== null && !fresh && !raced) break;
  }
  const why = exited !== null ? `it exited (${exited})` : `it did not answer within ${(opts.timeoutMs ?? 10_000) / 1000}s`;
  const log = tail(logPath, 15);
  throw new RewindError('AGENT_UNAVAILABLE', `could not start the Rewind agent: ${why}; see ${logPath}${log ? `:\n${log}` : ''}`);
}

/**
 * The agent's credential: a random bearer token in `<agent dir>/agent.token` (mode 0600, in a 0700
 * folder), so that only the user the control plane runs as can call the agent. The agent creates
 * it; the control plane on the same host reads it. REWIND_AGENT_TOKEN overrides the file on both
 * sides (for agents on other hosts).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, linkSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const AGENT_TOKEN_FILE = 'agent.token';
export const AGENT_TOKEN_ENV = 'REWIND_AGENT_TOKEN';
/** Shorter tokens from REWIND_AGENT_TOKEN are refused: they could be guessed. */
export const MIN_AGENT_TOKEN_LENGTH = 16;

type Env = Readonly<Record<string, string | undefined>>;

function fromEnv(env: Env): string | null {
  const token = env[AGENT_TOKEN_ENV]?.trim();
  if (!token) return null;
  if (token.length < MIN_AGENT_TOKEN_LENGTH) throw new Error(`${AGENT_TOKEN_ENV} must be at least ${MIN_AGENT_TOKEN_LENGTH} characters`);
  return token;
}

function readTokenFile(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim() || null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** The token to send to the agent of `agentDir` (`Authorization: Bearer …`); null when it has none yet. */
export function readAgentToken(agentDir: string, env: Env = process.env): string | null {
  return fromEnv(env) ?? readTokenFile(join(agentDir, AGENT_TOKEN_FILE));
}

/**
 * The agent's side: its token, created when absent (32 random bytes, base64url). The file appears
 * whole or not at all (written aside, then hard-linked into place, which fails if it exists).
 */
export function ensureAgentToken(agentDir: string, env: Env = process.env): string {
  const given = fromEnv(env);
  if (given) return given;
  const path = join(agentDir, AGENT_TOKEN_FILE);
  const existing = readTokenFile(path);
  if (existing) {
    chmodSync(path, 0o600);
    return existing;
  }
  const token = randomBytes(32).toString('base64url');
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${token}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    rmSync(path, { force: true }); // an empty file left by a crash
    linkSync(tmp, path);
    return token;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readTokenFile(path) ?? token; // another agent won the race: its token is the one
  } finally {
    rmSync(tmp, { force: true });
  }
}

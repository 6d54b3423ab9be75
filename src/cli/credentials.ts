import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_TOKEN_FILE } from '../domain/auth.js';
import { dataDir } from './options.js';

/** `http://localhost:7070` and `http://127.0.0.1:7070/` are the same server; `[::1]` too. */
function sameServer(a: string, b: string): boolean {
  const norm = (u: string) => {
    const url = new URL(u);
    const host = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) ? 'loopback' : url.hostname;
    return `${url.protocol}//${host}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
  };
  try {
    return norm(a) === norm(b);
  } catch {
    return false;
  }
}

/**
 * The token the CLI sends: REWIND_TOKEN, else the admin token of the server that runs from this
 * user's data dir (REWIND_DATA, else ~/.rewind) — only when REWIND_HOST is that very server, so a
 * local token is never sent to another one.
 */
export function findToken(env: Readonly<Record<string, string | undefined>>, host: string): string | undefined {
  if (env.REWIND_TOKEN) return env.REWIND_TOKEN;
  const dir = dataDir(undefined, env);
  try {
    const server = JSON.parse(readFileSync(join(dir, 'server.json'), 'utf8')) as { url?: string };
    if (typeof server.url !== 'string' || !sameServer(server.url, host)) return undefined;
    return readFileSync(join(dir, ADMIN_TOKEN_FILE), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * How the API's credentials are made, stored and checked. A token is 32 random bytes; the server
 * keeps only its SHA-256 and compares digests in constant time. The admin token's plain text lives
 * in one place, the data dir's admin.token (0600), which is the credential the CLI on this machine
 * reads; REWIND_TOKEN, when set, replaces it.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_TOKEN_FILE } from '../domain/auth.js';
import { sameDigest, tokenDigest } from '../protocol/http-guard.js';

/** A credential the server accepts: who it is (the audit log's actor) and the digest of its token. */
export interface Credential {
  readonly name: string;
  readonly digest: Buffer;
}

const SESSION_KEY_FILE = 'session.key';

export { tokenDigest };

/** A new token: `rwd_` and 43 base64url characters (256 random bits). */
export const newToken = (): string => `rwd_${randomBytes(32).toString('base64url')}`;

/** The credential whose digest equals the token's, compared in constant time; null for none. */
export function findCredential(credentials: readonly Credential[], token: string): Credential | null {
  const digest = tokenDigest(token);
  let found: Credential | null = null;
  // Every credential is compared, so the time taken says nothing about which one matched.
  for (const c of credentials) if (sameDigest(c.digest, digest)) found = c;
  return found;
}

/** Reads a private file, or creates it (mode 0600, never overwriting) with `make()`; an existing one is made 0600. */
function privateFile(path: string, make: () => string): string {
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, make());
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    chmodSync(path, 0o600);
  }
  return readFileSync(path, 'utf8').trim();
}

export interface ServerCredentials {
  readonly credentials: readonly Credential[];
  /** Signs the console's login cookies; made once per data dir. */
  readonly sessionKey: Buffer;
  /** Where the admin token is, when the server made or read one (not with REWIND_TOKEN). */
  readonly adminTokenFile: string | null;
}

/**
 * The credentials of a server over `dataDir`: REWIND_TOKEN when given (named "token"), else the
 * admin token of the data dir, made on first start.
 */
export function loadCredentials(dataDir: string, envToken: string | undefined): ServerCredentials {
  const sessionKey = Buffer.from(
    privateFile(join(dataDir, SESSION_KEY_FILE), () => randomBytes(32).toString('base64url')),
    'base64url',
  );
  if (envToken) return { credentials: [{ name: 'token', digest: tokenDigest(envToken) }], sessionKey, adminTokenFile: null };
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  const token = privateFile(file, () => `${newToken()}\n`);
  if (!token) throw new Error(`${file} is empty; delete it and restart the server to make a new admin token`);
  return { credentials: [{ name: 'admin', digest: tokenDigest(token) }], sessionKey, adminTokenFile: file };
}

/**
 * Console sessions: a cookie `v1.NAME.EXPIRY.CRED.MAC`, where CRED names the credential it was
 * made from (so a removed token ends its sessions too) and MAC is an HMAC-SHA256 of the rest.
 */
export class Sessions {
  constructor(
    private readonly key: Buffer,
    private readonly credentials: readonly Credential[],
    private readonly ttlMs = 7 * 24 * 3600 * 1000,
  ) {}

  get maxAgeSeconds(): number {
    return Math.floor(this.ttlMs / 1000);
  }

  issue(credential: Credential, now = Date.now()): string {
    const body = `v1.${Buffer.from(credential.name).toString('base64url')}.${now + this.ttlMs}.${credential.digest.subarray(0, 8).toString('hex')}`;
    return `${body}.${this.mac(body)}`;
  }

  /** The credential a cookie stands for, or null when it is forged, expired or its token is gone. */
  verify(cookie: string, now = Date.now()): Credential | null {
    const parts = cookie.split('.');
    if (parts.length !== 5 || parts[0] !== 'v1') return null;
    const body = parts.slice(0, 4).join('.');
    const mac = Buffer.from(parts[4], 'base64url');
    const expected = Buffer.from(this.mac(body), 'base64url');
    if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return null;
    if (!(Number(parts[2]) > now)) return null;
    return this.credentials.find((c) => c.digest.subarray(0, 8).toString('hex') === parts[3]) ?? null;
  }

  private mac(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url');
  }
}

/**
 * One-time console login links: each code logs one browser in once, then is gone. Codes live in
 * this server's memory only; at most `max` are outstanding (the oldest go first).
 */
export class LoginCodes {
  private readonly codes = new Map<string, { credential: Credential; expires: number }>();

  constructor(
    readonly ttlMs = 24 * 3600 * 1000,
    private readonly max = 50,
  ) {}

  issue(credential: Credential, now = Date.now()): string {
    const code = randomBytes(24).toString('base64url');
    this.codes.set(tokenDigest(code).toString('hex'), { credential, expires: now + this.ttlMs });
    while (this.codes.size > this.max) this.codes.delete(this.codes.keys().next().value as string);
    return code;
  }

  consume(code: string, now = Date.now()): Credential | null {
    const key = tokenDigest(code).toString('hex');
    const entry = this.codes.get(key);
    this.codes.delete(key);
    return entry && entry.expires > now ? entry.credential : null;
  }
}

/**
 * The checks the API and the agent both make on a request before anything else: whose host it
 * was sent to (DNS rebinding), and whether it carries the token (in constant time).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/** `Host: name:port` → `name` in lower case (`[::1]:7070` → `::1`); null when it is not a host header at all. */
export function hostNameOf(host: string | undefined): string | null {
  if (!host) return null;
  const m = /^\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?$/.exec(host) ?? /^([^:[\]]+)(?::\d{1,5})?$/.exec(host);
  return m?.[1]?.toLowerCase() ?? null;
}

/**
 * A page can make a browser send only a host name its owner controls, so an IP literal cannot be
 * rebound; of names, only `localhost` is always ours.
 */
export function isIpOrLocalhost(name: string | null): boolean {
  return name !== null && (name === 'localhost' || isIP(name) !== 0);
}

export const tokenDigest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** The token of `Authorization: Bearer TOKEN`, or null. */
export function bearerToken(authorization: string | undefined): string | null {
  return /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1] ?? null;
}

/** Compares two SHA-256 digests in constant time. */
export const sameDigest = (a: Buffer, b: Buffer): boolean => a.length === b.length && timingSafeEqual(a, b);
